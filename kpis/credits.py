"""Rule 2 of DESIGN.md: service credits, the monthly cap, and earn-back.

Everything is one ``UPDATE … FROM`` over a chain of CTEs, computed in integer cents so the result is
exact (half-up to the cent) on SQLite as on PostgreSQL:

1. ``raw`` — each breach's uncapped credit. A breach *earns* a credit when it is ``major``, of kind
   ``performance`` (and its current figure is still worse than ``expected``) or ``missing_report``
   (the contract's ``missing_report_is_breach`` is set and the figure is still missing), and its
   status is not ``withdrawn`` or ``waived`` (waiving a breach waives its credit).
   Credit = ``monthly_fee × at_risk_percent/100 × credit_allocation_percent/100``, half-up to cents.
2. ``totals`` / ``shares`` / ``alloc`` — per contract and calendar month of ``period_end``, when the
   credits add up to more than the cap (``monthly_fee × at_risk_percent/100``, half-up to cents),
   each breach gets ``floor(cap × its credit / month total)`` cents and the cents left over go to the
   breach with the largest credit (ties: the earliest period, then the lowest SLA id, so the
   result does not depend on row ids or the order checks ran in). The month then adds up exactly
   to the cap.
3. ``window_met`` / ``earned`` — earn-back (the breached period and the N-th period after it are
   looked up in the reporting calendar; one figure per period, so N met figures in between means
   every one of the N periods met): with the contract's ``earn_back_periods`` N > 0, a breach whose
   SLA meets ``expected`` in each of the N periods right after the breached one has its (capped) credit moved
   to ``credit_earned_back`` and ``service_credit`` set to 0. A period without a figure or with a
   breach ends that chance; until the N periods are in, the credit stands (pending). The cap is
   applied before earn-back, so in a capped month ``service_credit + credit_earned_back`` adds up to
   the cap.

(PostgreSQL's SUM of BIGINT is NUMERIC: the sums are cast back so ``/`` stays integer division.)

Integer ranges: the cap share multiplies two cent amounts, exact up to a monthly at-risk amount of
about 30 million in the contract currency.
"""

from django.db.models import Count, F, Sum
from django.utils import timezone

from . import sql
from .models import KPI, SLA, Breach, Measurement

HUNDRED_MILLION = 100_000_000


def credit_cents_sql(fee="c.monthly_fee", at_risk="c.at_risk_percent", allocation="s.credit_allocation_percent"):
    """fee × at_risk/100 × allocation/100 in cents, half-up, without overflowing BIGINT.

    fee_c × (at_risk_bp × allocation_bp) / 10^8, with fee_c split into its high and low parts.
    """
    fee_c = sql.cents(fee)
    parts = f"({sql.cents(at_risk)} * {sql.cents(allocation)})"
    high = f"({fee_c} / {HUNDRED_MILLION})"
    low = f"({fee_c} - {high} * {HUNDRED_MILLION})"
    return f"({high} * {parts} + ({low} * {parts} + {HUNDRED_MILLION // 2}) / {HUNDRED_MILLION})"


def cap_cents_sql(fee="c.monthly_fee", at_risk="c.at_risk_percent"):
    """The monthly cap, fee × at_risk/100, in cents, half-up."""
    return f"(({sql.cents(fee)} * {sql.cents(at_risk)} + 5000) / 10000)"


def apply_service_credits(calendar, sla_ids=None, now=None):
    """Recompute ``service_credit`` and ``credit_earned_back`` of every performance and missing-report
    breach of the contracts that own ``sla_ids`` (all contracts when None). One UPDATE; rows whose
    amounts do not change are not written."""
    B, M, S, K = (model._meta.db_table for model in (Breach, Measurement, SLA, KPI))
    C = SLA._meta.get_field("contract").related_model._meta.db_table
    scope, scope_params = sql.in_list("id", sla_ids)
    met_b = sql.better_or_equal("b.actual", "b.expected", "k.direction")
    met_m = sql.better_or_equal("m.value", "s2.expected", "k2.direction")
    kept = "CASE WHEN earned.earned_back = 1 THEN 0 ELSE earned.credit_cents END"
    earned_back = "CASE WHEN earned.earned_back = 1 THEN earned.credit_cents ELSE 0 END"
    statement = f"""
        WITH {calendar},
        raw AS (
            SELECT b.id, b.contract_id, b.sla_id, b.period_start, b.kind, c.earn_back_periods AS n,
                   window_last.period_start AS window_last_start,
                   {sql.month_key("b.period_end")} AS month_key,
                   {cap_cents_sql()} AS cap_cents,
                   CASE WHEN b.severity = 'major' AND b.status NOT IN ('withdrawn', 'waived') AND (
                            (b.kind = 'performance' AND NOT {met_b})
                         OR (b.kind = 'missing_report' AND c.missing_report_is_breach AND NOT EXISTS (
                                SELECT 1 FROM {M} m0 WHERE m0.sla_id = b.sla_id AND m0.period_start = b.period_start))
                        ) THEN {credit_cents_sql()} ELSE 0 END AS raw_cents
            FROM {B} b
            JOIN {C} c ON c.id = b.contract_id
            JOIN {S} s ON s.id = b.sla_id
            JOIN {K} k ON k.id = s.kpi_id
            LEFT JOIN cal breached ON breached.frequency = s.frequency AND breached.period_start = b.period_start
            LEFT JOIN cal window_last ON window_last.frequency = s.frequency
                                     AND window_last.ordinal = breached.ordinal + c.earn_back_periods
            WHERE b.kind IN ('performance', 'missing_report')
              AND b.contract_id IN (SELECT contract_id FROM {S} WHERE {scope})
        ),
        totals AS (
            SELECT raw.*,
                   CAST(SUM(raw_cents) OVER (PARTITION BY contract_id, month_key) AS BIGINT) AS month_cents,
                   ROW_NUMBER() OVER (
                       PARTITION BY contract_id, month_key ORDER BY raw_cents DESC, period_start, sla_id, kind
                   ) AS month_rank
            FROM raw
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
                       THEN cap_cents - CAST(SUM(floor_cents) OVER (PARTITION BY contract_id, month_key) AS BIGINT)
                       ELSE 0 END AS credit_cents
            FROM shares
        ),
        window_met AS (
            SELECT alloc.id, COUNT(*) AS met_periods
            FROM alloc
            JOIN {M} m ON m.sla_id = alloc.sla_id
                      AND m.period_start > alloc.period_start AND m.period_start <= alloc.window_last_start
            JOIN {S} s2 ON s2.id = m.sla_id
            JOIN {K} k2 ON k2.id = s2.kpi_id
            WHERE alloc.n > 0 AND alloc.credit_cents > 0 AND {met_m}
            GROUP BY alloc.id
        ),
        earned AS (
            SELECT alloc.id, alloc.credit_cents,
                   CASE WHEN alloc.n > 0 AND alloc.credit_cents > 0 AND window_met.met_periods = alloc.n
                        THEN 1 ELSE 0 END AS earned_back
            FROM alloc LEFT JOIN window_met ON window_met.id = alloc.id
        )
        UPDATE {B} SET
            service_credit = {sql.from_cents(kept)},
            credit_earned_back = {sql.from_cents(earned_back)},
            updated_at = %s
        FROM earned
        WHERE {B}.id = earned.id AND (
            {sql.cents(B + ".service_credit")} <> {kept}
         OR {sql.cents(B + ".credit_earned_back")} <> {earned_back}
        )
    """
    return sql.execute(statement, [*scope_params, sql.adapt_datetime(now or timezone.now())])


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
