"""Following the engine: after each committed breach check (``kpis.signals.breaches_checked``) the feed is
read at once; the every-minute sweep catches whatever a lost message leaves."""

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def dispatch_after_breach_check(sender=None, **kwargs):
    transaction.on_commit(queue_dispatch)


def queue_dispatch():
    from .tasks import dispatch_events

    try:
        dispatch_events.apply_async(retry=False)
    except Exception:
        logger.warning("Could not queue the webhook dispatch; the sweep will run it.", exc_info=True)
