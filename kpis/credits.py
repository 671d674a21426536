"""Rule 2 of DESIGN.md: service credits, the monthly cap, and earn-back.

``credited_ctes()`` is the rule as a chain of CTEs that the breach engine (``kpis.breaches``) puts
after the CTE ``facts`` — every performance and missing-report breach that holds in the contract-months
being checked — so each breach row is written once, facts and credit together. Everything is
computed in integer cents so the result is exact (half-up to the cent) on SQLite as on PostgreSQL:

1. ``raw`` — each breach's uncapped credit. A breach *earns* a credit when it is ``major``, of kind
   ``performance`` or ``missing_report`` (then only when the contract's ``missing_report_is_breach``),
   and it is not ``waived`` (waiving a breach waives its credit). A breach that no longer holds (figure
   corrected to meet, report arrived) is not in ``facts``: the engine sets its credit to 0.
   Credit = ``monthly_fee × at_risk_percent/100 × credit_allocation_percent/100``, half-up to cents.
2. ``totals`` / ``shares`` / ``alloc`` — per contract and calendar month of ``period_end``, when the
   credits add up to more than the cap (``monthly_fee × at_risk_percent/100``, half-up to cents),
   each breach gets ``floor(cap × its credit / month total)`` cents and the cents left over go to the
   breach with the largest credit (ties: the earliest period, then the lowest SLA id, so the
   result does not depend on row ids or the order checks ran in). The month then adds up exactly
   to the cap.
3. ``credited`` — earn-back (the breached period and the N-th period after it are
   looked up in the reporting calendar ``_calendar``; one figure per period, so N met figures in between
   means every one of the N periods met): with the contract's ``earn_back_periods`` N > 0, a breach
   whose SLA meets ``expected`` in each of the N periods right after the breached one has its (capped)
   credit moved to ``credit_earned_back`` and ``service_credit`` set to 0. A period without a figure or
   with a breach ends that chance; until the N periods are in, the credit stands (pending). The cap is
   applied before earn-back, so in a capped month ``service_credit + credit_earned_back`` adds up to
   the cap.

(PostgreSQL's SUM of BIGINT is NUMERIC: the sums are cast back so ``/`` stays integer division.)

Integer ranges: the cap share multiplies two cent amounts, exact up to a monthly at-risk amount of
about 30 million in the contract currency.
"""

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Count, F, Sum

from common import sql
from common.pagination import AT_LEAST, ESTIMATE, RowCount

from .models import Breach, Measurement

HUNDRED_MILLION = 100_000_000
FACT_COLUMNS = (
    "kind, severity, contract_id, sla_id, measurement_id, period_start, period_end, expected, minimum, actual, "
    "existing_id"
)


def credit_cents_sql(fee, at_risk, allocation):
    """fee × at_risk/100 × allocation/100 in cents, half-up, without overflowing BIGINT.

    fee_c × (at_risk_bp × allocation_bp) / 10^8, with fee_c split into its high and low parts.
    """
    fee_c = sql.cents(fee)
    parts = f"({sql.cents(at_risk)} * {sql.cents(allocation)})"
    high = f"({fee_c} / {HUNDRED_MILLION})"
    low = f"({fee_c} - {high} * {HUNDRED_MILLION})"
    return f"({high} * {parts} + ({low} * {parts} + {HUNDRED_MILLION // 2}) / {HUNDRED_MILLION})"


def cap_cents_sql(fee, at_risk):
    """The monthly cap, fee × at_risk/100, in cents, half-up."""
    return f"(({sql.cents(fee)} * {sql.cents(at_risk)} + 5000) / 10000)"


# What rule 2 needs of each breach's SLA (``s``), KPI (``k``) and contract (``c``): the fact queries
# select it along with the facts, so the credit step joins nothing again.
CREDIT_INPUTS = (
    "s.frequency, k.direction, s.expected AS sla_expected, s.credit_allocation_percent, c.earn_back_periods, "
    "c.monthly_fee, c.at_risk_percent, c.missing_report_is_breach"
)


