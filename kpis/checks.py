"""Queue a breach check for SLAs whose figures just changed, once the transaction commits.

Views, imports and the API call this after saving measurements so a breach shows within seconds;
the hourly ``kpis.tasks.detect_breaches`` run catches anything else.
"""

from django.db import transaction


def queue_breach_check(sla_ids):
    sla_ids = sorted({int(pk) for pk in sla_ids})
    if not sla_ids:
        return

    def _send():
        from kpis.tasks import detect_breaches

        detect_breaches.delay(sla_ids=sla_ids)

    transaction.on_commit(_send)
