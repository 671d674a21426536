"""Celery task of the reports: rebuild the summary tables (``reports.summaries``)."""

import logging

from celery import shared_task

from . import summaries

logger = logging.getLogger(__name__)


@shared_task(name="reports.tasks.refresh_summaries", acks_late=True, soft_time_limit=8 * 60, time_limit=10 * 60)
def refresh_summaries(contract_ids=None):
    """Rebuild the summaries of ``contract_ids`` (a list of ids), or all of them (None)."""
    result = summaries.refresh_summaries(contract_ids)
    logger.info("refresh_summaries(%s): %s", "all" if contract_ids is None else len(contract_ids), result)
    return result
