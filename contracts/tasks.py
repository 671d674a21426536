"""Celery tasks for contracts: thin wrappers over ``contracts.replacements`` and ``contracts.renewals``."""

import logging

from celery import shared_task

from kpis.tasks import JOB_LIMITS

from . import renewals, replacements

logger = logging.getLogger(__name__)


@shared_task(name="contracts.tasks.check_replacement_obligations", **JOB_LIMITS)
def check_replacement_obligations():
    """Rule 4: create missing obligations, raise/resolve/withdraw replacement breaches."""
    summary = replacements.check_replacement_obligations()
    logger.info("check_replacement_obligations: %s", summary)
    return summary


@shared_task(name="contracts.tasks.check_renewals", **JOB_LIMITS)
def check_renewals(days=renewals.NOTICE_WINDOW_DAYS):
    """Contracts whose notice deadline falls within ``days`` days (logged; returned as JSON rows)."""
    return renewals.check_renewals(days)
