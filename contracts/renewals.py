"""Renewals: contracts whose last day to give notice falls within the next 30 days.

``Contract.notice_deadline`` (= ``end_date`` − ``notice_days``) is stored by ``Contract.save()``, so this
is one indexed query. The weekly digest and the dashboard show the same list.
"""

import logging

from django.utils import timezone

from .models import Contract

logger = logging.getLogger(__name__)
NOTICE_WINDOW_DAYS = 30


def contracts_due_for_notice(days=NOTICE_WINDOW_DAYS, today=None, contracts=None):
    """Active, unexpired contracts whose notice deadline is between ``today`` and ``today + days``,
    soonest first, with vendor and owner loaded. ``contracts`` optionally narrows the set (a queryset)."""
    queryset = Contract.objects.notice_due_within(days, today=today)
    if contracts is not None:
        queryset = queryset.filter(pk__in=contracts.values("pk"))
    return queryset.select_related("vendor", "owner").order_by("notice_deadline", "reference")


def check_renewals(days=NOTICE_WINDOW_DAYS, today=None):
    """The daily job: log and return the contracts that need a renew-or-exit decision soon."""
    today = today or timezone.localdate()
    due = [
        {
            "id": contract.pk,
            "reference": contract.reference,
            "vendor": contract.vendor.name,
            "owner": contract.owner.get_username(),
            "notice_deadline": contract.notice_deadline.isoformat(),
            "end_date": contract.end_date.isoformat(),
            "auto_renew": contract.auto_renew,
            "days_left": (contract.notice_deadline - today).days,
        }
        for contract in contracts_due_for_notice(days, today)
    ]
    for row in due:
        logger.info(
            "Notice deadline for %s (%s) is %s, in %s days%s.",
            row["reference"],
            row["vendor"],
            row["notice_deadline"],
            row["days_left"],
            " (renews automatically)" if row["auto_renew"] else "",
        )
    return due
