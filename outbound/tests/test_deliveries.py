"""Deliveries against a local HTTP receiver: signed, retried with backoff, every try logged, delivered
once, redirects not followed, short timeouts, given up after the last try."""

import datetime
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from kpis.breaches import detect_breaches
from kpis.models import Measurement
from outbound import deliveries, events
from outbound.admin import WebhookEndpointForm
from outbound.models import Delivery, WebhookEndpoint
from outbound.tests.conftest import OCTOBER, TODAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivery_to(monthly_sla):
    """``delivery_to(url)``: the endpoint at ``url`` and the delivery of one breach.recorded event to it."""

    def make(url, **endpoint):
        WebhookEndpoint.objects.create(name="ITSM", url=url, events=["breach.recorded"], **endpoint)
        events.dispatch_events()
        Measurement.objects.create(sla=monthly_sla, period_start=OCTOBER, value=Decimal("60"))
        detect_breaches(today=TODAY)
        [delivery_id] = events.dispatch_events()["delivery_ids"]
        return Delivery.objects.get(pk=delivery_id)

    return make


def later(seconds):
    return timezone.now() + datetime.timedelta(seconds=seconds)


def test_a_delivery_is_signed_and_the_receiver_can_check_it(delivery_to, receiver):
    delivery = delivery_to(receiver.url)
    assert deliveries.deliver(delivery.pk).outcome == "delivered"
    [request] = receiver.requests
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-SLA-Event"] == "breach.recorded"
    assert request.headers["X-SLA-Delivery"] == f"{delivery.event_id}-{delivery.endpoint_id}"
    assert receiver.verify(request, delivery.endpoint.secret)
    assert not receiver.verify(request, "another secret")
    assert json.loads(request.body)["id"] == delivery.event_id
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.body.encode()) == ("delivered", 1, request.body)


def test_a_receiver_failing_twice_gets_one_delivery_after_three_logged_tries(delivery_to, receiver, settings):
    settings.OUTBOUND_RETRY_BACKOFF_SECONDS = 30
    receiver.plan = [500, 503]
    delivery = delivery_to(receiver.url)

    first = deliveries.deliver(delivery.pk)
    assert (first.outcome, first.retry_in) == ("failed", 30)
    assert deliveries.deliver(delivery.pk).outcome == "not due"  # a duplicate message before the backoff
    second = deliveries.deliver(delivery.pk, now=later(31))
    assert (second.outcome, second.retry_in) == ("failed", 60)  # doubled
    assert deliveries.deliver(delivery.pk, now=later(92)).outcome == "delivered"
    assert deliveries.deliver(delivery.pk, now=later(3600)).outcome == "nothing to do"

    log = list(delivery.attempt_log.values_list("number", "succeeded", "status_code", "error"))
    assert log == [(1, False, 500, "receiver says no"), (2, False, 503, "receiver says no"), (3, True, 200, "")]
    assert all(row.response_ms is not None for row in delivery.attempt_log.all())
    assert len(receiver.requests) == 3
    assert len({request.body for request in receiver.requests}) == 1  # the same bytes every time
    assert len({request.headers["X-SLA-Delivery"] for request in receiver.requests}) == 1


def test_a_redirect_is_not_followed(delivery_to, receiver):
    receiver.plan = [301]
    delivery = delivery_to(receiver.url)
    assert deliveries.deliver(delivery.pk).outcome == "failed"
    attempt = delivery.attempt_log.get()
    assert (attempt.status_code, attempt.error) == (301, "Redirect to http://127.0.0.1:1/elsewhere not followed.")
    assert len(receiver.requests) == 1


def test_a_receiver_that_does_not_answer_in_time_is_a_failed_try(delivery_to, receiver, settings):
    settings.OUTBOUND_TIMEOUT_SECONDS = 0.3
    receiver.plan = [("sleep", 1.5)]
    delivery = delivery_to(receiver.url)
    assert deliveries.deliver(delivery.pk).outcome == "failed"
    attempt = delivery.attempt_log.get()
    assert attempt.status_code is None and "ReadTimeoutError" in attempt.error and attempt.response_ms < 1500


def test_the_last_failed_try_gives_up(delivery_to, receiver, settings):
    settings.OUTBOUND_MAX_ATTEMPTS = 3
    receiver.plan = [500, 500, 500, 200]
    delivery = delivery_to(receiver.url)
    outcomes = [deliveries.deliver(delivery.pk, now=later(hours * 3600)).outcome for hours in range(4)]
    assert outcomes == ["failed", "failed", "gave up", "nothing to do"]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, len(receiver.requests)) == ("failed", 3, 3)


def test_backoff_doubles_and_stays_under_the_brokers_visibility_timeout(settings):
    settings.OUTBOUND_RETRY_BACKOFF_SECONDS = 30
    assert [deliveries.backoff(n) for n in range(1, 8)] == [30, 60, 120, 240, 480, 600, 600]
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] > deliveries.MAX_BACKOFF


def test_an_endpoint_switched_off_before_its_delivery_went_is_cancelled(delivery_to, receiver):
    delivery = delivery_to(receiver.url)
    WebhookEndpoint.objects.update(active=False)
    assert deliveries.deliver(delivery.pk).outcome == "cancelled"
    assert receiver.requests == []


def test_a_lost_retry_is_queued_again_by_the_sweep(delivery_to, receiver):
    receiver.plan = [500]
    delivery = delivery_to(receiver.url)
    deliveries.deliver(delivery.pk)
    assert events.dispatch_events()["delivery_ids"] == []  # its retry is not due yet
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - datetime.timedelta(minutes=5))
    assert events.dispatch_events()["delivery_ids"] == [delivery.pk]


@pytest.mark.parametrize(
    "url, error",
    [
        ("ftp://example.com/hook", "Enter an http:// or https:// URL."),
        ("file:///etc/passwd", "Enter a valid URL."),
        ("javascript:alert(1)", "Enter a valid URL."),
    ],
)
def test_an_endpoint_url_must_be_http_or_https(url, error):
    form = WebhookEndpointForm(data={"name": "x", "url": url, "secret": "s", "events": ["breach.recorded"]})
    assert not form.is_valid()
    assert form.errors["url"] == [error]


def test_an_endpoint_needs_at_least_one_event():
    form = WebhookEndpointForm(data={"name": "x", "url": "https://example.com/hook", "secret": "s"})
    assert not form.is_valid() and "events" in form.errors


def test_the_readmes_receiver_snippet_accepts_a_real_delivery_and_refuses_a_tampered_one(delivery_to, receiver):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    [snippet] = re.findall(r"```python\n(.*?def verify\(.*?)```", readme, re.DOTALL)
    namespace = {}
    exec(snippet, namespace)  # noqa: S102  (our own README's code, run as a receiver would)
    delivery = delivery_to(receiver.url)
    deliveries.deliver(delivery.pk)
    [request] = receiver.requests
    verify = namespace["verify"]
    assert verify(delivery.endpoint.secret, request.headers, request.body)
    assert not verify(delivery.endpoint.secret, request.headers, request.body.replace(b"60.00", b"99.00"))
    assert not verify("wrong secret", request.headers, request.body)


def test_a_delivery_about_a_contract_deleted_meanwhile_is_cancelled(delivery_to, receiver):
    delivery = delivery_to(receiver.url)
    delivery.event.breach.contract.delete()
    assert deliveries.deliver(delivery.pk).outcome == "cancelled"
    assert receiver.requests == [] and Delivery.objects.get(pk=delivery.pk).status == "cancelled"
