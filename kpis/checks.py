"""Queue a breach check for figures that just changed, once the transaction commits.

Views, imports and the API call this after saving measurements so a breach shows within seconds;
the hourly ``kpis.tasks.detect_breaches`` run catches anything else.
"""

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def queue_breach_check(figures):
    """``figures``: ``(sla_id, period_start)`` of each figure recorded, corrected or deleted."""
    figures = sorted({(int(pk), day.isoformat()) for pk, day in figures})
    if not figures:
        return

    def _send():
        from kpis.tasks import detect_breaches

        try:
            detect_breaches.delay(figures=figures)
        except Exception:  # the figures are saved; the hourly run will check them if the broker is down
            logger.exception("Could not queue a breach check for figures %s", figures)

    transaction.on_commit(_send)
