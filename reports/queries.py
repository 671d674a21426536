"""The admin-site reports as plain functions returning rows.

Every function runs a fixed number of aggregate queries, whatever the number of vendors, contracts or
measurements: grouping happens in SQL (``values(...).annotate(...)``), per-period figures come from
conditional aggregates, and Python only arranges the (already aggregated) rows.
"""

import datetime
import heapq
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from operator import itemgetter

from django.db import connections
from django.db.models import Count, F, Q, Sum, Window
from django.db.models.functions import Coalesce, TruncMonth, TruncQuarter
from django.utils import timezone

from common.exports import person_name
from common.queries import subquery_count
from contracts.choices import ObligationState, ServiceType
from contracts.exchange import RateBook
from contracts.models import Contract, ReplacementObligation, StaffMember
from kpis.attrition import attrition_percent
from kpis.choices import BreachKind, BreachStatus, Frequency, Severity
from kpis.models import Breach, Measurement
from kpis.periods import month_end, month_start, period_bounds, period_start
from vendors.choices import SourcingModel

CENT = Decimal("0.01")
ZERO = Decimal("0")
# Breaches that no longer count at all (withdrawn) and breaches whose credit the client gave up (waived).
NOT_A_BREACH = (BreachStatus.WITHDRAWN,)
NO_CREDIT_OWED = (BreachStatus.WITHDRAWN, BreachStatus.WAIVED)

# Weighted overall score of the vendor scorecard (weights of the components that have data are rescaled).
# The defaults; admins keep their own in a scorecard policy (``scoring_policy()``).
SCORE_WEIGHTS = {
    "compliance": Decimal("60"),  # SLA compliance %: met ÷ measured
    "reporting": Decimal("15"),  # reports received ÷ (received + missing)
    "replacements": Decimal("15"),  # replacements on time ÷ due (on time + late + overdue)
    "retention": Decimal("10"),  # 100 − 5 × monthly attrition %, floored at 0
}
# Bands of the overall score, best first: (label, lowest score in the band); below the last: "At risk".
SCORE_BANDS = (("Strategic", Decimal("90")), ("Performing", Decimal("75")), ("Watch", Decimal("60")))
LOWEST_BAND = "At risk"


@dataclass(frozen=True)
class ScoringPolicy:
    weights: dict = field(default_factory=lambda: dict(SCORE_WEIGHTS))
    bands: tuple = SCORE_BANDS
    lowest_band: str = LOWEST_BAND

    def band(self, score):
        if score is None:
            return None
        return next((label for label, floor in self.bands if score >= floor), self.lowest_band)


def scoring_policy():
    """The weights and bands in force: from ``settings.SCORECARD_POLICY_PROVIDER`` (a dotted path to a
    callable returning a ``ScoringPolicy`` or None; a higher app keeps the admins' policy) or the defaults."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    provider = getattr(settings, "SCORECARD_POLICY_PROVIDER", "")
    policy = import_string(provider)() if provider else None
    return policy or ScoringPolicy()


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
    use_summary: bool = True  # read the summary tables when they cover the request (False: live tables)
    state: object = None  # the SummaryState, once summary_source looked it up
    from_summary: bool = False  # some figures came from the summary tables (the page says as of when)

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


def buckets(start, end, period="month"):
    """[(first day, last day, label)] of each month or quarter overlapping start..end."""
    step = 3 if period == "quarter" else 1
    first = period_start(Frequency.QUARTERLY, start) if period == "quarter" else month_start(start)
    result = []
    while first <= end:
        last = month_start(first, step) - datetime.timedelta(days=1)
        label = f"{first.year} Q{(first.month - 1) // 3 + 1}" if period == "quarter" else first.strftime("%b %Y")
        result.append((first, last, label))
        first = month_start(first, step)
    return result


TENTH = Decimal("0.1")


def percent(numerator, denominator):
    if not denominator:
        return None
    return (Decimal(numerator * 100) / denominator).quantize(TENTH, ROUND_HALF_UP)


def memo_percent():
    """``percent`` remembering its answers, for one report's rows: thousands of rows share a few thousand
    distinct (numerator, denominator) pairs, and each Decimal division and rounding then runs once per pair
    (the xl compliance trend: 130,000 percentages)."""
    answers = {}

    def memoized(numerator, denominator):
        found = answers.get((numerator, denominator), answers)
        if found is answers:
            found = answers[(numerator, denominator)] = percent(numerator, denominator)
        return found

    return memoized


def money(value):
    return (value or ZERO).quantize(CENT, ROUND_HALF_UP)


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


OBLIGATION_STATE_LABELS = [
    ("pending", ObligationState.PENDING.label),
    ("overdue", ObligationState.OVERDUE.label),
    ("on_time", ObligationState.FULFILLED_ON_TIME.label),
    ("late", ObligationState.FULFILLED_LATE.label),
]


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


# --- summary tables ----------------------------------------------------------------------------
def summary_source(filters, group="vendor", staff_months=None, refreshed_on=None):
    """Where a report reads its monthly figures: ``(queryset, contract prefix)`` over ``VendorMonth`` (the
    vendor view, no contract filter but the vendor) or ``ContractMonth``; None while the summaries have
    never been built, when ``staff_months`` (first, last) reaches outside the staff window kept, or when
    ``refreshed_on`` (a day, for figures "as of the refresh day") is not the day they were refreshed for.

    ``filters.use_summary = False`` forces the live tables (tests compare both).
    """
    from .summaries import summary_state

    if not filters.use_summary:
        return None
    if filters.state is None:
        filters.state = summary_state()
    state = filters.state
    if state is None:
        return None
    if staff_months and not (
        state.window_start <= staff_months[0] and month_start(staff_months[1]) <= state.window_end
    ):
        return None
    if refreshed_on is not None and refreshed_on != state.today:
        return None
    filters.from_summary = True
    if group == "vendor" and not filters.service_type and not filters.sourcing_model:
        from .models import VendorMonth

        queryset = VendorMonth.objects.all()
        if filters.vendor_id:
            queryset = queryset.filter(vendor_id=filters.vendor_id)
        return queryset, None
    from .models import ContractMonth

    return ContractMonth.objects.filter(filters.contract_q("contract__")), "contract__"


def _fetch(queryset):
    """A ``values()`` queryset's rows as dicts. On PostgreSQL straight from the cursor: the driver already
    returns ints, Decimals and dates, and skipping Django's per-value converters matters for the pivoted
    queries' thousands of rows × dozens of columns."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return list(queryset)
    return _fetch_sql(queryset.db, *queryset.query.sql_with_params())


def _fetch_sql(using, sql, params):
    """The rows of ``sql`` as dicts (SQL written around querysets, or ``_fetch``'s)."""
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]
        # a dict display, not dict(): of plain values it stays out of the garbage collector's lists, and
        # thousands of tracked rows alive through a request made it run a full collection every other page
        return [{name: value for name, value in zip(names, row, strict=True)} for row in cursor.fetchall()]


def _summary_paths(group, prefix):
    """(id path, label path, currency path) on a summary queryset (``prefix`` None: ``VendorMonth``)."""
    if prefix is None:
        return "vendor_id", "vendor__name", "currency"
    id_path, label_path = _group_paths(group, prefix)
    return id_path, label_path, f"{prefix}currency"


# --- 1. vendor scorecard ---------------------------------------------------------------------
def overall_score(compliance, reporting, replacements, monthly_attrition, weights=None):
    weights = SCORE_WEIGHTS if weights is None else weights
    parts = {
        "compliance": compliance,
        "reporting": reporting,
        "replacements": replacements,
        "retention": None if monthly_attrition is None else max(ZERO, 100 - 5 * monthly_attrition),
    }
    weighted = [(weights[k], Decimal(v)) for k, v in parts.items() if v is not None and weights[k]]
    if not weighted:
        return None
    total_weight = sum(w for w, _ in weighted)
    return (sum(w * v for w, v in weighted) / total_weight).quantize(TENTH, ROUND_HALF_UP)


