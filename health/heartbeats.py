"""Cheap heartbeats for ``/health/``: the last finished breach check and beat's last tick.

The breach engine knows nothing of them: a Celery ``task_postrun`` handler records a successful
``kpis.tasks.detect_breaches`` (and ``kpis.signals.breaches_checked`` a whole check run by
``manage.py run_sla_checks``), and beat schedules ``health.tasks.beat_heartbeat`` every minute.
"""

import logging

from celery import signals
from django.utils import timezone

logger = logging.getLogger(__name__)

BREACH_CHECK = "breach_check"
BEAT = "beat"
BREACH_CHECK_TASK = "kpis.tasks.detect_breaches"


def record(name, at=None):
    """Upsert one row: a single statement, safe when two workers finish at once."""
    from .models import Heartbeat

    Heartbeat.objects.bulk_create(
        [Heartbeat(name=name, at=at or timezone.now())],
        update_conflicts=True,
        unique_fields=["name"],
        update_fields=["at"],
    )


def last_seen():
    """``{name: datetime}`` of every heartbeat recorded."""
    from .models import Heartbeat

    return dict(Heartbeat.objects.values_list("name", "at"))


def on_task_postrun(sender=None, task=None, state=None, **kwargs):
    if getattr(task, "name", None) != BREACH_CHECK_TASK or state != "SUCCESS":
        return
    try:
        record(BREACH_CHECK)
    except Exception:  # a heartbeat must never fail the task that already succeeded
        logger.exception("could not record the %s heartbeat", BREACH_CHECK)


def on_breaches_checked(sender=None, contract_ids=None, **kwargs):
    """A whole breach check run outside a worker (``manage.py run_sla_checks``, e.g. from cron) counts too."""
    if contract_ids is None:
        record(BREACH_CHECK)


def connect_signals():
    from kpis.signals import breaches_checked

    signals.task_postrun.connect(on_task_postrun, dispatch_uid="health.breach_check_heartbeat")
    breaches_checked.connect(on_breaches_checked, dispatch_uid="health.whole_breach_check_heartbeat")