def credited_ctes():
    """The CTEs ``raw`` … ``credited`` over ``facts(kind, severity, contract_id, sla_id, measurement_id,
    period_start, period_end, expected, minimum, actual, <CREDIT_INPUTS>)`` and ``existing(id, sla_id,
    period_start, kind, status)``, the breaches already recorded for them (``status``: the one each has
    if it holds). ``credited`` has the facts plus ``existing_id`` (the breach row already recorded, if
    any), ``credit_cents`` and ``earned_back_cents``."""
    M = Measurement._meta.db_table
    met_m = sql.better_or_equal("m.value", "alloc.sla_expected", "alloc.direction")
    return f"""
        raw AS (
            SELECT f.*, e.id AS existing_id,
                   f.earn_back_periods AS n,
                   window_last.period_start AS window_last_start,
                   {sql.month_first("f.period_end")} AS credit_month,
                   {cap_cents_sql("f.monthly_fee", "f.at_risk_percent")} AS cap_cents,
                   CASE WHEN f.severity = 'major' AND COALESCE(e.status, 'open') <> 'waived'
                             AND (f.kind = 'performance' OR f.missing_report_is_breach)
                        THEN {credit_cents_sql("f.monthly_fee", "f.at_risk_percent", "f.credit_allocation_percent")}
                        ELSE 0 END AS raw_cents
            FROM facts f
            LEFT JOIN _calendar breached ON breached.frequency = f.frequency AND breached.period_start = f.period_start
            LEFT JOIN _calendar window_last ON window_last.frequency = f.frequency
                                      AND window_last.ordinal = breached.ordinal + f.earn_back_periods
            LEFT JOIN existing e ON e.sla_id = f.sla_id AND e.period_start = f.period_start AND e.kind = f.kind
        ),
        totals AS (
            -- Only breaches that earn a credit share the cap (most breaches earn none: sorting them too
            -- took most of the time).
            SELECT raw.*,
                   CAST(SUM(raw_cents) OVER (PARTITION BY contract_id, credit_month) AS BIGINT) AS month_cents,
                   ROW_NUMBER() OVER (
                       PARTITION BY contract_id, credit_month ORDER BY raw_cents DESC, period_start, sla_id, kind
                   ) AS month_rank
            FROM raw
            WHERE raw_cents > 0
        ),
        shares AS (
            SELECT totals.*,
                   CASE WHEN month_cents > cap_cents THEN cap_cents * raw_cents / month_cents
                        ELSE raw_cents END AS floor_cents
            FROM totals
        ),
        alloc AS (
            SELECT shares.*,
                   floor_cents + CASE
                       WHEN month_cents > cap_cents AND month_rank = 1
                       THEN cap_cents - CAST(SUM(floor_cents) OVER (PARTITION BY contract_id, credit_month) AS BIGINT)
                       ELSE 0 END AS capped_cents
            FROM shares
        ),
        settled AS MATERIALIZED (
            -- A correlated count: an index probe for each of the few credited breaches with an
            -- earn-back clause, where a join would hash every met figure of every SLA. (MATERIALIZED:
            -- computed once, though read twice below.)
            SELECT alloc.*, CASE WHEN alloc.n > 0 AND alloc.n = (
                SELECT COUNT(*) FROM {M} m
                WHERE m.sla_id = alloc.sla_id
                  AND m.period_start > alloc.period_start AND m.period_start <= alloc.window_last_start
                  AND {met_m}
            ) THEN 1 ELSE 0 END AS earned
            FROM alloc
        ),
        credited AS (
            SELECT {FACT_COLUMNS},
                   CASE WHEN earned = 1 THEN 0 ELSE capped_cents END AS credit_cents,
                   CASE WHEN earned = 1 THEN capped_cents ELSE 0 END AS earned_back_cents
            FROM settled
            UNION ALL
            SELECT {FACT_COLUMNS}, 0, 0 FROM raw WHERE raw_cents = 0
        )"""  # nosec B608  # SQL assembled from model table names and code fragments; values are bound parameters


def credit_totals(breaches=None):
    """Service credits owed and earned back, per currency, for a breach queryset (default: all).

    ``[{"currency": "USD", "service_credit": Decimal, "credit_earned_back": Decimal, "breaches": int}]`` —
    one query; for the dashboard, reports and e-mails (amounts are in each contract's own currency,
    so they are never added across currencies).
    """
    queryset = Breach.objects.all() if breaches is None else breaches
    return list(
        queryset.order_by()
        .values(currency=F("contract__currency"))
        .annotate(
            service_credit=Sum("service_credit"),
            credit_earned_back=Sum("credit_earned_back"),
            breaches=Count("pk"),
        )
        .order_by("currency")
    )


def credit_totals_within(breaches, cap):
    """``(RowCount, totals)`` for a list of breaches in one query: how many there are (exact up to ``cap``;
    beyond, the planner's estimate for an unfiltered list or "more than ``cap``", as ``common.pagination``
    counts) and, when there are at most ``cap``, their ``credit_totals``; else ``None``.

    Summing every row per page view does not scale (millions of breaches at the xl preset: ``bench/NOTES.md``,
    "Pages and throughput"), so the sums read at most ``cap + 1`` rows — and none when the list is
    unfiltered and the table holds more than ``cap``: PostgreSQL then skips the scan (a one-time filter on the
    table's row estimate).
    """
    bounded = breaches.order_by().values_list("contract__currency", "service_credit", "credit_earned_back")
    bounded = bounded[: cap + 1]
    connection = connections[breaches.db]
    if connection.vendor != "postgresql":
        count = bounded.count()
        if count > cap:
            return RowCount(count, AT_LEAST), None
        return RowCount(count), credit_totals(breaches)
    try:
        sql, params = bounded.query.sql_with_params()
    except EmptyResultSet:  # filters that can match nothing (``?contract=x``): no query at all
        return RowCount(0), []
    table = Breach._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT est.n, t.currency, t.service_credit, t.credit_earned_back, t.breaches "  # nosec B608  # SQL of a queryset and fixed text; values are bound parameters
            "FROM (SELECT reltuples::bigint AS n FROM pg_class WHERE oid = %s::regclass) est LEFT JOIN ("
            "  SELECT r.currency, SUM(r.credit) AS service_credit, SUM(r.earned_back) AS credit_earned_back,"
            "         COUNT(*) AS breaches"
            f"  FROM ({sql}) r (currency, credit, earned_back)"
            "  WHERE %s OR (SELECT reltuples FROM pg_class WHERE oid = %s::regclass) <= %s"
            "  GROUP BY r.currency"
            ") t ON true ORDER BY t.currency",
            [table, *params, bool(breaches.query.where), table, cap],
        )
        rows = cursor.fetchall()
    estimate = rows[0][0]
    totals = [
        {"currency": currency, "service_credit": credit, "credit_earned_back": earned_back, "breaches": n}
        for _, currency, credit, earned_back, n in rows
        if currency is not None
    ]
    count = sum(row["breaches"] for row in totals)
    if not breaches.query.where and not totals and estimate > cap:
        return RowCount(estimate, ESTIMATE), None
    if count > cap:
        return RowCount(count, AT_LEAST), None
    return RowCount(count), totals
