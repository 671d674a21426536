"""Celery tasks for contracts: thin wrappers over ``kpis.replacements`` (rule 4) and ``contracts.renewals``."""

import logging

from celery import shared_task

from kpis import replacements
from kpis.tasks import JOB_LIMITS

from . import renewals

logger = logging.getLogger(__name__)


@shared_task(name="contracts.tasks.check_replacement_obligations", **JOB_LIMITS)
def check_replacement_obligations(contract_ids=None):
    """Rule 4: create missing obligations, raise/resolve/withdraw replacement breaches (of ``contract_ids``
    only, when given)."""
    summary = replacements.check_replacement_obligations(contract_ids=contract_ids)
    logger.info("check_replacement_obligations(%s): %s", "all" if contract_ids is None else contract_ids, summary)
    return summary


@shared_task(name="contracts.tasks.check_renewals", **JOB_LIMITS)
def check_renewals(days=renewals.NOTICE_WINDOW_DAYS):
    """Contracts whose notice deadline falls within ``days`` days (logged; returned as JSON rows)."""
    return renewals.check_renewals(days)