def _scorecard_from_summary(source, group, periods, months_per_period, row, credit_months):
    """Steps 1, 2 and 4 of the scorecard from the monthly summary, in one query."""
    queryset, prefix = source
    id_path, label_path, currency_path = _summary_paths(group, prefix)
    figures = (
        queryset.filter(month__gte=periods[0][0], month__lte=periods[-1][1])
        .values(id_path, label_path, currency_path, "month")
        .annotate(
            n_measured=Sum("measured"),
            n_met=Sum("met"),
            n_breaches=Sum("breaches"),
            n_minor=Sum("minor"),
            n_major=Sum("major"),
            n_missing=Sum("missing_reports"),
            n_credit=Sum("credit"),
            n_start=Sum("start_headcount"),
            n_end=Sum("end_headcount"),
            n_left=Sum("departures"),
        )
        .order_by()
    )
    staff = {}  # (key, label, bucket) → (start, end, departures)
    for item in _fetch(figures):
        month = item["month"]
        bucket = period_start(Frequency.QUARTERLY, month) if months_per_period == 3 else month
        key, label = item[id_path], item[label_path]
        if item["n_measured"] or item["n_breaches"]:
            r = row(key, label, bucket)
            r["measured"] += item["n_measured"]
            r["met"] += item["n_met"]
            r["minor"] += item["n_minor"]
            r["major"] += item["n_major"]
            r["missing_reports"] += item["n_missing"]
            if item["n_credit"]:
                _add_credit(credit_months, r, item[currency_path], month, item["n_credit"])
        start_n, end_n, left_n = staff.get((key, label, bucket), (0, 0, 0))
        staff[(key, label, bucket)] = (
            start_n + (item["n_start"] if month == bucket else 0),
            end_n + (item["n_end"] if month == month_start(bucket, months_per_period - 1) else 0),
            left_n + item["n_left"],
        )
    for (key, label, bucket), (start_n, end_n, left_n) in staff.items():
        if start_n or end_n or left_n:
            r = row(key, label, bucket)
            r["start_headcount"], r["end_headcount"], r["departures"] = start_n, end_n, left_n


def _add_credit(credit_months, row, currency, month, amount):
    """Note a row's credit in ``credit_months`` ((key, period start) → ((currency, month, amount), …)).

    Kept out of the row, and as tuples: a dict holding only plain values (ints, strings, dates, Decimals)
    stays out of the garbage collector's lists, a dict holding a list does not. With a list in each row, all
    20,000 rows of the xl scorecard (the period before too) were tracked and reached the oldest generation:
    two full collections per page view, 80–200 ms each. (The rows shown become tracked later, when
    ``vendor_scorecard`` gives them their credits dict.)"""
    key = (row["key"], row["period_start"])
    credit_months[key] = credit_months.get(key, ()) + ((currency, month, amount),)


def vendor_scorecard(filters, policy=None):
    """Rows per vendor (or contract, ``filters.group``) and month/quarter: compliance, breaches, missing
    reports, credits per currency, attrition, replacements, weighted score, its band and rank within the
    period, and ``score_change`` since the period before (last quarter, or last month). Every row, newest
    period first, best score first (``scorecard_page`` for one page of them, in any order).

    The weights and bands are ``policy``, by default the one in force (``scoring_policy()``)."""
    return scorecard_page(filters, policy)["rows"]


def scorecard_page(filters, policy=None, limit=None, order_by=()):
    """The scorecard's rows in the order ``order_by`` asks (row keys, ``-`` for descending; then newest
    period, best score, name), at most ``limit`` of them: ``{"rows", "row_count", "chart_rows",
    "latest_period", "query_ordered"}``. ``chart_rows``: the newest period's 30 best-ranked rows.

    On PostgreSQL over the monthly summary, scored, ranked, sorted and cut in SQL (``_scorecard_sql``): one
    query and one for exchange rates, whatever the number of vendors. Otherwise every row is built here
    (``_vendor_scorecard``) and ``query_ordered`` is False: the table sorts them.
    """
    import dataclasses

    policy = policy or scoring_policy()
    months_per_period = 3 if filters.period == "quarter" else 1
    asked = buckets(filters.start, filters.end, filters.period)
    if not asked:
        return {"rows": [], "row_count": 0, "chart_rows": [], "latest_period": "", "query_ordered": False}
    first = asked[0][0]
    extended = dataclasses.replace(filters, start=month_start(first, -months_per_period))
    group = "contract" if filters.group == "contract" else "vendor"
    periods = buckets(extended.start, extended.end, extended.period)
    source = summary_source(extended, group, staff_months=(periods[0][0], periods[-1][1]))
    filters.state, filters.from_summary = extended.state, extended.from_summary
    if source and connections[source[0].db].vendor == "postgresql":
        page = _scorecard_from_sql(filters, policy, source, group, periods, first, limit, order_by)
        if page is not None:
            return page
    rows, credit_months = _vendor_scorecard(extended, policy)
    scores = {(r["key"], r["period_start"]): r["score"] for r in rows}
    result = [r for r in rows if r["period_start"] >= first]
    # credits of the rows shown only (the period before is read for its scores)
    kept = [credit_months.get((r["key"], r["period_start"])) for r in result]
    rates = RateBook(pair[:2] for months in kept for pair in months or ())  # one query for every row
    for r, months in zip(result, kept, strict=True):
        _finish_scorecard_row(r, months, rates, policy)
        previous = scores.get((r["key"], month_start(r["period_start"], -months_per_period)))
        r["previous_score"] = previous
        r["score_change"] = None if r["score"] is None or previous is None else r["score"] - previous
    latest = result[0]["period"] if result else ""
    chart_rows = [r for r in result if r["period"] == latest and r["score"] is not None][:SCORECARD_CHART_ROWS]
    return {
        "rows": result,
        "row_count": len(result),
        "chart_rows": chart_rows,
        "latest_period": latest,
        "query_ordered": False,
    }


def _finish_scorecard_row(row, months, rates, policy):
    """A row's credits per currency and in the reporting currency (from its ``(currency, month, amount)``
    credit months), and its band."""
    credits = defaultdict(Decimal)
    for currency, _, amount in months or ():
        credits[currency] += amount
    row["credits"] = {currency: money(amount) for currency, amount in sorted(credits.items())}
    row["credits_reporting"] = rates.total(months) if months else None
    row["band"] = policy.band(row["score"])


# A scorecard row key → the SQL that sorts it as django-tables2 sorts the rows: None before any value, text
# by code point (as Python compares strings). Percentages and scores are integers there (tenths).
SCORECARD_ORDER_SQL = {
    "rank": "score_rank",
    "name": 'label COLLATE "C"',
    "period_start": "bucket",
    "band": 'band COLLATE "C"',
    "compliance": "compliance10",
    "attrition": "attrition100",
    "score": "score10",
    "score_change": "score_change10",
    **{key: key for key in ("measured", "met", "minor", "major", "missing_reports", "on_time", "late", "overdue")},
}
SCORECARD_DEFAULT_ORDER = 'bucket DESC, score10 IS NULL, score10 DESC, label COLLATE "C", k'
SCORECARD_CHART_ROWS = 30
# The integer figures of a scorecard row in ``_scorecard_sql`` → (row key, decimal places).
SCORECARD_FIXED_POINT = {
    "compliance10": ("compliance", 1),
    "reporting10": ("reporting", 1),
    "replacements10": ("replacements_on_time", 1),
    "attrition100": ("attrition", 2),
    "score10": ("score", 1),
    "previous_score10": ("previous_score", 1),
    "score_change10": ("score_change", 1),
}
SCORECARD_COUNTS = (
    "measured",
    "met",
    "minor",
    "major",
    "missing_reports",
    "departures",
    "start_headcount",
    "end_headcount",
    "on_time",
    "late",
    "overdue",
)


def _half_up(numerator, denominator):
    """SQL: numerator ÷ denominator rounded half up to an integer, for non-negative integers; NULL for ÷ 0."""
    return f"CASE WHEN ({denominator}) > 0 THEN (2 * ({numerator}) + ({denominator})) / (2 * ({denominator})) END"


