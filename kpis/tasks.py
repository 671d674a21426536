"""Celery tasks of the SLA engine: thin wrappers over the rule modules (JSON arguments only).

Each task takes ids and ISO strings, runs under a time limit with late acknowledgement, and calls a
plain function that tests and ``manage.py run_sla_checks`` call directly. Concurrency safety is in the
services (``common.sql.job_lock``, ``DigestDelivery``), not here.
"""

import logging
import smtplib

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from . import attrition, breaches, digest, pending, periods
from .models import SLA
from .signals import breaches_checked

logger = logging.getLogger(__name__)

JOB_LIMITS = {"acks_late": True, "soft_time_limit": 8 * 60, "time_limit": 10 * 60}


@shared_task(name="kpis.tasks.detect_breaches", **JOB_LIMITS)
def detect_breaches(sla_ids=None, figures=None, today=None, contract_ids=None):
    """Rules 1–3 and 5 (``kpis.breaches.detect_breaches``). ``contract_ids`` / ``sla_ids``: restrict to
    these contracts / the contracts of these SLAs; ``figures``: to what changed ``[sla_id,
    "YYYY-MM-DD"]`` figures bear on. Then ``breaches_checked`` for the contracts it looked at."""
    summary = breaches.detect_breaches(sla_ids=sla_ids, figures=figures, today=_date(today), contract_ids=contract_ids)
    logger.info("detect_breaches(%s): %s", _scope_label(sla_ids, figures, contract_ids), summary)
    if sla_ids is None and figures is None and contract_ids is None:
        checked = None
    else:
        slas = {int(pk) for pk in sla_ids or ()} | {int(figure[0]) for figure in figures or ()}
        checked = set(contract_ids or ()) | SLA.objects.contract_ids(slas)
    breaches_checked.send(sender=detect_breaches, contract_ids=checked, today=_date(today))
    return summary


@shared_task(name="kpis.tasks.run_pending_checks", acks_late=True, soft_time_limit=5 * 60, time_limit=6 * 60)
def run_pending_checks(today=None):
    """The checks owed after changes (``kpis.pending``): queued after each change commits, and every minute
    by beat as a sweep. Then ``breaches_checked`` for the contracts it looked at."""
    summary = pending.run_pending_checks(today=_date(today))
    if summary["contract_ids"]:
        logger.info("run_pending_checks: %s", summary)
        breaches_checked.send(sender=run_pending_checks, contract_ids=summary["contract_ids"], today=_date(today))
    return summary


def _scope_label(sla_ids, figures, contract_ids):
    if figures is not None:
        return f"{len(figures)} figures"
    if contract_ids is not None:
        return f"{len(contract_ids)} contracts"
    return "all" if sla_ids is None else f"{len(sla_ids)} SLAs"


@shared_task(name="kpis.tasks.compute_attrition", **JOB_LIMITS)
def compute_attrition(month=None):
    """Rule 6 for ``month`` (``"2026-05"``; default: the previous calendar month)."""
    result = attrition.compute_attrition(month)
    logger.info("compute_attrition(%s): %s", result["month"], result)
    return result


@shared_task(name="kpis.tasks.send_weekly_breach_digest", **JOB_LIMITS)
def send_weekly_breach_digest(week=None):
    """Rule 7: plan one delivery per recipient for ISO ``week`` (default: the previous week) and queue one
    ``send_breach_digest_batch`` per batch of deliveries still to send (``kpis.digest.BATCH_SIZE``)."""
    week = week or periods.previous_iso_week(timezone.localdate())
    periods.parse_iso_week(week)  # a readable error for a bad argument
    batches = digest.plan_weekly_batches(week)
    for batch in batches:
        transaction.on_commit(lambda ids=batch: send_breach_digest_batch.delay(ids))
    queued = sum(len(batch) for batch in batches)
    logger.info("send_weekly_breach_digest(%s): %s e-mails queued in %s batches", week, queued, len(batches))
    return {"week": week, "queued": queued}


EMAIL_RETRIES = {
    "acks_late": True,
    "autoretry_for": (smtplib.SMTPException, OSError),
    "retry_backoff": 30,
    "retry_backoff_max": 10 * 60,
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task(name="kpis.tasks.send_breach_digest_batch", soft_time_limit=5 * 60, time_limit=6 * 60, **EMAIL_RETRIES)
def send_breach_digest_batch(delivery_ids):
    """Build and send a batch of planned digests over one SMTP connection (``kpis.digest.deliver_digests``).
    A failed send is retried with backoff, the whole batch again: what went out is not claimed again."""
    report = digest.deliver_digests(delivery_ids)
    report.raise_first_error()
    return {outcome: report.count(outcome) for outcome in set(report.outcomes.values())}


@shared_task(name="kpis.tasks.send_breach_digest_email", soft_time_limit=120, time_limit=180, **EMAIL_RETRIES)
def send_breach_digest_email(delivery_id):
    """Send one claimed digest (``kpis.digest.deliver_digest``); SMTP errors are retried with backoff and
    the delivery row makes sure it is never sent twice. (Before batches, one task per e-mail was queued.)"""
    return digest.deliver_digest(delivery_id)


def _date(value):
    import datetime

    return datetime.date.fromisoformat(value) if value else None
