"""The quarterly business review of one vendor: every figure in a fixed number of queries."""

import datetime
import re

from django.db.models import Count, Q, Sum
from django.utils import timezone

from contracts.exchange import money_total
from contracts.models import Contract
from kpis import periods
from kpis.choices import BreachKind, BreachStatus, Severity
from kpis.models import Breach, Measurement
from reports.queries import ReportFilters, vendor_scorecard

from .choices import ActionStatus
from .models import CorrectiveAction

QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
RENEWAL_HORIZON_DAYS = 180


def parse_quarter(text, today):
    """``2026-Q3`` → (first day, last day); the last ended quarter when empty. ValueError with a message."""
    if not text:
        start = periods.previous_period_start("quarterly", today)
        return start, periods.period_end("quarterly", start)
    match = QUARTER.match(text.strip().upper())
    if not match or not 2000 <= int(match.group(1)) <= today.year + 10:
        raise ValueError(f"“{text[:20]}” is not a quarter: write it like 2026-Q3.")
    start = datetime.date(int(match.group(1)), 3 * int(match.group(2)) - 2, 1)
    return start, periods.period_end("quarterly", start)


def quarter_param(start):
    return f"{start.year}-Q{(start.month - 1) // 3 + 1}"


def build_qbr(vendor, start, end, today=None):
    today = today or timezone.localdate()
    contracts = Contract.objects.filter(vendor=vendor)
    # Scorecard of every vendor for the quarter (rank within it), this vendor's row.
    filters = ReportFilters(start=start, end=end, period="quarter", today=today)
    rows = [r for r in vendor_scorecard(filters) if r["key"] == vendor.pk and r["period_start"] == start]
    score = rows[0] if rows else None

    compliance = list(
        Measurement.objects.with_outcome()
        .filter(sla__contract__vendor=vendor, period_end__gte=start, period_end__lte=end)
        .values("sla__kpi__name")
        .annotate(measured=Count("pk"), met_count=Count("pk", filter=Q(met=True)))
        .order_by("sla__kpi__name")
    )
    for row in compliance:
        row["percent"] = round(row["met_count"] * 100 / row["measured"], 1) if row["measured"] else None

    breaches = Breach.objects.filter(contract__vendor=vendor, period_end__gte=start, period_end__lte=end).exclude(
        status=BreachStatus.WITHDRAWN
    )
    by_contract = list(
        breaches.values("contract_id", "contract__reference", "contract__title", "contract__currency")
        .annotate(
            total=Count("pk"),
            major=Count("pk", filter=Q(severity=Severity.MAJOR)),
            missing=Count("pk", filter=Q(kind=BreachKind.MISSING_REPORT)),
            replacement=Count("pk", filter=Q(kind=BreachKind.REPLACEMENT)),
        )
        .order_by("contract__reference")
    )
    credits = money_total(breaches.exclude(status=BreachStatus.WAIVED).credit_by_month())
    credit_by_contract = {}
    for contract_id, amount in (
        breaches.exclude(status=BreachStatus.WAIVED)
        .order_by()
        .values_list("contract_id")
        .annotate(amount=Sum("service_credit"))
    ):
        credit_by_contract[contract_id] = amount
    for row in by_contract:
        row["credit"] = credit_by_contract.get(row["contract_id"])

    actions = CorrectiveAction.objects.filter(contract__vendor=vendor)
    as_of = min(today, end)
    action_counts = actions.aggregate(
        opened=Count("pk", filter=Q(opened_on__gte=start, opened_on__lte=end)),
        closed=Count(
            "pk",
            filter=Q(closed_on__gte=start, closed_on__lte=end, status__in=[ActionStatus.DONE, ActionStatus.VERIFIED]),
        ),
        verified=Count("pk", filter=Q(verified_on__gte=start, verified_on__lte=end)),
        overdue=Count(
            "pk",
            filter=Q(opened_on__lte=end, due_on__lt=as_of)
            & (Q(closed_on__isnull=True) | Q(closed_on__gt=as_of))
            & ~Q(status=ActionStatus.CANCELLED),
        ),
    )
    action_rows = list(
        actions.with_effectiveness()
        .filter(Q(opened_on__lte=end) & (Q(closed_on__isnull=True) | Q(closed_on__gte=start)))
        .select_related("contract")
        .order_by("due_on", "pk")[:30]
    )

    renewals = list(
        contracts.filter(
            status="active", end_date__gte=today, end_date__lte=today + datetime.timedelta(days=RENEWAL_HORIZON_DAYS)
        ).order_by("end_date", "reference")
    )
    return {
        "vendor": vendor,
        "quarter": quarter_param(start),
        "quarter_label": periods.describe_period("quarterly", start),
        "start": start,
        "end": end,
        "previous_quarter": quarter_param(periods.previous_period_start("quarterly", start)),
        "next_quarter": quarter_param(periods.next_period_start("quarterly", start)),
        "score": score,
        "compliance": compliance,
        "breaches_by_contract": by_contract,
        "breach_totals": {
            "total": sum(r["total"] for r in by_contract),
            "major": sum(r["major"] for r in by_contract),
        },
        "credits": credits,
        "action_counts": action_counts,
        "actions": action_rows,
        "renewals": renewals,
        "today": today,
        "renewal_horizon_days": RENEWAL_HORIZON_DAYS,
    }