def _scorecard_sql(filters, policy, source, group, periods, first, limit, order_by):
    """The SQL (and params) of ``_scorecard_from_sql``: the summary's months added up per row (key, period),
    the replacement obligations due in each period joined on, every figure and the score computed as the
    Python functions do (``percent``, ``attrition_percent``, ``overall_score``), ranked per period, the
    previous period's score alongside, sorted, and cut to the rows asked for and the chart's.

    Percentages and scores are exact integers of tenths (attrition: hundredths), rounded half up, as
    ``ROUND_HALF_UP``; ``overall_score`` is one integer division (weights in hundredths, the retention part
    100 − 5 × attrition ÷ months multiplied out). None when a weight has more than 2 decimals."""
    weights = {key: Decimal(policy.weights.get(key) or 0) * 100 for key in SCORE_WEIGHTS}
    if any(w != w.to_integral_value() or w < 0 for w in weights.values()):
        return None
    w = {key: int(value) for key, value in weights.items()}
    queryset, prefix = source
    id_path, label_path, currency_path = _summary_paths(group, prefix)
    months_per_period = 3 if filters.period == "quarter" else 1
    summary = (
        queryset.filter(month__gte=periods[0][0], month__lte=periods[-1][1])
        .annotate(k=F(id_path), label=F(label_path), cur=F(currency_path))
        .values(
            "k",
            "label",
            "cur",
            "month",
            "measured",
            "met",
            "breaches",
            "minor",
            "major",
            "missing_reports",
            "credit",
            "start_headcount",
            "end_headcount",
            "departures",
        )
        .order_by()
    )
    summary_sql, summary_params = summary.query.sql_with_params()
    o_id, o_label = _group_paths(group, "departed__contract__")
    trunc = TruncQuarter if filters.period == "quarter" else TruncMonth
    obligations = (
        ReplacementObligation.objects.with_fulfilment()
        .filter(filters.contract_q("departed__contract__"), due_on__gte=periods[0][0], due_on__lte=periods[-1][1])
        .annotate(k=F(o_id), bucket_start=trunc("due_on"))
        .values("k", "bucket_start")
        .annotate(label=F(o_label), **_obligation_states(filters.today))
        .order_by()
    )
    obligations_sql, obligations_params = obligations.query.sql_with_params()
    m = months_per_period
    bucket = "CAST(DATE_TRUNC('quarter', month) AS DATE)" if m == 3 else "month"
    last_month = f"CAST(bucket + MAKE_INTERVAL(months => {m - 1}) AS DATE)"
    page_last_month = f"CAST(page.bucket + MAKE_INTERVAL(months => {m - 1}) AS DATE)"
    previous = f"CAST(c.bucket - MAKE_INTERVAL(months => {m}) AS DATE)"
    # each part of the score: (its column, numerator, denominator (the part is present when above 0), weight)
    parts = [
        ("compliance10", "1000 * met", "measured", "compliance"),
        ("reporting10", "1000 * measured", "measured + missing_reports", "reporting"),
        ("replacements10", "1000 * on_time", "on_time + late + overdue", "replacements"),
        ("attrition100", "20000 * departures", "start_headcount + end_headcount", "retention"),
    ]
    parts = [(column, _half_up(share, base), base, key) for column, share, base, key in parts]
    # score in tenths = N ÷ (10 × months × Σ weights of the parts present), N = 10 × months × Σ weight × part
    # (tenths) + retention weight × max(0, 10000 × months − 5 × attrition (hundredths)). The integer expressions
    # are repeated here rather than read from a step before: cheaper than materializing one more step.
    numerator = " + ".join(
        f"{10 * m * w[key]} * COALESCE({expression}, 0)"
        if key != "retention"
        else f"CASE WHEN {base} > 0 THEN {w[key]} * GREATEST(0, {10000 * m} - 5 * {expression}) ELSE 0 END"
        for _, expression, base, key in parts
    )
    present = " + ".join(f"CASE WHEN {base} > 0 THEN {w[key]} ELSE 0 END" for _, _, base, key in parts)
    figures = ", ".join(f"{expression} AS {column}" for column, expression, _, _ in parts)
    band_sql, band_params = "CASE WHEN c.score10 IS NULL THEN NULL", []
    for label, floor in policy.bands:
        band_sql += " WHEN c.score10 >= %s THEN %s"
        band_params += [Decimal(floor) * 10, label]
    band_sql += " ELSE %s END"
    band_params.append(policy.lowest_band)
    ordering = []
    for key in order_by:
        column = SCORECARD_ORDER_SQL.get(key.lstrip("-"))
        if column:
            ordering.append(f"{column} DESC NULLS LAST" if key.startswith("-") else f"{column} ASC NULLS FIRST")
    ordering.append(SCORECARD_DEFAULT_ORDER)
    credit = "credit <> 0"
    score = f"CASE WHEN measured + missing_reports > 0 THEN {_half_up(numerator, f'{10 * m} * ({present})')} END"
    # The previous period's score: for every row when the page is sorted by the change, else for the rows read
    # only (the default page: half the rows scored, no join of every row to the one before).
    previous_columns = previous_join = page_previous_columns = page_previous_join = ""
    if any(key.lstrip("-") == "score_change" for key in order_by):
        previous_columns = "b.score10 AS previous_score10, c.score10 - b.score10 AS score_change10,"
        previous_join = f"LEFT JOIN s b ON b.k = c.k AND b.bucket = {previous}"
    else:
        page_previous_columns = "b.score10 AS previous_score10, page.score10 - b.score10 AS score_change10,"
        page_previous_join = (
            f"LEFT JOIN (SELECT k, bucket, {score} AS score10 FROM r) b"  # nosec B608  # SQL assembled from code fragments; values are bound parameters
            f" ON b.k = page.k AND b.bucket = CAST(page.bucket - MAKE_INTERVAL(months => {m}) AS DATE)"
        )
    sql = f"""
        WITH f AS (
            SELECT k, label, bucket, SUM(measured) AS measured, SUM(met) AS met, SUM(minor) AS minor,
                SUM(major) AS major, SUM(missing_reports) AS missing_reports, SUM(breaches) AS breaches,
                COALESCE(SUM(start_headcount) FILTER (WHERE month = bucket), 0) AS start_headcount,
                COALESCE(SUM(end_headcount) FILTER (WHERE month = {last_month}), 0) AS end_headcount,
                SUM(departures) AS departures
            FROM (SELECT s.*, {bucket} AS bucket FROM ({summary_sql}) s) s GROUP BY k, label, bucket
        ), o AS (
            SELECT o.*, CAST(o.bucket_start AS DATE) AS bucket FROM ({obligations_sql}) o
        ), r AS MATERIALIZED (
            SELECT COALESCE(f.k, o.k) AS k, COALESCE(f.label, o.label) AS label,
                COALESCE(f.bucket, o.bucket) AS bucket, COALESCE(f.measured, 0) AS measured,
                COALESCE(f.met, 0) AS met, COALESCE(f.minor, 0) AS minor, COALESCE(f.major, 0) AS major,
                COALESCE(f.missing_reports, 0) AS missing_reports,
                COALESCE(f.start_headcount, 0) AS start_headcount, COALESCE(f.end_headcount, 0) AS end_headcount,
                COALESCE(f.departures, 0) AS departures, COALESCE(o.on_time, 0) AS on_time,
                COALESCE(o.late, 0) AS late, COALESCE(o.overdue, 0) AS overdue
            FROM (
                SELECT * FROM f
                WHERE measured > 0 OR breaches > 0 OR start_headcount <> 0 OR end_headcount <> 0 OR departures <> 0
            ) f FULL JOIN o ON o.k = f.k AND o.bucket = f.bucket
        ), s AS (
            SELECT r.*, {figures}, {score} AS score10 FROM r
        ), shown AS MATERIALIZED (
            SELECT c.*, {band_sql} AS band, {previous_columns}
                CASE WHEN c.score10 IS NOT NULL THEN ROW_NUMBER() OVER (
                    PARTITION BY c.bucket, c.score10 IS NULL ORDER BY c.score10 DESC, c.label COLLATE "C", c.k)
                END AS score_rank
            FROM s c {previous_join}
            WHERE c.bucket >= %s
        ), page AS (
            (SELECT *, TRUE AS on_page FROM shown ORDER BY {", ".join(ordering)} LIMIT %s)
            UNION ALL
            (SELECT *, FALSE AS on_page FROM shown
             WHERE bucket = (SELECT MAX(bucket) FROM shown) AND score_rank <= {SCORECARD_CHART_ROWS})
        )
        SELECT * FROM (  -- the credits of the rows read (their months, from the summary's index)
            SELECT page.*, {page_previous_columns} credits.*,
                (SELECT MAX(bucket) FROM shown) AS latest, (SELECT COUNT(*) FROM shown) AS row_count
            FROM page {page_previous_join} CROSS JOIN LATERAL (
                SELECT ARRAY_AGG(cur) AS credit_currencies, ARRAY_AGG(month) AS credit_months,
                    ARRAY_AGG(credit) AS credit_amounts
                FROM ({summary_sql}) s
                WHERE s.k = page.k AND s.month >= page.bucket AND s.month <= {page_last_month} AND {credit}
            ) credits
        ) page
        ORDER BY {", ".join(ordering)}
    """  # nosec B608  # SQL of Django querysets and fragments built in code; values are bound parameters
    params = [*summary_params, *obligations_params, *band_params, first, limit, *summary_params]
    return sql, params


