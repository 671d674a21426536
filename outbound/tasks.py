"""Celery tasks of the webhooks and alerts: thin wrappers over ``outbound.events`` and ``outbound.deliveries``."""

import logging

from celery import shared_task
from django.db import transaction

from . import deliveries, events

logger = logging.getLogger(__name__)


@shared_task(name="outbound.tasks.dispatch_events", acks_late=True, soft_time_limit=4 * 60, time_limit=5 * 60)
def dispatch_events():
    """Read new events into deliveries (``outbound.events.dispatch_events``) and queue each delivery: after
    every committed breach check, and every minute by beat as a sweep (it also re-queues lost retries)."""
    summary = events.dispatch_events()
    delivery_ids = summary.pop("delivery_ids")
    for delivery_id in delivery_ids:
        transaction.on_commit(lambda pk=delivery_id: deliver.delay(pk))
    if summary["events"] or delivery_ids:
        logger.info("dispatch_events: %s, %s deliveries queued", summary, len(delivery_ids))
    return {**summary, "queued": len(delivery_ids)}


@shared_task(
    bind=True, name="outbound.tasks.deliver", acks_late=True, soft_time_limit=60, time_limit=90, max_retries=None
)
def deliver(self, delivery_id):
    """One try of one delivery (``outbound.deliveries.deliver``); a failed try is retried by Celery after the
    backoff the delivery row sets, until ``OUTBOUND_MAX_ATTEMPTS`` tries."""
    result = deliveries.deliver(delivery_id)
    if result.retry_in is not None:
        logger.info("deliver(%s): failed, next try in %ss", delivery_id, result.retry_in)
        raise self.retry(countdown=result.retry_in)
    return result.outcome
