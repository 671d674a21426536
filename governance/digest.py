"""Governance's section of the weekly digest, plugged in through ``settings.DIGEST_SECTIONS``, and who has one
(``settings.DIGEST_RECIPIENTS``): an owner with overdue actions gets a digest even in a week without breaches."""

from urllib.parse import urlencode

from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.urls import reverse

from kpis.digest import ALL_VENDORS, DigestSection, absolute_url, format_date

from .models import CorrectiveAction

LIMIT = 20


def owners_with_overdue_actions(today):
    """Owners of contracts with a corrective action overdue on ``today``: one query."""
    return CorrectiveAction.objects.overdue(today).values_list("contract__owner_id", flat=True).distinct()


def overdue_actions_sections(scope):
    """``{owner id or ALL_VENDORS: DigestSection}`` for a batch of digests (a ``kpis.digest.DigestScope``):
    the corrective actions on each digest's contracts still open or in progress past their due date, the
    first ``LIMIT`` by due date. One query for the owners' digests (ranked per owner), one for an
    all-vendors digest."""
    overdue = CorrectiveAction.objects.overdue(scope.today).select_related("contract__vendor")
    by_key = {}
    if scope.owner_ids:
        ranked = (
            overdue.filter(contract__owner_id__in=scope.owner_ids)
            .annotate(rank=Window(RowNumber(), partition_by=F("contract__owner_id"), order_by=[F("due_on"), F("pk")]))
            .filter(rank__lte=LIMIT + 1)
            .order_by("contract__owner_id", "due_on", "pk")
        )
        for action in ranked:
            by_key.setdefault(action.contract.owner_id, []).append(action)
    if scope.all_vendors:
        everything = list(overdue.order_by("due_on", "pk")[: LIMIT + 1])
        if everything:
            by_key[ALL_VENDORS] = everything
    more = absolute_url(reverse("governance:action_list") + "?" + urlencode({"overdue": "on"}))
    return {key: _section(actions, scope.today, more) for key, actions in by_key.items()}


def _section(actions, today, more_url):
    lines = [
        {
            "text": f"{a.contract.reference} ({a.contract.vendor.name}): {a.title} — {a.get_owner_side_display()} "
            f"{a.owner_name}, due {format_date(a.due_on)} ({(today - a.due_on).days} days late)",
            "url": absolute_url(a.get_absolute_url()),
        }
        for a in actions[:LIMIT]
    ]
    return DigestSection("Overdue corrective actions", lines, more_url=more_url if len(actions) > LIMIT else "")