def _scorecard_from_sql(filters, policy, source, group, periods, first, limit, order_by):
    """``scorecard_page`` in one query over the monthly summary (``_scorecard_sql``); None when it cannot."""
    query = _scorecard_sql(filters, policy, source, group, periods, first, limit, order_by)
    if query is None:
        return None
    with connections[source[0].db].cursor() as cursor:
        cursor.execute(*query)
        names = [column[0] for column in cursor.description]
        fetched = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    labels = {start: label for start, _, label in periods}
    credit_months = [
        tuple(zip(f["credit_currencies"], f["credit_months"], f["credit_amounts"], strict=True))
        if f["credit_months"]
        else None
        for f in fetched
    ]
    rates = RateBook(pair[:2] for months in credit_months for pair in months or ())
    rows, chart_rows = [], []  # the page's, the chart's (the newest period's best, perhaps again)
    for f, months in zip(fetched, credit_months, strict=True):
        row = {key: f[key] for key in SCORECARD_COUNTS}
        for column, (key, places) in SCORECARD_FIXED_POINT.items():
            row[key] = None if f[column] is None else Decimal(f[column]).scaleb(-places)
        row["key"], row["name"], row["period_start"] = f["k"], f["label"], f["bucket"]
        row["period"] = labels.get(f["bucket"], str(f["bucket"]))
        row["rank"] = f["score_rank"]
        _finish_scorecard_row(row, months, rates, policy)
        (rows if f["on_page"] else chart_rows).append(row)
    chart_rows.sort(key=itemgetter("rank"))
    row_count, latest = (fetched[0]["row_count"], fetched[0]["latest"]) if fetched else (0, None)
    return {
        "rows": rows,
        "row_count": row_count,
        "chart_rows": chart_rows,
        "latest_period": labels.get(latest, str(latest)) if fetched else "",
        "query_ordered": True,
    }


def _vendor_scorecard(filters, policy):
    group = "contract" if filters.group == "contract" else "vendor"
    periods = buckets(filters.start, filters.end, filters.period)
    if not periods:
        return [], {}
    first, last = periods[0][0], periods[-1][1]
    trunc = TruncQuarter if filters.period == "quarter" else TruncMonth
    months_per_period = 3 if filters.period == "quarter" else 1
    rows = {}
    credit_months = {}  # (key, period start) → ((currency, month, amount), …): _add_credit

    def row(key, label, bucket_start):
        found = rows.get((key, bucket_start))
        if found is not None:  # (not ``setdefault``: building the empty row for every figure cost 15 % of the report)
            return found
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
                "departures": 0,
                "start_headcount": 0,
                "end_headcount": 0,
                "on_time": 0,
                "late": 0,
                "overdue": 0,
            },
        )

    source = summary_source(filters, group, staff_months=(first, last))
    if source:
        _scorecard_from_summary(source, group, periods, months_per_period, row, credit_months)
    else:
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
            .annotate(bucket=trunc("period_end"), month=TruncMonth("period_end"))
            .values(id_path, label_path, "bucket", "month", "contract__currency")
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
                _add_credit(credit_months, r, item["contract__currency"], item["month"], item["credit"])

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

    labels = {start: label for start, _, label in periods}
    # Tens of thousands of vendor-periods share a few thousand distinct figures (percentages to 0.1): each
    # Decimal computation runs once per distinct input (the xl scorecard: 20,000 scores, 4,000 distinct).
    percent_of, attritions, scores = memo_percent(), {}, {}

    result = []
    for r in rows.values():
        r["period"] = labels.get(r["period_start"], str(r["period_start"]))
        r["compliance"] = compliance = percent_of(r["met"], r["measured"])
        r["reporting"] = reporting = percent_of(r["measured"], r["measured"] + r["missing_reports"])
        due = r["on_time"] + r["late"] + r["overdue"]
        r["replacements_on_time"] = replacements = percent_of(r["on_time"], due)
        staffing = (r["departures"], r["start_headcount"], r["end_headcount"])
        attrition = attritions.get(staffing, attritions)
        if attrition is attritions:
            attrition = attritions[staffing] = attrition_percent(*staffing)
        r["attrition"] = attrition
        # No SLA figure due in the period (nothing measured, no report missing): no score, whatever the staffing
        # parts say — retention alone would make an unmeasured quarter score 100.
        if reporting is None:
            r["score"] = None
        else:
            parts = (compliance, reporting, replacements, attrition)
            score = scores.get(parts, scores)
            if score is scores:
                monthly = None if attrition is None else attrition / months_per_period
                score = scores[parts] = overall_score(compliance, reporting, replacements, monthly, policy.weights)
            r["score"] = score
        result.append(r)
    # rank within each period (newest period first), best score first; no score: last, unranked
    result.sort(key=lambda r: (-r["period_start"].toordinal(), r["score"] is None, -(r["score"] or 0), r["name"]))
    ranks = defaultdict(int)  # period → rows ranked so far
    for r in result:
        if r["score"] is None:
            r["rank"] = None
        else:
            ranks[r["period_start"]] += 1
            r["rank"] = ranks[r["period_start"]]
    return result, credit_months


# --- 2. compliance trend ---------------------------------------------------------------------
# A compliance-trend column → the SQL that sorts it (``compliance_trend_page``); months' columns are not here:
# sorting by one month needs every series' percentages, and the page then reads them all.
TREND_ORDER_SQL = {"name": 'label COLLATE "C"', "total_compliance": "total10", "measured_total": "measured_total"}
TREND_CHART_SERIES = 8


def compliance_trend_page(filters, limit, order_by=()):
    """``compliance_trend`` for a page: the ``limit`` series first in ``order_by`` (row keys, ``-`` for
    descending; then by name) and the ``TREND_CHART_SERIES`` with the most measurements, plus
    ``series_count`` and ``chart_series``; ``query_ordered`` when the database sorted and cut them.

    Per vendor on PostgreSQL over the summary: one query adds up each vendor's range, picks the page's and
    the chart's vendors, and reads the months of those only. Otherwise (other groups, a month's column
    sorted) every series, as ``compliance_trend``, for the table to sort."""
    keys = [key.lstrip("-") for key in order_by]
    source = None
    if filters.group != "service_type" and all(key in TREND_ORDER_SQL for key in keys):
        source = summary_source(filters, "vendor")
    if not source or connections[source[0].db].vendor != "postgresql":
        data = compliance_trend(filters)
        chart = sorted(data["series"], key=lambda s: sum(s["measured"]), reverse=True)[:TREND_CHART_SERIES]
        return {**data, "chart_series": chart, "series_count": len(data["series"]), "query_ordered": False}
    months = buckets(filters.start, filters.end, "month")
    queryset, prefix = source
    id_path, label_path, _ = _summary_paths("vendor", prefix)
    summary = (
        queryset.filter(month__gte=months[0][0], month__lte=months[-1][0], measured__gt=0)
        .annotate(k=F(id_path), label=F(label_path))
        .values("k", "label", "month", "measured", "met")
        .order_by()
    )
    summary_sql, summary_params = summary.query.sql_with_params()
    ordering = [
        f"{TREND_ORDER_SQL[key.lstrip('-')]} {'DESC NULLS LAST' if key.startswith('-') else 'ASC NULLS FIRST'}"
        for key in order_by
    ]
    ordering.append('label COLLATE "C", k')
    pivot = ", ".join(
        f"SUM(measured) FILTER (WHERE month = %s) AS measured_{i}, SUM(met) FILTER (WHERE month = %s) AS met_{i}"
        for i in range(len(months))
    )
    pivot_params = [first for first, _, _ in months for _ in range(2)]
    sql = f"""
        WITH t AS MATERIALIZED (  -- (grouped by the key alone: the planner then expects one row per vendor)
            SELECT k, MIN(label) AS label, SUM(measured) AS measured_total,
                (2000 * SUM(met) + SUM(measured)) / (2 * SUM(measured)) AS total10
            FROM ({summary_sql}) s GROUP BY k
        ), picked AS (
            (SELECT k, TRUE AS on_page FROM t ORDER BY {", ".join(ordering)} LIMIT %s)
            UNION ALL
            (SELECT k, FALSE FROM t ORDER BY measured_total DESC, label COLLATE "C", k LIMIT {TREND_CHART_SERIES})
        )
        SELECT * FROM (
            SELECT t.*, picked.on_page, (SELECT COUNT(*) FROM t) AS series_count, p.*
            FROM picked JOIN t ON t.k = picked.k
            CROSS JOIN LATERAL (SELECT {pivot} FROM ({summary_sql}) s WHERE s.k = picked.k) p
        ) x
        ORDER BY on_page DESC, {", ".join(ordering)}
    """  # nosec B608  # SQL of Django querysets and fragments built in code; values are bound parameters
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, [*summary_params, limit, *pivot_params, *summary_params])
        names = [column[0] for column in cursor.description]
        fetched = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    page, chart = {}, {}
    for item in fetched:
        series = {
            "key": item["k"],
            "name": item["label"],
            "measured": [item[f"measured_{i}"] or 0 for i in range(len(months))],
            "met": [item[f"met_{i}"] or 0 for i in range(len(months))],
        }
        (page if item["on_page"] else chart)[item["k"]] = series
    filters.from_summary = True
    result = _trend_result(months, page, ordered=True)
    chart = _trend_result(months, chart)["series"]
    chart.sort(key=lambda s: sum(s["measured"]), reverse=True)
    series_count = fetched[0]["series_count"] if fetched else 0
    return {**result, "chart_series": chart, "series_count": series_count, "query_ordered": True}


