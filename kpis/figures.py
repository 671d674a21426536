"""Figures about vendors and contracts that come from the staff roster and the SLA engine's tables, computed
here where ``kpis`` can see both (``vendors`` and ``contracts`` sit below ``kpis`` and never import it).

Every figure is a correlated subquery: one query for any number of rows, no row multiplication between
the joins.
"""

from django.db import models
from django.db.models import ExpressionWrapper, FloatField, OuterRef, Subquery, Sum
from django.db.models.functions import Cast, Coalesce, NullIf
from django.utils import timezone

from common.queries import subquery_count
from contracts.exchange import money_total
from contracts.models import Contract, ReplacementObligation, StaffMember

from .models import SLA, Breach, Measurement
from .periods import month_window_start


def contracts_with_counts(contracts, today=None):
    """``sla_count``, ``open_breach_count``, ``headcount`` (active staff today), as subqueries."""
    today = today or timezone.localdate()
    return contracts.annotate(
        sla_count=subquery_count(SLA.objects.active(), "contract"),
        open_breach_count=subquery_count(Breach.objects.open(), "contract"),
        headcount=subquery_count(StaffMember.objects.active_on(today), "contract"),
    )


def vendors_with_headcount(vendors, today=None, months=12):
    """``headcount`` (active staff today), ``contracted_headcount`` (active, current contracts),
    ``departures`` in the last ``months`` calendar months up to today and ``turnover_percent``
    (departures ÷ headcount today × 100 — not rule 6's monthly attrition, which divides a month's
    departures by that month's average headcount): the staffing columns of ``vendors_with_scorecard``,
    alone (cheap for a page of vendors, whatever the size of the roster table)."""
    today = today or timezone.localdate()
    since = month_window_start(today, months)
    contracted = (
        Contract.objects.active()
        .current(today)
        .filter(vendor=OuterRef("pk"))
        .order_by()
        .values("vendor")
        .annotate(total=Sum("contracted_headcount"))
        .values("total")[:1]
    )
    return vendors.annotate(
        headcount=subquery_count(StaffMember.objects.active_on(today), "contract__vendor"),
        contracted_headcount=Coalesce(Subquery(contracted, output_field=models.IntegerField()), 0),
        departures=subquery_count(
            StaffMember.objects.filter(left_on__gte=since, left_on__lte=today), "contract__vendor"
        ),
    ).annotate(
        turnover_percent=ExpressionWrapper(
            Cast("departures", FloatField()) * 100.0 / NullIf(Cast("headcount", FloatField()), 0.0),
            output_field=FloatField(),
        ),
    )


def scorecard_breaches(since):
    """The breaches a vendor scorecard counts: period ending since ``since``, not withdrawn."""
    return Breach.objects.filter(period_end__gte=since).exclude(status="withdrawn")


def vendors_with_scorecard(vendors, today=None, months=12):
    """The vendor scorecard over the last ``months`` calendar months, as annotations.

    ``measurement_count``, ``met_count``, ``compliance_percent`` (met ÷ measured × 100),
    ``breach_count``, ``major_breach_count``, ``open_breach_count``, ``overdue_replacements``, and the
    staffing columns of ``vendors_with_headcount``.
    """
    today = today or timezone.localdate()
    since = month_window_start(today, months)
    measured = Measurement.objects.filter(period_end__gte=since, period_end__lte=today).with_outcome()
    breaches = scorecard_breaches(since)
    qs = vendors_with_headcount(vendors, today, months).annotate(
        measurement_count=subquery_count(measured, "sla__contract__vendor"),
        met_count=subquery_count(measured.filter(met=True), "sla__contract__vendor"),
        breach_count=subquery_count(breaches, "contract__vendor"),
        major_breach_count=subquery_count(breaches.filter(severity="major"), "contract__vendor"),
        open_breach_count=subquery_count(Breach.objects.open(), "contract__vendor"),
        overdue_replacements=subquery_count(ReplacementObligation.objects.overdue(today), "departed__contract__vendor"),
    )
    return qs.annotate(
        compliance_percent=ExpressionWrapper(
            Cast("met_count", FloatField()) * 100.0 / NullIf(Cast("measurement_count", FloatField()), 0.0),
            output_field=FloatField(),
        ),
    )


def vendor_service_credits(vendor, today=None, months=12):
    """The scorecard window's service credits (``vendors_with_scorecard``'s breaches) as a ``MoneyTotal``: per
    contract currency and in the reporting currency, each month at its rate. Two queries at most."""
    since = month_window_start(today or timezone.localdate(), months)
    return money_total(scorecard_breaches(since).filter(contract__vendor=vendor).credit_by_month())
