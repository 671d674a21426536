"""Queue a breach check for SLAs whose figures just changed, once the transaction commits.

Views, imports and the API call this after saving measurements so a breach shows within seconds;
the hourly ``kpis.tasks.detect_breaches`` run catches anything else.
"""

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def queue_breach_check(sla_ids):
    sla_ids = sorted({int(pk) for pk in sla_ids})
    if not sla_ids:
        return

    def _send():
        from kpis.tasks import detect_breaches

        try:
            detect_breaches.delay(sla_ids=sla_ids)
        except Exception:  # the figures are saved; the hourly run will check them if the broker is down
            logger.exception("Could not queue a breach check for SLAs %s", sla_ids)

    transaction.on_commit(_send)