def compliance_trend(filters):
    """{months: [(first day, label)], series: [{key, name, measured[], met[], compliance[]}]} — one query
    (on the monthly summary when it is built)."""
    group = "service_type" if filters.group == "service_type" else "vendor"
    months = buckets(filters.start, filters.end, "month")
    index = {first: i for i, (first, _, _) in enumerate(months)}
    source = summary_source(filters, group)
    if source:  # one row per group, a pair of sums per month
        queryset, prefix = source
        id_path, label_path, _ = _summary_paths(group, prefix)
        aggregates = {}
        for i, (first, _, _) in enumerate(months):
            aggregates[f"measured_{i}"] = Sum("measured", filter=Q(month=first))
            aggregates[f"met_{i}"] = Sum("met", filter=Q(month=first))
        series = {}
        for item in _fetch(
            queryset.filter(month__gte=months[0][0], month__lte=months[-1][0], measured__gt=0)
            .values(id_path, label_path)
            .annotate(**aggregates)
            .order_by()
        ):
            series[item[id_path]] = {
                "key": item[id_path],
                "name": _group_label(group, item[label_path]),
                "measured": [item[f"measured_{i}"] or 0 for i in range(len(months))],
                "met": [item[f"met_{i}"] or 0 for i in range(len(months))],
            }
        return _trend_result(months, series)
    id_path, label_path = _group_paths(group, "sla__contract__")
    rows = (
        Measurement.objects.with_outcome()
        .filter(filters.contract_q("sla__contract__"), period_end__gte=months[0][0], period_end__lte=months[-1][1])
        .annotate(month=TruncMonth("period_end"))
        .values(id_path, label_path, "month")
        .annotate(n_measured=Count("pk"), n_met=Count("pk", filter=Q(met=True)))
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
        s["measured"][i], s["met"][i] = item["n_measured"], item["n_met"]
    return _trend_result(months, series)


def _trend_result(months, series, ordered=False):
    result = list(series.values()) if ordered else sorted(series.values(), key=lambda s: s["name"])
    percent_of = memo_percent()
    for s in result:
        s["compliance"] = [percent_of(met, n) for met, n in zip(s["met"], s["measured"], strict=True)]
        s["total_compliance"] = percent_of(sum(s["met"]), sum(s["measured"]))
    return {"months": [(first, label) for first, _, label in months], "series": result}


# --- 3. service credits ----------------------------------------------------------------------
def _credit_row(item, month, earned, earned_back, major):
    cap = money(item["contract__monthly_fee"] * item["contract__at_risk_percent"] / 100)
    earned = money(earned)
    return {
        "contract_id": item["contract_id"],
        "contract": item["contract__reference"],
        "vendor": item["contract__vendor__name"],
        "currency": item["contract__currency"],
        "month": month,
        "month_label": month.strftime("%b %Y"),
        "breaches": major,
        "earned": earned,
        "earned_back": money(earned_back),
        "cap": cap,
        "percent_of_cap": percent(earned, cap),
        "capped": cap > 0 and earned >= cap,
    }


CREDIT_ROW_FIELDS = (
    "contract_id",
    "contract__reference",
    "contract__vendor__name",
    "contract__currency",
    "contract__monthly_fee",
    "contract__at_risk_percent",
)


def service_credits(filters, limit=None, owed_order=()):
    """Per contract and month: credits earned vs the cap; totals per currency; owed per vendor this quarter.

    Two aggregate queries on the breaches; on the monthly summary, three small ones (``rows`` then holds
    at most ``limit`` rows, newest month first; ``row_count`` says how many there are).
    """
    first, last = month_start(filters.start), month_end(filters.end)
    q_first, q_last = period_bounds(Frequency.QUARTERLY, filters.today)
    source = summary_source(filters, "vendor")
    if source:
        return _service_credits_from_summary(filters, source, first, last, q_first, q_last, limit, owed_order)
    rows = (
        Breach.objects.filter(filters.contract_q("contract__"), period_end__gte=first, period_end__lte=last)
        .exclude(status__in=NO_CREDIT_OWED)
        .annotate(month=TruncMonth("period_end"))
        .values(*CREDIT_ROW_FIELDS, "month")
        .annotate(
            earned=Sum("service_credit"),
            earned_back=Sum("credit_earned_back"),
            major=Count("pk", filter=Q(severity=Severity.MAJOR)),
        )
        .filter(Q(earned__gt=0) | Q(earned_back__gt=0))
        .order_by("-month", "contract__vendor__name", "contract__reference")
    )
    result = [_credit_row(item, item["month"], item["earned"], item["earned_back"], item["major"]) for item in rows]
    owed = (
        Breach.objects.filter(filters.contract_q("contract__"), period_end__gte=q_first, period_end__lte=q_last)
        .exclude(status__in=NO_CREDIT_OWED)
        .annotate(month=TruncMonth("period_end"))
        .values("contract__vendor_id", "contract__vendor__name", "contract__currency", "month")
        .annotate(owed=Sum("service_credit"), n_breaches=Count("pk", filter=Q(service_credit__gt=0)))
        .filter(owed__gt=0)
        .order_by("contract__vendor__name", "contract__currency", "month")
    )
    owed = _owed_rows(owed, "contract__vendor_id", "contract__vendor__name", "contract__currency")
    return _credit_totals(result, None, owed, q_first)


def _owed_rows(months, vendor_path, vendor_name, currency_path):
    """What each vendor owes per currency, from rows per vendor, currency and month (in that order); each
    keeps its ``months`` ``[(currency, month, amount)]`` for the conversion to the reporting currency."""
    owed = {}
    for o in months:
        row = owed.setdefault(
            (o[vendor_path], o[currency_path]),
            {
                "vendor_id": o[vendor_path],
                "vendor": o[vendor_name],
                "currency": o[currency_path],
                "owed": ZERO,
                "breaches": 0,
                "months": [],
            },
        )
        row["owed"] += o["owed"]
        row["breaches"] += o["n_breaches"]
        row["months"].append((o[currency_path], o["month"], o["owed"]))
    for row in owed.values():
        row["owed"] = money(row["owed"])
    return list(owed.values())


def _currency_totals(amounts):
    """``[{currency, earned, earned_back, cap}]`` from ``(currency, earned, earned back, cap)`` items, added up
    per currency."""
    sums = defaultdict(lambda: [ZERO, ZERO, ZERO])
    for currency, earned, earned_back, cap in amounts:
        total = sums[currency]
        total[0] += earned
        total[1] += earned_back
        total[2] += cap
    return [
        {"currency": currency, "earned": money(earned), "earned_back": money(earned_back), "cap": money(cap)}
        for currency, (earned, earned_back, cap) in sorted(sums.items())
    ]


def _credit_totals(rows, totals, owed, q_first, row_count=None, by_month=None):
    """The report's dict; ``totals`` and ``by_month`` are added up from ``rows`` when not given."""
    if totals is None:
        totals = _currency_totals((r["currency"], r["earned"], r["earned_back"], r["cap"]) for r in rows)
    if by_month is None:
        by_month = defaultdict(Decimal)
        for r in rows:
            by_month[(r["month"], r["currency"])] += r["earned"]
        by_month = dict(by_month)
    # In the reporting currency, each month at its rate: every (currency, month) of the page in one query.
    earned_months = [(currency, month, amount) for (month, currency), amount in by_month.items()]
    owed_months = [m for o in owed for m in o["months"]]
    pairs = [(currency, month) for currency, month, _ in [*earned_months, *owed_months]]
    rates = RateBook(pairs + [(r["currency"], r["month"]) for r in rows])
    for r in rows:
        r["earned_reporting"] = rates.convert(r["currency"], r["month"], r["earned"])
    for total in totals:
        total["earned_reporting"] = rates.total(m for m in earned_months if m[0] == total["currency"])
    for o in owed:
        o["owed_reporting"] = rates.total(o.pop("months"))
    return {
        "rows": rows,
        "row_count": len(rows) if row_count is None else row_count,
        "totals": totals,
        "by_month": by_month,
        "owed_this_quarter": owed,
        "total_reporting": rates.total(earned_months),
        "quarter": f"{q_first.year} Q{(q_first.month - 1) // 3 + 1}",
        "owed_count": None,  # how many vendor-currencies owe, when ``owed_this_quarter`` holds the first only
    }


def _service_credits_from_summary(filters, source, first, last, q_first, q_last, limit, owed_order=()):
    """``service_credits`` from the monthly summary: contract rows from ``ContractMonth``; totals, chart
    and row count from ``VendorMonth`` when the view is unfiltered (else added up from all the rows)."""
    from .models import ContractMonth

    queryset, prefix = source
    owing = Q(credit__gt=0) | Q(earned_back__gt=0)
    contract_months = (
        ContractMonth.objects.filter(filters.contract_q("contract__"), owing, month__gte=first, month__lte=last)
        .order_by("-month", "contract__vendor__name", "contract__reference")
        .values(*CREDIT_ROW_FIELDS, "month", "credit", "earned_back", "major_owed")
    )
    totals = by_month = row_count = None
    if prefix is None:
        months = list(
            queryset.filter(month__gte=first, month__lte=last, credit_contracts__gt=0)
            .values("month", "currency")
            .annotate(
                n_earned=Sum("credit"),
                n_earned_back=Sum("earned_back"),
                n_cap=Sum("credit_cap"),
                n_rows=Sum("credit_contracts"),
            )
            .order_by()
        )
        totals = _currency_totals((m["currency"], m["n_earned"], m["n_earned_back"], m["n_cap"]) for m in months)
        by_month = {(m["month"], m["currency"]): money(m["n_earned"]) for m in months}
        row_count = sum(m["n_rows"] for m in months)
        # Unfiltered or one vendor (no prefix): the page's first rows; totals, chart and row count from VendorMonth.
        # Filtered by contract attributes: few rows, all of them, and the totals added up from them.
        if limit is not None:
            contract_months = _first_contract_months(contract_months, months, limit)
    rows = [_credit_row(i, i["month"], i["credit"], i["earned_back"], i["major_owed"]) for i in contract_months]
    vendor_path, vendor_name, currency_path = _summary_paths("vendor", prefix)
    owed_months = (
        queryset.filter(month__gte=q_first, month__lte=q_last)
        .values(vendor_path, vendor_name, currency_path, "month")
        .annotate(owed=Sum("credit"), n_breaches=Sum("credited_breaches"))
        .filter(owed__gt=0)
    )
    owed_count = None
    if limit is None or connections[queryset.db].vendor != "postgresql":
        owed = _owed_rows(
            owed_months.order_by(vendor_name, currency_path, "month"), vendor_path, vendor_name, currency_path
        )
    else:
        owed, owed_count = _first_owed_rows(
            owed_months.order_by(), vendor_path, vendor_name, currency_path, limit, owed_order
        )
    result = _credit_totals(rows, totals, owed, q_first, row_count, by_month)
    result["owed_count"] = owed_count
    return result


# Months with at least this many owing contracts are read in (vendor, reference) order through the vendor name
# and contract indexes, stopping at the page's rows; sparser months are read whole and sorted.
DENSE_CREDIT_MONTH = 1000


def _first_contract_months(contract_months, months, limit):
    """The first ``limit`` of ``contract_months`` (newest month first, then vendor name and reference), read
    month by month: only the newest months that hold them (``months``: the summary's owing contracts per
    month, ``n_rows``), each in one branch of a ``UNION ALL``. Sorting a whole month's owing contracts (29,000
    at the xl preset) by vendor name cost 250 ms; in a dense month the index order finds 100 in a few ms."""
    from django.db.models.functions import Collate

    if not connections[contract_months.db].features.supports_slicing_ordering_in_compound:  # SQLite (the demo)
        return list(contract_months[:limit])
    per_month = defaultdict(int)
    for m in months:
        per_month[m["month"]] += m["n_rows"]
    parts, found = [], 0
    for month in sorted(per_month, reverse=True):
        if found >= limit:
            break
        part = contract_months.filter(month=month)
        if per_month[month] < DENSE_CREDIT_MONTH:  # (a byte-order sort of the few rows, not an index walk)
            part = part.order_by(Collate("contract__vendor__name", "C"), "contract__reference")
        parts.append(part[:limit])
        found += per_month[month]
    if not parts:  # nothing owed in the range (still one query, as every other page)
        return list(contract_months[:limit])
    if len(parts) == 1:
        return list(parts[0])
    union = parts[0].union(*parts[1:], all=True).order_by("-month", "contract__vendor__name", "contract__reference")
    return list(union[:limit])


# An owed-this-quarter column → the SQL that sorts it (``_first_owed_rows``).
OWED_ORDER_SQL = {
    "vendor": 'name COLLATE "C"',
    "currency": 'currency COLLATE "C"',
    "breaches": "breaches",
    "owed": "owed",
}


def _first_owed_rows(owed_months, vendor_path, vendor_name, currency_path, limit, order_by):
    """``_owed_rows`` of the first ``limit`` vendor-currencies in ``order_by`` (row keys, ``-`` for
    descending; then vendor name and currency), added up in SQL, and how many there are."""
    ordering = []
    for key in order_by:
        column = OWED_ORDER_SQL.get(key.lstrip("-"))
        if column:
            ordering.append(f"{column} {'DESC NULLS LAST' if key.startswith('-') else 'ASC NULLS FIRST'}")
    ordering.append('name COLLATE "C", currency COLLATE "C"')
    sql, params = owed_months.query.sql_with_params()
    vendor_id, name, currency = (
        connections[owed_months.db].ops.quote_name(c) for c in (vendor_path, vendor_name, currency_path)
    )
    with connections[owed_months.db].cursor() as cursor:
        cursor.execute(
            f"""
            SELECT * FROM (
                SELECT {vendor_id} AS vendor_id, {name} AS name, {currency} AS currency, SUM(owed) AS owed,
                    SUM(n_breaches) AS breaches, ARRAY_AGG(month) AS months, ARRAY_AGG(owed) AS amounts,
                    COUNT(*) OVER () AS row_count
                FROM ({sql}) o GROUP BY {vendor_id}, {name}, {currency}
            ) v ORDER BY {", ".join(ordering)} LIMIT %s
            """,  # nosec B608  # SQL of a Django queryset and fragments built in code; values are bound parameters
            [*params, limit],
        )
        fetched = cursor.fetchall()
    owed = [
        {
            "vendor_id": vendor,
            "vendor": label,
            "currency": code,
            "owed": money(amount),
            "breaches": breaches,
            "months": [(code, month, value) for month, value in zip(months, amounts, strict=True)],
        }
        for vendor, label, code, amount, breaches, months, amounts, _ in fetched
    ]
    return owed, (fetched[0][-1] if fetched else 0)


# --- 4. attrition & replacements -------------------------------------------------------------
def _attrition_staff_from_summary(source, group, months, first, last, refresh_month):
    """The attrition report's staff rows (``headcount_now``, ``start_i``, ``end_i``, ``left_i``) from the
    monthly summary: one query, a row per group. Headcount now: the roster on the day of the last refresh."""
    queryset, prefix = source
    id_path, label_path, _ = _summary_paths(group, prefix)
    aggregates = {"headcount_now": Sum("headcount_today", filter=Q(month=refresh_month))}
    for i, (first_day, _, _) in enumerate(months):
        in_month = Q(month=first_day)
        aggregates[f"start_{i}"] = Sum("start_headcount", filter=in_month)
        aggregates[f"end_{i}"] = Sum("end_headcount", filter=in_month)
        aggregates[f"left_{i}"] = Sum("departures", filter=in_month)
    rows = _fetch(
        queryset.filter(Q(month__gte=first, month__lte=last) | Q(month=refresh_month))
        .values(id_path, label_path)
        .annotate(**aggregates)
        .order_by()
    )
    staff = []
    for row in rows:
        for key, value in row.items():
            if value is None:
                row[key] = 0
        # a group the live query would not list: nobody on its roster in the range, nor today
        if any(value for key, value in row.items() if key not in (id_path, label_path)):
            staff.append(row)
    return staff, id_path, label_path


def _attrition_contracted(filters, group):
    """Contracted headcount of the active contracts in force today, per group: ``{key: row}``."""
    id_path, label_path = _group_paths(group, "")
    contracts = Contract.objects.active().current(filters.today).filter(filters.contract_q())
    if connections[contracts.db].vendor == "postgresql":  # labels looked up per group, not joined to each contract
        grouped = contracts.values(id_path).annotate(contracted=Sum("contracted_headcount")).order_by()
        return {
            key: {id_path: key, label_path: label, "contracted": contracted}
            for key, contracted, label in _labelled(grouped, id_path, group)
        }
    return {
        item[id_path]: item
        for item in contracts.values(id_path, label_path).annotate(contracted=Sum("contracted_headcount")).order_by()
    }


def _attrition_obligations(filters, group):
    """Replacement obligations per group and state (today): ``({key: row}, label path)``."""
    id_o, label_o = _group_paths(group, "departed__contract__")
    obligations = {
        item[id_o]: item
        for item in _fetch(
            ReplacementObligation.objects.with_fulfilment()
            .filter(filters.contract_q("departed__contract__"))
            .values(id_o, label_o)
            .annotate(**_obligation_states(filters.today))
            .order_by()
        )
    }
    return obligations, label_o


def attrition(filters):
    """Per vendor (or contract): contracted vs actual headcount, monthly attrition (rule 6) for each month,
    average and annualised attrition, replacement obligations by state (``states``: all of them, as
    ``[(label, count)]``). Three aggregate queries."""
    group = "contract" if filters.group == "contract" else "vendor"
    months = buckets(filters.start, filters.end, "month")
    first, last = months[0][0], months[-1][1]
    today = filters.today

    contracted = _attrition_contracted(filters, group)
    source = summary_source(filters, group, staff_months=(first, last))
    if source:
        refresh_month = month_start(filters.state.today)
        staff, id_path, label_path = _attrition_staff_from_summary(source, group, months, first, last, refresh_month)
    else:
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
    obligations, label_o = _attrition_obligations(filters, group)
    staff = list(staff)
    totals = {}
    for kind in ("start", "end", "left"):  # (a generator: 40 % of the xl page)
        totals[kind] = [sum(map(itemgetter(f"{kind}_{i}"), staff)) for i in range(len(months))]
    result = _attrition_rows(group, months, staff, id_path, label_path, contracted, obligations, label_o)
    result.sort(key=lambda r: r["name"] or "")
    return _attrition_result(months, result, totals, obligations)


def _attrition_rows(group, months, staff, id_path, label_path, contracted, obligations, label_o):
    """The attrition report's rows of the groups in ``staff`` (summary rows), ``contracted`` and
    ``obligations``, unsorted."""
    rows = {}
    start_keys, end_keys, left_keys = ([f"{kind}_{i}" for i in range(len(months))] for kind in ("start", "end", "left"))
    for item in staff:
        key = item[id_path]
        lefts = [item[k] for k in left_keys]
        rows[key] = {
            "key": key,
            "name": item[label_path],
            "headcount": item["headcount_now"],
            "monthly": list(map(attrition_percent, lefts, [item[k] for k in start_keys], [item[k] for k in end_keys])),
            "departures": sum(lefts),
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
    return result


def _attrition_result(months, rows, totals, obligations):
    overall = [
        attrition_percent(d, s, e) for s, e, d in zip(totals["start"], totals["end"], totals["left"], strict=True)
    ]
    return {
        "months": [(f, label) for f, _, label in months],
        "rows": rows,
        "overall": overall,
        "states": [
            (label, sum(item[state] for item in obligations.values())) for state, label in OBLIGATION_STATE_LABELS
        ],
    }


def attrition_page(filters, limit, summary_order=(), monthly_order=()):
    """``attrition`` for a page: ``summary_rows`` and ``monthly_rows`` (the first ``limit`` rows of each table
    in its order, by name), ``chart_rows`` (the most staff now), ``row_count``; ``query_ordered`` when only
    those rows were built.

    Over the summary, while both tables are sorted by name: the groups and their headcount today in one
    query, the month totals of the chart's "All" in another, and the months of the rows shown only in a
    third (every group's months: 30,000 rows × 36 figures at the xl preset). Otherwise every row, for the
    tables to sort."""
    group = "contract" if filters.group == "contract" else "vendor"
    months = buckets(filters.start, filters.end, "month")
    first, last = months[0][0], months[-1][1]
    by_name = all(key.lstrip("-") == "name" for key in (*summary_order, *monthly_order))
    source = summary_source(filters, group, staff_months=(first, last)) if by_name else None
    if not source or connections[source[0].db].vendor != "postgresql":
        data = attrition(filters)
        chart = sorted(data["rows"], key=itemgetter("headcount"), reverse=True)[:ATTRITION_CHART_ROWS]
        rows = data["rows"]
        return {**data, "summary_rows": rows, "monthly_rows": rows, "chart_rows": chart, "row_count": None}
    queryset, prefix = source
    id_path, label_path, _ = _summary_paths(group, prefix)
    refresh_month = month_start(filters.state.today)
    in_range = Q(month__gte=first, month__lte=last)
    # (the refresh month is in the default range: then one range of the month index, not a scan of every month)
    read = in_range if first <= refresh_month <= last else in_range | Q(month=refresh_month)
    groups = _labelled(
        queryset.filter(read)
        .values(id_path)
        .annotate(
            headcount_now=Sum("headcount_today", filter=Q(month=refresh_month)),
            figures=Sum(F("start_headcount") + F("end_headcount") + F("departures"), filter=in_range),
        )
        .order_by(),
        id_path,
        group,
    )
    totals_source = queryset
    if prefix is None and not filters.vendor_id:  # every vendor's months added up: the portfolio's
        from .models import PortfolioMonth

        totals_source = PortfolioMonth.objects.all()
    month_totals = {
        item["month"]: item
        for item in totals_source.filter(in_range)
        .values("month")
        .annotate(start=Sum("start_headcount"), end=Sum("end_headcount"), left=Sum("departures"))
        .order_by()
    }
    contracted = _attrition_contracted(filters, group)
    obligations, label_o = _attrition_obligations(filters, group)
    # every group's name and headcount now, in the order ``attrition`` lists them (a group with no staff
    # figure in the range nor today only when contracted or owed a replacement)
    names, headcounts = {}, {}
    for key, headcount_now, figures, label in groups:
        if headcount_now or figures:
            names[key], headcounts[key] = label, headcount_now or 0
    contract_label = _group_paths(group, "")[1]
    for key, item in contracted.items():
        names.setdefault(key, item[contract_label])
    for key, item in obligations.items():
        names.setdefault(key, item[label_o])
    ordered = sorted(names, key=lambda key: names[key] or "")
    # (``nlargest`` is that sort, stable, cut: without sorting 10,000 groups for 7 of them)
    chart_keys = heapq.nlargest(ATTRITION_CHART_ROWS, ordered, key=lambda key: headcounts.get(key, 0))

    def first_rows(order):
        return (ordered[::-1] if order and order[0].startswith("-") else ordered)[:limit]

    summary_keys, monthly_keys = first_rows(summary_order), first_rows(monthly_order)
    shown = {*summary_keys, *monthly_keys, *chart_keys}
    staff, id_path, label_path = _attrition_staff_from_summary(
        (queryset.filter(**{f"{id_path}__in": shown}), prefix), group, months, first, last, refresh_month
    )
    rows = _attrition_rows(
        group,
        months,
        staff,
        id_path,
        label_path,
        {key: item for key, item in contracted.items() if key in shown},
        {key: item for key, item in obligations.items() if key in shown},
        label_o,
    )
    by_key = {r["key"]: r for r in rows}
    totals = {kind: [] for kind in ("start", "end", "left")}
    for first_day, _, _ in months:
        item = month_totals.get(first_day) or {}
        for kind in totals:
            totals[kind].append(item.get(kind) or 0)
    result = _attrition_result(months, [], totals, obligations)
    result.update(
        summary_rows=[by_key[key] for key in summary_keys],
        monthly_rows=[by_key[key] for key in monthly_keys],
        chart_rows=[by_key[key] for key in chart_keys],
        row_count=len(ordered),
    )
    return result


ATTRITION_CHART_ROWS = 7


def _labelled(grouped, id_path, group):
    """The rows of ``grouped`` (a ``values(id_path).annotate(…)`` queryset) as tuples, the group's label (vendor
    name, contract reference) last: looked up once per group after the grouping, not joined to every row
    grouped (130,000 summary rows for 10,000 vendors at the xl preset: a third of the query). PostgreSQL."""
    from vendors.models import Vendor

    model, field = (Contract, "reference") if group == "contract" else (Vendor, "name")
    connection = connections[grouped.db]
    quote = connection.ops.quote_name
    sql, params = grouped.query.sql_with_params()
    label, table, pk = (
        quote(model._meta.get_field(field).column),
        quote(model._meta.db_table),
        quote(model._meta.pk.column),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT g.*, l.{label} FROM ({sql}) g JOIN {table} l ON l.{pk} = g.{quote(id_path)}",  # nosec B608  # SQL of a Django queryset and model names; values are bound parameters
            params,
        )
        return cursor.fetchall()


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


SOURCING_GROUP = ("sourcing_model", "service_type", "delivery_country", "currency")


def _sourcing_groups(filters, first, last, staff_day):
    """The sourcing mix's rows: its contracts (active, overlapping first..last) grouped by ``SOURCING_GROUP``,
    with their number, fees, baseline, contracted headcount and ``headcount``, the staff on their rosters on
    ``staff_day``. One query.

    The roster: from the summary when it was refreshed on ``staff_day`` (``headcount_today`` on the rows of
    that month), as other reports read their headcount now; otherwise counted live, contract by contract."""
    contracts = (
        Contract.objects.active()
        .filter(filters.contract_q(), start_date__lte=last, end_date__gte=first)
        .annotate(delivery_country=Coalesce("delivery_center__country", "vendor__country"))
    )
    source = summary_source(filters, "contract", refreshed_on=staff_day)
    if source is None or connections[contracts.db].vendor != "postgresql":
        return list(
            contracts.annotate(roster=subquery_count(StaffMember.objects.active_on(staff_day), "contract"))
            .values(*SOURCING_GROUP)
            .annotate(
                n_contracts=Count("pk"),
                fee=Sum("monthly_fee"),
                baseline=Sum("baseline_monthly_cost"),
                contracted=Sum("contracted_headcount"),
                headcount=Sum("roster"),
            )
            .order_by()
        )
    from .models import ContractMonth

    # the summary's rows of that month with anyone on the roster (a partial index holds just those), hashed
    # and joined to the contracts: 50,000 counts of the staff table at the xl preset were 90 % of the report
    roster = ContractMonth.objects.filter(month=month_start(staff_day), headcount_today__gt=0).values(
        "contract_id", "headcount_today"
    )
    contracts_sql, contracts_params = (
        contracts.values("id", *SOURCING_GROUP, "monthly_fee", "baseline_monthly_cost", "contracted_headcount")
        .order_by()
        .query.sql_with_params()
    )
    roster_sql, roster_params = roster.query.sql_with_params()
    group = ", ".join(f"c.{name}" for name in SOURCING_GROUP)
    return _fetch_sql(
        contracts.db,
        f"SELECT {group}, COUNT(*) AS n_contracts, SUM(c.monthly_fee) AS fee,"  # nosec B608  # SQL of Django querysets; values are bound parameters
        " SUM(c.baseline_monthly_cost) AS baseline, SUM(c.contracted_headcount) AS contracted,"
        " COALESCE(SUM(r.headcount_today), 0) AS headcount"
        f" FROM ({contracts_sql}) c LEFT JOIN ({roster_sql}) r ON r.contract_id = c.id GROUP BY {group}",
        [*contracts_params, *roster_params],
    )


def sourcing_mix(filters):
    """Spend, baseline, savings and headcount by sourcing model, service type and delivery country, per
    currency, for contracts active during the range. One query, grouped by all three dimensions and
    added up per dimension here."""
    first, last = month_start(filters.start), month_end(filters.end)
    groups = _sourcing_groups(filters, first, last, staff_day=min(last, filters.today))
    # Fees in the reporting currency at the rate of the range's last month (one query, none in one currency).
    rate_month = month_start(filters.end)
    rates = RateBook((item["currency"], rate_month) for item in groups)
    result = {}
    for dimension, (title, path) in SOURCING_DIMENSIONS.items():
        sums = {}
        for item in groups:
            total = sums.setdefault(
                (item[path], item["currency"]), {"contracts": 0, "fee": ZERO, "baseline": ZERO, "contracted": 0, "n": 0}
            )
            total["contracts"] += item["n_contracts"]
            total["fee"] += item["fee"] or ZERO
            total["baseline"] += item["baseline"] or ZERO
            total["contracted"] += item["contracted"] or 0
            total["n"] += item["headcount"] or 0
        rows = []
        for (key, currency), total in sorted(sums.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])):
            savings = money(total["baseline"] - total["fee"])
            rows.append(
                {
                    "key": key,
                    "name": _dimension_label(dimension, key),
                    "currency": currency,
                    "contracts": total["contracts"],
                    "monthly_fee": money(total["fee"]),
                    "baseline": money(total["baseline"]),
                    "savings": savings,
                    "savings_percent": percent(savings, total["baseline"]),
                    "contracted": total["contracted"],
                    "headcount": total["n"],
                    "monthly_fee_reporting": rates.convert(currency, rate_month, money(total["fee"])),
                    "baseline_reporting": rates.convert(currency, rate_month, money(total["baseline"])),
                    "savings_reporting": rates.convert(currency, rate_month, savings),
                }
            )
        total = None
        if rows:  # every currency together: in the reporting currency only
            total = {
                "key": None,
                "name": "All",
                "currency": "",
                "contracts": sum(r["contracts"] for r in rows),
                "contracted": sum(r["contracted"] for r in rows),
                "headcount": sum(r["headcount"] for r in rows),
                **{
                    f"{key}_reporting": rates.total((r["currency"], rate_month, r[key]) for r in rows)
                    for key in ("monthly_fee", "baseline", "savings")
                },
            }
        result[dimension] = {"title": title, "rows": rows, "total": total, "rate_month": rate_month}
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


