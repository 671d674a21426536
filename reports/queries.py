"""The admin-site reports as plain functions returning rows.

Every function runs a fixed number of aggregate queries, whatever the number of vendors, contracts or
measurements: grouping happens in SQL (``values(...).annotate(...)``), per-period figures come from
conditional aggregates, and Python only arranges the (already aggregated) rows.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce, TruncMonth, TruncQuarter
from django.utils import timezone

from contracts.choices import ContractStatus, ObligationState, ServiceType
from contracts.models import Contract, ReplacementObligation, StaffMember
from kpis.choices import BreachKind, BreachStatus, Severity
from kpis.models import Breach, Measurement
from vendors.choices import SourcingModel

CENT = Decimal("0.01")
ZERO = Decimal("0")
# Breaches that no longer count at all (withdrawn) and breaches whose credit the client gave up (waived).
NOT_A_BREACH = (BreachStatus.WITHDRAWN,)
NO_CREDIT_OWED = (BreachStatus.WITHDRAWN, BreachStatus.WAIVED)

# Weighted overall score of the vendor scorecard (weights of the components that have data are rescaled).
SCORE_WEIGHTS = {
    "compliance": Decimal("60"),  # SLA compliance %: met ÷ measured
    "reporting": Decimal("15"),  # reports received ÷ (received + missing)
    "replacements": Decimal("15"),  # replacements on time ÷ due (on time + late + overdue)
    "retention": Decimal("10"),  # 100 − 5 × monthly attrition %, floored at 0
}


# --- filters and periods ---------------------------------------------------------------------
@dataclass
class ReportFilters:
    start: datetime.date
    end: datetime.date
    vendor_id: int | None = None
    service_type: str = ""
    sourcing_model: str = ""
    period: str = "month"  # scorecard buckets: month | quarter
    group: str = "vendor"  # vendor | contract | service_type (report-dependent)
    today: datetime.date = field(default_factory=timezone.localdate)

    def contract_q(self, prefix=""):
        """Q on the contract reached through ``prefix`` (e.g. ``sla__contract__``)."""
        q = Q()
        if self.vendor_id:
            q &= Q(**{f"{prefix}vendor_id": self.vendor_id})
        if self.service_type:
            q &= Q(**{f"{prefix}service_type": self.service_type})
        if self.sourcing_model:
            q &= Q(**{f"{prefix}sourcing_model": self.sourcing_model})
        return q


def month_start(day):
    return day.replace(day=1)


def add_months(day, months):
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def month_end(day):
    return add_months(day, 1) - datetime.timedelta(days=1)


def quarter_start(day):
    return datetime.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def buckets(start, end, period="month"):
    """[(first day, last day, label)] of each month or quarter overlapping start..end."""
    step = 3 if period == "quarter" else 1
    first = quarter_start(start) if period == "quarter" else month_start(start)
    result = []
    while first <= end:
        last = add_months(first, step) - datetime.timedelta(days=1)
        label = f"{first.year} Q{(first.month - 1) // 3 + 1}" if period == "quarter" else first.strftime("%b %Y")
        result.append((first, last, label))
        first = add_months(first, step)
    return result


def percent(numerator, denominator, places="0.1"):
    if not denominator:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(Decimal(places), ROUND_HALF_UP)


def money(value):
    return (value or ZERO).quantize(CENT, ROUND_HALF_UP)


def attrition_percent(departures, start_headcount, end_headcount):
    """Rule 6: departures ÷ average of start and end headcount × 100, to 2 decimals."""
    average = Decimal(start_headcount + end_headcount) / 2
    if not average:
        return None
    return (Decimal(departures) * 100 / average).quantize(CENT, ROUND_HALF_UP)


# Group keys: (id path, label path) relative to the contract reached through a prefix.
def _group_paths(group, prefix):
    if group == "contract":
        return (f"{prefix}id" if prefix else "id"), f"{prefix}reference"
    if group == "service_type":
        return f"{prefix}service_type", f"{prefix}service_type"
    return f"{prefix}vendor_id", f"{prefix}vendor__name"


def _group_label(group, value):
    if group == "service_type":
        return ServiceType(value).label if value in ServiceType.values else value
    return value


def _headcount_aggregates(periods, prefix=""):
    """Conditional counts for rule 6 for each (first, last) period: start headcount, end headcount,
    departures. One aggregate query, however many periods."""
    aggregates = {}
    for index, (first, last, *_rest) in enumerate(periods):
        aggregates[f"start_{index}"] = Count(
            "pk", filter=Q(joined_on__lte=first) & (Q(left_on__isnull=True) | Q(left_on__gte=first))
        )
        aggregates[f"end_{index}"] = Count(
            "pk", filter=Q(joined_on__lte=last) & (Q(left_on__isnull=True) | Q(left_on__gt=last))
        )
        aggregates[f"left_{index}"] = Count("pk", filter=Q(left_on__gte=first, left_on__lte=last))
    return aggregates


def _obligation_states(today):
    """Counts of replacement obligations per state, for a queryset annotated ``with_fulfilment()``."""
    return {
        "pending": Count("pk", filter=Q(fulfilment_date__isnull=True, due_on__gte=today)),
        "overdue": Count("pk", filter=Q(fulfilment_date__isnull=True, due_on__lt=today)),
        "on_time": Count("pk", filter=Q(fulfilment_date__lte=F("due_on"))),
        "late": Count("pk", filter=Q(fulfilment_date__gt=F("due_on"))),
    }


def _staff_in(filters, first, last):
    """Staff who could count in first..last (joined by the end, not gone before the start)."""
    return StaffMember.objects.filter(filters.contract_q("contract__")).filter(
        Q(joined_on__lte=last) & (Q(left_on__isnull=True) | Q(left_on__gte=first))
    )


# --- 1. vendor scorecard ---------------------------------------------------------------------
def overall_score(compliance, reporting, replacements, monthly_attrition):
    parts = {
        "compliance": compliance,
        "reporting": reporting,
        "replacements": replacements,
        "retention": None if monthly_attrition is None else max(ZERO, 100 - 5 * monthly_attrition),
    }
    weighted = [(SCORE_WEIGHTS[k], Decimal(v)) for k, v in parts.items() if v is not None]
    if not weighted:
        return None
    total_weight = sum(w for w, _ in weighted)
    return (sum(w * v for w, v in weighted) / total_weight).quantize(Decimal("0.1"), ROUND_HALF_UP)


def vendor_scorecard(filters):
    """Rows per vendor (or contract, ``filters.group``) and month/quarter: compliance, breaches, missing
    reports, credits per currency, attrition, replacements, weighted score and rank within the period.

    Five aggregate queries.
    """
    group = "contract" if filters.group == "contract" else "vendor"
    periods = buckets(filters.start, filters.end, filters.period)
    if not periods:
        return []
    first, last = periods[0][0], periods[-1][1]
    trunc = TruncQuarter if filters.period == "quarter" else TruncMonth
    months_per_period = 3 if filters.period == "quarter" else 1
    rows = {}

    def row(key, label, bucket_start):
        return rows.setdefault(
            (key, bucket_start),
            {
                "key": key,
                "name": label,
                "period_start": bucket_start,
                "measured": 0,
                "met": 0,
                "minor": 0,
                "major": 0,
                "missing_reports": 0,
                "credits": defaultdict(Decimal),
                "departures": 0,
                "start_headcount": 0,
                "end_headcount": 0,
                "on_time": 0,
                "late": 0,
                "overdue": 0,
            },
        )

    # 1. measurements: measured / met (rule 1 in SQL)
    id_path, label_path = _group_paths(group, "sla__contract__")
    measured = (
        Measurement.objects.with_outcome()
        .filter(filters.contract_q("sla__contract__"), period_end__gte=first, period_end__lte=last)
        .annotate(bucket=trunc("period_end"))
        .values(id_path, label_path, "bucket")
        .annotate(measured=Count("pk"), met_count=Count("pk", filter=Q(met=True)))
        .order_by()
    )
    for item in measured:
        r = row(item[id_path], item[label_path], item["bucket"])
        r["measured"], r["met"] = item["measured"], item["met_count"]

    # 2. breaches: minor / major performance, missing reports, credits by currency
    id_path, label_path = _group_paths(group, "contract__")
    breaches = (
        Breach.objects.filter(filters.contract_q("contract__"), period_end__gte=first, period_end__lte=last)
        .exclude(status__in=NOT_A_BREACH)
        .annotate(bucket=trunc("period_end"))
        .values(id_path, label_path, "bucket", "contract__currency")
        .annotate(
            minor=Count("pk", filter=Q(kind=BreachKind.PERFORMANCE, severity=Severity.MINOR)),
            major=Count("pk", filter=Q(kind=BreachKind.PERFORMANCE, severity=Severity.MAJOR)),
            missing=Count("pk", filter=Q(kind=BreachKind.MISSING_REPORT)),
            credit=Sum("service_credit", filter=~Q(status__in=NO_CREDIT_OWED)),
        )
        .order_by()
    )
    for item in breaches:
        r = row(item[id_path], item[label_path], item["bucket"])
        r["minor"] += item["minor"]
        r["major"] += item["major"]
        r["missing_reports"] += item["missing"]
        if item["credit"]:
            r["credits"][item["contract__currency"]] += item["credit"]

    # 3. obligations due in the period: on time / late / still overdue
    id_path, label_path = _group_paths(group, "departed__contract__")
    obligations = (
        ReplacementObligation.objects.with_fulfilment()
        .filter(filters.contract_q("departed__contract__"), due_on__gte=first, due_on__lte=last)
        .annotate(bucket=trunc("due_on"))
        .values(id_path, label_path, "bucket")
        .annotate(**_obligation_states(filters.today))
        .order_by()
    )
    for item in obligations:
        r = row(item[id_path], item[label_path], item["bucket"])
        r["on_time"], r["late"], r["overdue"] = item["on_time"], item["late"], item["overdue"]

    # 4. attrition (rule 6, per period)
    id_path, label_path = _group_paths(group, "contract__")
    staff = (
        _staff_in(filters, first, last)
        .values(id_path, label_path)
        .annotate(**_headcount_aggregates(periods))
        .order_by()
    )
    for item in staff:
        for index, (bucket_start, _, _) in enumerate(periods):
            start_n, end_n, left_n = item[f"start_{index}"], item[f"end_{index}"], item[f"left_{index}"]
            if not (start_n or end_n or left_n):
                continue
            r = row(item[id_path], item[label_path], bucket_start)
            r["start_headcount"], r["end_headcount"], r["departures"] = start_n, end_n, left_n

    labels = {start: label for start, _, label in periods}
    result = []
    for r in rows.values():
        r["period"] = labels.get(r["period_start"], str(r["period_start"]))
        r["compliance"] = percent(r["met"], r["measured"])
        r["reporting"] = percent(r["measured"], r["measured"] + r["missing_reports"])
        due = r["on_time"] + r["late"] + r["overdue"]
        r["replacements_on_time"] = percent(r["on_time"], due)
        r["attrition"] = attrition_percent(r["departures"], r["start_headcount"], r["end_headcount"])
        monthly = None if r["attrition"] is None else r["attrition"] / months_per_period
        r["score"] = overall_score(r["compliance"], r["reporting"], r["replacements_on_time"], monthly)
        r["credits"] = {currency: money(amount) for currency, amount in sorted(r["credits"].items())}
        result.append(r)
    # rank within each period, best score first (no score: last)
    result.sort(key=lambda r: (-r["period_start"].toordinal(), r["score"] is None, -(r["score"] or 0), r["name"]))
    rank, previous_period = 0, None
    for r in result:
        rank = 1 if r["period_start"] != previous_period else rank + 1
        previous_period = r["period_start"]
        r["rank"] = rank if r["score"] is not None else None
    return result


# --- 2. compliance trend ---------------------------------------------------------------------
def compliance_trend(filters):
    """{months: [(first day, label)], series: [{key, name, measured[], met[], compliance[]}]} — one query."""
    group = "service_type" if filters.group == "service_type" else "vendor"
    months = buckets(filters.start, filters.end, "month")
    id_path, label_path = _group_paths(group, "sla__contract__")
    index = {first: i for i, (first, _, _) in enumerate(months)}
    rows = (
        Measurement.objects.with_outcome()
        .filter(filters.contract_q("sla__contract__"), period_end__gte=months[0][0], period_end__lte=months[-1][1])
        .annotate(month=TruncMonth("period_end"))
        .values(id_path, label_path, "month")
        .annotate(measured=Count("pk"), met_count=Count("pk", filter=Q(met=True)))
        .order_by()
    )
    series = {}
    for item in rows:
        s = series.setdefault(
            item[id_path],
            {
                "key": item[id_path],
                "name": _group_label(group, item[label_path]),
                "measured": [0] * len(months),
                "met": [0] * len(months),
            },
        )
        i = index[item["month"]]
        s["measured"][i], s["met"][i] = item["measured"], item["met_count"]
    result = sorted(series.values(), key=lambda s: s["name"])
    for s in result:
        s["compliance"] = [percent(met, n) for met, n in zip(s["met"], s["measured"], strict=True)]
        s["total_compliance"] = percent(sum(s["met"]), sum(s["measured"]))
    return {"months": [(first, label) for first, _, label in months], "series": result}


# --- 3. service credits ----------------------------------------------------------------------
def service_credits(filters):
    """Per contract and month: credits earned vs the cap; totals per currency; owed per vendor this quarter.

    Two aggregate queries.
    """
    first, last = month_start(filters.start), month_end(filters.end)
    rows = (
        Breach.objects.filter(filters.contract_q("contract__"), period_end__gte=first, period_end__lte=last)
        .exclude(status__in=NO_CREDIT_OWED)
        .annotate(month=TruncMonth("period_end"))
        .values(
            "contract_id",
            "contract__reference",
            "contract__vendor__name",
            "contract__currency",
            "contract__monthly_fee",
            "contract__at_risk_percent",
            "month",
        )
        .annotate(
            earned=Sum("service_credit"),
            earned_back=Sum("credit_earned_back"),
            major=Count("pk", filter=Q(severity=Severity.MAJOR)),
        )
        .filter(Q(earned__gt=0) | Q(earned_back__gt=0))
        .order_by("-month", "contract__vendor__name", "contract__reference")
    )
    result, totals = [], defaultdict(lambda: {"earned": ZERO, "earned_back": ZERO, "cap": ZERO})
    for item in rows:
        cap = money(item["contract__monthly_fee"] * item["contract__at_risk_percent"] / 100)
        earned = money(item["earned"])
        currency = item["contract__currency"]
        result.append(
            {
                "contract_id": item["contract_id"],
                "contract": item["contract__reference"],
                "vendor": item["contract__vendor__name"],
                "currency": currency,
                "month": item["month"],
                "month_label": item["month"].strftime("%b %Y"),
                "breaches": item["major"],
                "earned": earned,
                "earned_back": money(item["earned_back"]),
                "cap": cap,
                "percent_of_cap": percent(earned, cap),
                "capped": cap > 0 and earned >= cap,
            }
        )
        totals[currency]["earned"] += earned
        totals[currency]["earned_back"] += money(item["earned_back"])
        totals[currency]["cap"] += cap
    q_first = quarter_start(filters.today)
    q_last = add_months(q_first, 3) - datetime.timedelta(days=1)
    owed = (
        Breach.objects.filter(filters.contract_q("contract__"), period_end__gte=q_first, period_end__lte=q_last)
        .exclude(status__in=NO_CREDIT_OWED)
        .values("contract__vendor_id", "contract__vendor__name", "contract__currency")
        .annotate(owed=Sum("service_credit"), breaches=Count("pk", filter=Q(service_credit__gt=0)))
        .filter(owed__gt=0)
        .order_by("contract__vendor__name", "contract__currency")
    )
    return {
        "rows": result,
        "totals": [{"currency": c, **{k: money(v) for k, v in t.items()}} for c, t in sorted(totals.items())],
        "owed_this_quarter": [
            {
                "vendor_id": o["contract__vendor_id"],
                "vendor": o["contract__vendor__name"],
                "currency": o["contract__currency"],
                "owed": money(o["owed"]),
                "breaches": o["breaches"],
            }
            for o in owed
        ],
        "quarter": f"{q_first.year} Q{(q_first.month - 1) // 3 + 1}",
    }


# --- 4. attrition & replacements -------------------------------------------------------------
def attrition(filters):
    """Per vendor (or contract): contracted vs actual headcount, monthly attrition (rule 6) for each month,
    average and annualised attrition, replacement obligations by state. Three aggregate queries."""
    group = "contract" if filters.group == "contract" else "vendor"
    months = buckets(filters.start, filters.end, "month")
    first, last = months[0][0], months[-1][1]
    today = filters.today

    id_path, label_path = _group_paths(group, "")
    contracted = {
        item[id_path]: item
        for item in Contract.objects.filter(filters.contract_q(), status=ContractStatus.ACTIVE)
        .filter(end_date__gte=today)
        .values(id_path, label_path)
        .annotate(contracted=Sum("contracted_headcount"))
        .order_by()
    }
    id_path, label_path = _group_paths(group, "contract__")
    active_today = Q(joined_on__lte=today) & (Q(left_on__isnull=True) | Q(left_on__gte=today))
    staff = (
        StaffMember.objects.filter(filters.contract_q("contract__"))
        .filter(Q(joined_on__lte=max(last, today)) & (Q(left_on__isnull=True) | Q(left_on__gte=first)))
        .values(id_path, label_path)
        .annotate(
            headcount_now=Count("pk", filter=active_today),
            **_headcount_aggregates(months),
        )
        .order_by()
    )
    id_o, label_o = _group_paths(group, "departed__contract__")
    obligations = {
        item[id_o]: item
        for item in ReplacementObligation.objects.with_fulfilment()
        .filter(filters.contract_q("departed__contract__"))
        .values(id_o, label_o)
        .annotate(**_obligation_states(today))
        .order_by()
    }
    rows, totals = {}, {"start": [0] * len(months), "end": [0] * len(months), "left": [0] * len(months)}
    for item in staff:
        key = item[id_path]
        monthly = []
        for i in range(len(months)):
            s, e, d = item[f"start_{i}"], item[f"end_{i}"], item[f"left_{i}"]
            totals["start"][i] += s
            totals["end"][i] += e
            totals["left"][i] += d
            monthly.append(attrition_percent(d, s, e))
        rows[key] = {
            "key": key,
            "name": item[label_path],
            "headcount": item["headcount_now"],
            "monthly": monthly,
            "departures": sum(item[f"left_{i}"] for i in range(len(months))),
        }
    for key, item in contracted.items():
        rows.setdefault(
            key,
            {
                "key": key,
                "name": item[_group_paths(group, "")[1]],
                "headcount": 0,
                "monthly": [None] * len(months),
                "departures": 0,
            },
        )
    for key, item in obligations.items():
        rows.setdefault(
            key, {"key": key, "name": item[label_o], "headcount": 0, "monthly": [None] * len(months), "departures": 0}
        )
    result = []
    for key, r in rows.items():
        r["contracted"] = (contracted.get(key) or {}).get("contracted") or 0
        r["gap"] = r["headcount"] - r["contracted"]
        known = [m for m in r["monthly"] if m is not None]
        r["average_monthly"] = (sum(known) / len(known)).quantize(CENT, ROUND_HALF_UP) if known else None
        r["annualised"] = None if r["average_monthly"] is None else (r["average_monthly"] * 12).quantize(CENT)
        r["latest_month"] = r["monthly"][-1] if r["monthly"] else None
        states = obligations.get(key) or {}
        for state in ("pending", "overdue", "on_time", "late"):
            r[state] = states.get(state, 0)
        result.append(r)
    result.sort(key=lambda r: r["name"] or "")
    overall = [
        attrition_percent(d, s, e) for s, e, d in zip(totals["start"], totals["end"], totals["left"], strict=True)
    ]
    return {"months": [(f, label) for f, _, label in months], "rows": result, "overall": overall}


def obligation_state_counts(filters):
    """Replacement obligations by state (for the attrition report's summary). One query."""
    today = filters.today
    counts = (
        ReplacementObligation.objects.with_fulfilment()
        .filter(filters.contract_q("departed__contract__"))
        .aggregate(**_obligation_states(today))
    )
    return [
        (ObligationState.PENDING.label, counts["pending"]),
        (ObligationState.OVERDUE.label, counts["overdue"]),
        (ObligationState.FULFILLED_ON_TIME.label, counts["on_time"]),
        (ObligationState.FULFILLED_LATE.label, counts["late"]),
    ]


# --- 5. sourcing mix & cost ------------------------------------------------------------------
SOURCING_DIMENSIONS = {
    "sourcing_model": ("Sourcing model", "sourcing_model"),
    "service_type": ("Service type", "service_type"),
    "country": ("Delivery country", "delivery_country"),
}


def _dimension_label(dimension, value):
    if dimension == "sourcing_model":
        return SourcingModel(value).label if value in SourcingModel.values else (value or "Not set")
    if dimension == "service_type":
        return ServiceType(value).label if value in ServiceType.values else value
    if value:
        from django_countries import countries

        return f"{countries.name(value)} ({value})"
    return "Unknown"


def sourcing_mix(filters):
    """Spend, baseline, savings and headcount by sourcing model, service type and delivery country, per
    currency, for contracts active during the range. Two queries per dimension (six in all)."""
    first, last = month_start(filters.start), month_end(filters.end)
    contracts = (
        Contract.objects.active()
        .filter(filters.contract_q(), start_date__lte=last, end_date__gte=first)
        .annotate(delivery_country=Coalesce("delivery_center__country", "vendor__country"))
    )
    staff_day = min(last, filters.today)
    staff = (
        StaffMember.objects.filter(
            filters.contract_q("contract__"),
            contract__status=ContractStatus.ACTIVE,
            contract__start_date__lte=last,
            contract__end_date__gte=first,
        )
        .active_on(staff_day)
        .annotate(delivery_country=Coalesce("contract__delivery_center__country", "contract__vendor__country"))
    )
    result = {}
    for dimension, (title, path) in SOURCING_DIMENSIONS.items():
        staff_path = path if path == "delivery_country" else f"contract__{path}"
        headcount = {
            (item[staff_path], item["contract__currency"]): item["n"]
            for item in staff.values(staff_path, "contract__currency").annotate(n=Count("pk")).order_by()
        }
        rows = []
        for item in (
            contracts.values(path, "currency")
            .annotate(
                contracts=Count("pk"),
                fee=Sum("monthly_fee"),
                baseline=Sum("baseline_monthly_cost"),
                contracted=Sum("contracted_headcount"),
            )
            .order_by(path, "currency")
        ):
            savings = money(item["baseline"] - item["fee"])
            rows.append(
                {
                    "key": item[path],
                    "name": _dimension_label(dimension, item[path]),
                    "currency": item["currency"],
                    "contracts": item["contracts"],
                    "monthly_fee": money(item["fee"]),
                    "baseline": money(item["baseline"]),
                    "savings": savings,
                    "savings_percent": percent(savings, item["baseline"]),
                    "contracted": item["contracted"] or 0,
                    "headcount": headcount.get((item[path], item["currency"]), 0),
                }
            )
        result[dimension] = {"title": title, "rows": rows}
    return result


# --- 6. renewals -----------------------------------------------------------------------------
RENEWAL_BUCKETS = [
    (None, 0, "Notice deadline passed"),
    (0, 30, "Within 30 days"),
    (31, 60, "31–60 days"),
    (61, 90, "61–90 days"),
    (91, None, "Later"),
]


def renewal_bucket(days):
    if days < 0:
        return RENEWAL_BUCKETS[0][2]
    for low, high, label in RENEWAL_BUCKETS[1:]:
        if days >= low and (high is None or days <= high):
            return label
    return RENEWAL_BUCKETS[-1][2]


def renewals(filters):
    """Active, unexpired contracts with their notice deadline in the range, soonest first. One query."""
    today = filters.today
    contracts = (
        Contract.objects.active()
        .current(today)
        .filter(filters.contract_q())
        .filter(notice_deadline__gte=month_start(filters.start), notice_deadline__lte=month_end(filters.end))
        .order_by("notice_deadline", "reference")
        .values(
            "pk",
            "reference",
            "title",
            "vendor__name",
            "owner__first_name",
            "owner__last_name",
            "owner__username",
            "end_date",
            "notice_deadline",
            "auto_renew",
            "monthly_fee",
            "currency",
        )
    )
    rows = []
    for c in contracts:
        days = (c["notice_deadline"] - today).days
        owner = f"{c['owner__first_name']} {c['owner__last_name']}".strip() or c["owner__username"]
        rows.append(
            {
                "contract_id": c["pk"],
                "contract": c["reference"],
                "title": c["title"],
                "vendor": c["vendor__name"],
                "owner": owner,
                "end_date": c["end_date"],
                "notice_deadline": c["notice_deadline"],
                "days_left": days,
                "bucket": renewal_bucket(days),
                "auto_renew": c["auto_renew"],
                "monthly_fee": c["monthly_fee"],
                "currency": c["currency"],
            }
        )
    return rows
