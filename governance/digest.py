"""Governance's section of the weekly digest, plugged in through ``settings.DIGEST_SECTIONS``."""

from urllib.parse import urlencode

from django.urls import reverse

from kpis.digest import DigestSection, absolute_url, format_date

from .models import CorrectiveAction

LIMIT = 20


def overdue_actions_section(user, contracts, week_start, week_end, today):
    """The corrective actions on ``contracts`` still open or in progress past their due date (one query)."""
    actions = list(
        CorrectiveAction.objects.overdue(today)
        .filter(contract__in=contracts)
        .select_related("contract__vendor")
        .order_by("due_on", "pk")[: LIMIT + 1]
    )
    if not actions:
        return None
    lines = [
        {
            "text": f"{a.contract.reference} ({a.contract.vendor.name}): {a.title} — {a.get_owner_side_display()} "
            f"{a.owner_name}, due {format_date(a.due_on)} ({(today - a.due_on).days} days late)",
            "url": absolute_url(a.get_absolute_url()),
        }
        for a in actions[:LIMIT]
    ]
    more = absolute_url(reverse("governance:action_list") + "?" + urlencode({"overdue": "on"}))
    return DigestSection("Overdue corrective actions", lines, more_url=more if len(actions) > LIMIT else "")