# A renewals column → the contract fields (or ``owner_name``) it sorts by, as django-tables2 sorted the rows.
RENEWAL_ORDER_FIELDS = {
    "notice_deadline": "notice_deadline",
    "days_left": "notice_deadline",
    "contract": "reference",
    "title": "title",
    "vendor": "vendor__name",
    "owner": "owner_name",
    "end_date": "end_date",
    "auto_renew": "auto_renew",
    "currency": "currency",
    "monthly_fee": "monthly_fee",
}
RENEWAL_DEFAULT_ORDER = ("notice_deadline", "reference")


def _renewal_bucket_q(low, high, today):
    q = Q()
    if low is not None:
        q &= Q(notice_deadline__gte=today + datetime.timedelta(days=low))
    if high is not None:  # "passed": before today (high 0 is exclusive there)
        high_day = today + datetime.timedelta(days=high)
        q &= Q(notice_deadline__lt=high_day) if low is None else Q(notice_deadline__lte=high_day)
    return q


def renewals(filters, limit=None, order_by=()):
    """Active, unexpired contracts with their notice deadline in the range: ``{"rows", "row_count", "counts"}``.

    ``rows``: in the order ``order_by`` asks (row keys, ``-`` for descending; soonest deadline first, then
    reference, which also breaks ties), at most ``limit`` of them. ``counts``: every contract in the range per
    ``RENEWAL_BUCKETS`` label, counted by the same query (window aggregates), so a page fetching its first
    rows still charts and counts them all. One query (and one for exchange rates, when a fee needs one).
    """
    today = filters.today
    ordering = []
    for key in order_by:
        field = RENEWAL_ORDER_FIELDS.get(key.lstrip("-"))
        if field:
            ordering.append(f"-{field}" if key.startswith("-") else field)
    counts = {
        f"n_{index}": Window(Count("pk", filter=_renewal_bucket_q(low, high, today)))
        for index, (low, high, _) in enumerate(RENEWAL_BUCKETS)
    }
    contracts = (
        Contract.objects.active()
        .current(today)
        .filter(filters.contract_q())
        .filter(notice_deadline__gte=month_start(filters.start), notice_deadline__lte=month_end(filters.end))
        .annotate(owner_name=person_name("owner"), **counts)
        .order_by(*ordering, *RENEWAL_DEFAULT_ORDER)
        .values(
            "pk",
            "reference",
            "title",
            "vendor__name",
            "owner_name",
            "end_date",
            "notice_deadline",
            "auto_renew",
            "monthly_fee",
            "currency",
            *counts,
        )
    )
    contracts = _fetch(contracts if limit is None else contracts[:limit])
    this_month = month_start(today)  # fees in the reporting currency at this month's rate
    rates = RateBook((c["currency"], this_month) for c in contracts)
    rows = []
    for c in contracts:
        days = (c["notice_deadline"] - today).days
        rows.append(
            {
                "contract_id": c["pk"],
                "contract": c["reference"],
                "title": c["title"],
                "vendor": c["vendor__name"],
                "owner": c["owner_name"],
                "end_date": c["end_date"],
                "notice_deadline": c["notice_deadline"],
                "days_left": days,
                "bucket": renewal_bucket(days),
                "auto_renew": c["auto_renew"],
                "monthly_fee": c["monthly_fee"],
                "currency": c["currency"],
                "monthly_fee_reporting": rates.convert(c["currency"], this_month, c["monthly_fee"]),
            }
        )
    first = contracts[0] if contracts else {}
    bucket_counts = {label: first.get(f"n_{index}", 0) for index, (_, _, label) in enumerate(RENEWAL_BUCKETS)}
    return {"rows": rows, "row_count": sum(bucket_counts.values()), "counts": bucket_counts}
