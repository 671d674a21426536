"""Delivering one event to one target, at most once, with every try on record.

``deliver(delivery_id)`` claims the delivery row (``SELECT … FOR UPDATE SKIP LOCKED``: a second worker
holding the same message skips it), sends, and in the same transaction writes the ``DeliveryAttempt``
and marks the delivery ``delivered`` — so once a try succeeded and committed, no later run sends it
again. A failed try sets when the next one is due (exponential backoff from
``OUTBOUND_RETRY_BACKOFF_SECONDS``, at most ``MAX_BACKOFF``); after ``OUTBOUND_MAX_ATTEMPTS`` tries the
delivery is ``failed`` (an admin may queue it again). The task (``outbound.tasks.deliver``) asks Celery to
retry after the delay this returns.

Receivers still see a POST twice if a worker dies after the receiver answered and before the commit:
``X-SLA-Delivery`` is the same on every try of a delivery, for them to drop a repeat.
"""

import datetime
from dataclasses import dataclass

from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.utils import timezone

from kpis.emails import render_email

from . import payloads, transports
from .choices import AlertChannel, DeliveryStatus
from .models import AlertSubscription, Delivery, DeliveryAttempt, WebhookEndpoint

# Under the broker's visibility timeout (a retry waits in a worker unacknowledged): tests/test_celery_config.py.
MAX_BACKOFF = 10 * 60


@dataclass
class Result:
    outcome: str  # "delivered", "failed" (will be retried), "gave up", "cancelled", "not due", "nothing to do"
    retry_in: float | None = None


def backoff(attempts):
    """Seconds before try ``attempts + 1``: the base, doubled after each failed try, capped."""
    return get_exponential_backoff_interval(
        factor=settings.OUTBOUND_RETRY_BACKOFF_SECONDS, retries=attempts - 1, maximum=MAX_BACKOFF, full_jitter=False
    )


def deliver(delivery_id, now=None):
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(pk=delivery_id, status=DeliveryStatus.PENDING)
            .first()
        )
        if delivery is None:  # delivered, given up, or a worker is on it right now
            return Result("nothing to do")
        now = now or timezone.now()
        if delivery.next_attempt_at > now + datetime.timedelta(seconds=1):
            return Result("not due")  # a second message for a delivery whose retry is already scheduled
        target = delivery.endpoint if delivery.endpoint_id else delivery.subscription
        if not target.active:
            delivery.status = DeliveryStatus.CANCELLED
            delivery.save(update_fields=["status"])
            return Result("cancelled")
        try:
            if isinstance(target, WebhookEndpoint):
                outcome = send_webhook(delivery, target)
            else:
                outcome = send_alert(delivery, target)
        except ObjectDoesNotExist:  # its contract or digest was deleted before it went: nothing left to tell
            delivery.status = DeliveryStatus.CANCELLED
            delivery.save(update_fields=["status"])
            return Result("cancelled")
        delivery.attempts += 1
        DeliveryAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempts,
            started_at=now,
            succeeded=outcome.succeeded,
            status_code=outcome.status_code,
            response_ms=outcome.response_ms,
            error=outcome.error,
        )
        retry_in = None
        if outcome.succeeded:
            delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, timezone.now()
        elif delivery.attempts >= settings.OUTBOUND_MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.FAILED
        else:
            retry_in = backoff(delivery.attempts)
            delivery.next_attempt_at = timezone.now() + datetime.timedelta(seconds=retry_in)
        delivery.save()
    if outcome.succeeded:
        return Result("delivered")
    return Result("failed", retry_in) if retry_in is not None else Result("gave up")


def send_webhook(delivery, endpoint):
    if not delivery.body:
        delivery.body = payloads.to_json(payloads.event_payload(delivery.event))
    body = delivery.body.encode()
    headers = transports.webhook_headers(endpoint.secret, body, delivery.event.type, delivery.idempotency_key)
    return transports.post_json(endpoint.url, body, headers)


def send_alert(delivery, subscription):
    alert = payloads.breach_alert(delivery.event)
    return send_alert_to(subscription, alert, delivery)


def send_alert_to(subscription, alert, delivery=None):
    """Send ``alert`` by the subscription's channel; ``delivery`` (when a real event) keeps what was sent."""
    if subscription.channel == AlertChannel.EMAIL:
        message = alert_email(subscription, alert)
        if delivery is not None and not delivery.body:
            delivery.body = f"Subject: {message.subject}\n\n{message.body}"
        return transports.send_email(message)
    shape = payloads.slack_message if subscription.channel == AlertChannel.SLACK else payloads.teams_message
    body = payloads.to_json(shape(alert))
    if delivery is not None and not delivery.body:
        delivery.body = body
    sent = delivery.body if delivery is not None else body
    return transports.post_json(subscription.webhook_url, sent.encode())


def alert_email(subscription, alert):
    return render_email("breach_alert", {"alert": alert}, [subscription.user.email])


def send_test_alert(subscription: AlertSubscription):
    """ "Send a test alert": the sample alert by the subscription's channel, now, nothing recorded."""
    return send_alert_to(subscription, payloads.sample_alert())
