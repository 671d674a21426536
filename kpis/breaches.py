"""Rules 1, 3 and 5 of DESIGN.md: performance breaches, missing reports, corrections.

``detect_breaches()`` is the whole hourly job (``kpis.tasks.detect_breaches``). It runs a fixed
handful of set-based SQL statements, whatever the number of SLAs and measurements — no Python loop
over rows — and works on PostgreSQL and SQLite alike (see ``kpis.sql``).

Who may change what on a breach row
-----------------------------------
The engine owns the *facts* of a breach: ``severity``, ``expected``, ``minimum``, ``actual``,
``measurement``, ``period_end``, ``service_credit``, ``credit_earned_back``. People own ``status``
(acknowledged, waived, resolved) and ``notes``; the engine never writes ``notes`` and changes
``status`` only in these transitions, which are its own:

* ``open`` → ``withdrawn`` when the breach no longer holds (a corrected figure now meets the SLA,
  the figure was deleted, or a missing report has arrived).
* ``withdrawn`` → ``open`` when it holds again (the figure was corrected back to a breach, or the
  report was deleted again); ``detected_at`` is then reset so the next digest reports it again.

``withdrawn`` is reserved to the engine: a person who wants to drop a breach *waives* it.
A breach a person has acknowledged, waived or resolved keeps that status whatever happens to its
figure; its facts (actual, severity, credit) are still kept up to date.
"""

import datetime

from django.db.models import F, Min
from django.utils import timezone

from . import periods, sql
from .choices import Frequency
from .credits import apply_service_credits
from .models import KPI, SLA, Breach, Measurement

BREACH_COLUMNS = (
    "kind, severity, contract_id, sla_id, measurement_id, obligation_id, period_start, period_end, "
    "expected, minimum, actual, service_credit, credit_earned_back, detected_at, updated_at, status, notes"
)


def _tables():
    return {
        "B": Breach._meta.db_table,
        "M": Measurement._meta.db_table,
        "S": SLA._meta.db_table,
        "K": KPI._meta.db_table,
        "C": SLA._meta.get_field("contract").related_model._meta.db_table,
    }


# --- the reporting calendar -----------------------------------------------------------------
def calendar_cte(sla_ids=None, today=None):
    """``cal(frequency, period_start, period_end, days_ago, ordinal)``: every reporting period of
    each frequency in use, from the earliest SLA start up to the period containing ``today``.

    Its size depends on the dates only (a daily SLA since 2021 is ~2,000 rows), never on the number
    of SLAs or measurements. ``days_ago`` = whole days between the period's last day and today
    (rule 3's grace test); ``ordinal`` numbers the periods of one frequency (rule 2's earn-back
    looks at the N periods right after a breach). Costs one query.
    """
    today = today or timezone.localdate()
    scope = SLA.objects.all()
    if sla_ids is not None:
        # Every SLA of the contracts concerned: the credit step (cap, earn-back) covers whole contracts.
        scope = scope.filter(contract__in=SLA.objects.filter(pk__in=[int(pk) for pk in sla_ids]).values("contract"))
    firsts = dict(
        scope.order_by().values("frequency").annotate(first=Min("effective_from")).values_list("frequency", "first")
    )
    rows = ["('none', {d}, {d}, -1, 0)".format(d=sql.date_literal(datetime.date(1900, 1, 1)))]
    for frequency in Frequency.values:
        first = firsts.get(frequency)
        if first is None or first > today:
            continue
        for ordinal, (start, end) in enumerate(periods.periods_between(frequency, first, today), start=1):
            rows.append(
                f"('{frequency}', {sql.date_literal(start)}, {sql.date_literal(end)}, {(today - end).days}, {ordinal})"
            )
    return "cal(frequency, period_start, period_end, days_ago, ordinal) AS (VALUES " + ", ".join(rows) + ")"


def refresh_on_conflict(table, facts):
    """The ``ON CONFLICT`` clause both breach upserts share (rule 5): an existing breach for the same
    SLA, period and kind gets the engine's current ``facts``; a ``withdrawn`` one is revived (``open``,
    detected anew so the next digest reports it); a row whose facts did not change is not touched,
    so a second run writes nothing. Status and notes a person set are kept.
    """
    updates = ",\n".join(f"{column} = excluded.{column}" for column in facts)
    changed = "\n".join(f"OR {sql.differs(f'{table}.{column}', f'excluded.{column}')}" for column in facts)
    return f"""ON CONFLICT (sla_id, period_start, kind) DO UPDATE SET
        {updates},
        status = CASE WHEN {table}.status = 'withdrawn' THEN 'open' ELSE {table}.status END,
        detected_at = CASE WHEN {table}.status = 'withdrawn' THEN excluded.detected_at ELSE {table}.detected_at END,
        updated_at = excluded.updated_at
    WHERE {table}.status = 'withdrawn'
        {changed}"""


# --- rule 1 + 5: performance breaches ------------------------------------------------------------
def reevaluate_performance_breaches(sla_ids=None, now=None):
    """Rule 5: existing performance breaches whose figure no longer breaches (corrected to meet,
    deleted, or moved to another period) are withdrawn when still ``open``; their ``actual`` and
    ``measurement`` follow the current figure whatever the status. One UPDATE.

    Runs before ``record_performance_breaches`` so a measurement moved to another period is released
    from its old breach first (``Breach.measurement`` is one-to-one).
    """
    t = _tables()
    now = now or timezone.now()
    scope_b, p1 = sql.in_list("b1.sla_id", sla_ids)
    scope_m, p2 = sql.in_list("m2.sla_id", sla_ids)
    # Breaches of these SLAs, or holding a figure of these SLAs: two index-driven halves (an OR here
    # would scan every breach and re-run the subquery per row).
    in_scope = (
        "1=1"
        if sla_ids is None
        else f"""{t["B"]}.id IN (
            SELECT b1.id FROM {t["B"]} b1 WHERE {scope_b}
            UNION SELECT b2.id FROM {t["B"]} b2 JOIN {t["M"]} m2 ON m2.id = b2.measurement_id WHERE {scope_m})"""
    )
    figure = f"FROM {t['M']} m WHERE m.sla_id = {t['B']}.sla_id AND m.period_start = {t['B']}.period_start"
    statement = f"""
        UPDATE {t["B"]} SET
            status = CASE WHEN {t["B"]}.status = 'open' THEN 'withdrawn' ELSE {t["B"]}.status END,
            measurement_id = (SELECT m.id {figure}),
            actual = COALESCE((SELECT m.value {figure}), {t["B"]}.actual),
            updated_at = %s
        WHERE {t["B"]}.kind = 'performance'
          AND {in_scope}
          AND NOT EXISTS (
              SELECT 1 FROM {t["M"]} m
              JOIN {t["S"]} s ON s.id = m.sla_id JOIN {t["K"]} k ON k.id = s.kpi_id
              WHERE m.sla_id = {t["B"]}.sla_id AND m.period_start = {t["B"]}.period_start
                AND NOT {sql.better_or_equal("m.value", "s.expected", "k.direction")}
          )
          AND (
              {t["B"]}.status = 'open'
              OR COALESCE({t["B"]}.measurement_id, 0) <> COALESCE((SELECT m.id {figure}), 0)
              OR COALESCE({t["B"]}.actual, -1) <> COALESCE((SELECT m.value {figure}), {t["B"]}.actual, -1)
          )
    """
    return sql.execute(statement, [sql.adapt_datetime(now), *p1, *p2])


def record_performance_breaches(sla_ids=None, now=None):
    """Rule 1 (+5): every figure worse than ``expected`` is a breach — ``minor`` while at least as good
    as ``minimum``, ``major`` below it. One ``INSERT … SELECT … ON CONFLICT DO UPDATE``.

    The selection is ``Measurement.objects.with_outcome()`` (rule 1 in SQL), compiled by the ORM.
    An existing breach for the same SLA and period gets the corrected facts (severity, actual,
    expected, minimum, measurement); only a ``withdrawn`` one changes status (back to ``open``).
    Rows whose facts did not change are not touched, so a second run writes nothing.
    """
    t = _tables()
    now = sql.adapt_datetime(now or timezone.now())
    figures = Measurement.objects.with_outcome().filter(met=False).order_by()
    if sla_ids is not None:
        figures = figures.filter(sla_id__in=[int(pk) for pk in sla_ids])
    figures = figures.values(
        src_contract=F("sla__contract_id"),
        src_sla=F("sla_id"),
        src_measurement=F("id"),
        src_start=F("period_start"),
        src_end=F("period_end"),
        src_expected=F("sla__expected"),
        src_minimum=F("sla__minimum"),
        src_actual=F("value"),
        src_severity=F("outcome"),
    )
    select_sql, select_params = figures.query.sql_with_params()
    B = t["B"]
    statement = f"""
        INSERT INTO {B} ({BREACH_COLUMNS})
        SELECT 'performance', src.src_severity, src.src_contract, src.src_sla, src.src_measurement, NULL,
               src.src_start, src.src_end, src.src_expected, src.src_minimum, src.src_actual, 0, 0, %s, %s,
               'open', ''
        FROM ({select_sql}) src WHERE 1=1
        {refresh_on_conflict(B, ["severity", "measurement_id", "period_end", "expected", "minimum", "actual"])}
    """
    return sql.execute(statement, [now, now, *select_params])


# --- rule 3: missing reports ------------------------------------------------------------------------
def record_missing_reports(calendar, sla_ids=None, now=None):
    """Rule 3: an active SLA on an active contract owes a figure for every period that ended more than
    ``reporting_grace_days`` days ago and lies within both the contract's start–end dates and the
    SLA's effective dates. Each one without a measurement is a ``missing_report`` breach: ``major``
    (credit as a major performance breach, see ``kpis.credits``) when the contract's
    ``missing_report_is_breach``, else ``minor``. One ``INSERT … SELECT … ON CONFLICT DO UPDATE``.

    KPIs the app computes itself (``KPI.is_computed``, e.g. attrition) are not *reported* by the
    vendor, so they never raise a missing report.
    """
    t = _tables()
    B = t["B"]
    now = sql.adapt_datetime(now or timezone.now())
    scope, scope_params = sql.in_list("s.id", sla_ids)
    statement = f"""
        WITH {calendar}
        INSERT INTO {B} ({BREACH_COLUMNS})
        SELECT 'missing_report', CASE WHEN c.missing_report_is_breach THEN 'major' ELSE 'minor' END,
               c.id, s.id, NULL, NULL, cal.period_start, cal.period_end, s.expected, s.minimum, NULL, 0, 0,
               %s, %s, 'open', ''
        FROM {t["S"]} s
        JOIN {t["C"]} c ON c.id = s.contract_id
        JOIN {t["K"]} k ON k.id = s.kpi_id
        JOIN cal ON cal.frequency = s.frequency
        WHERE s.active AND c.status = 'active' AND NOT k.is_computed AND {scope}
          AND cal.days_ago > c.reporting_grace_days
          AND cal.period_start >= c.start_date AND cal.period_end <= c.end_date
          AND cal.period_start >= s.effective_from AND (s.effective_to IS NULL OR cal.period_end <= s.effective_to)
          AND NOT EXISTS (SELECT 1 FROM {t["M"]} m WHERE m.sla_id = s.id AND m.period_start = cal.period_start)
        {refresh_on_conflict(B, ["severity", "period_end", "expected", "minimum"])}
    """
    return sql.execute(statement, [now, now, *scope_params])


def withdraw_reported_missing_reports(sla_ids=None, now=None):
    """Rule 3: a figure recorded later withdraws the ``open`` missing-report breach for its period.

    One UPDATE. (An acknowledged/waived/resolved one keeps its status; its credit drops to 0 in
    ``kpis.credits``.)
    """
    t = _tables()
    B = t["B"]
    scope, scope_params = sql.in_list("sla_id", sla_ids)
    statement = f"""
        UPDATE {B} SET status = 'withdrawn', updated_at = %s
        WHERE kind = 'missing_report' AND status = 'open' AND {scope}
          AND EXISTS (SELECT 1 FROM {t["M"]} m WHERE m.sla_id = {B}.sla_id AND m.period_start = {B}.period_start)
    """
    return sql.execute(statement, [sql.adapt_datetime(now or timezone.now()), *scope_params])


def refresh_planner_statistics(rows_written, threshold=10_000):
    """After a bulk write (a first run, a backfill) PostgreSQL's row estimates for the breach table are
    stale, and the credit statement's plan turns into nested loops over 500k rows. ANALYZE (allowed in
    a transaction, samples a fixed number of pages) fixes that; small hourly runs skip it.
    """
    if rows_written >= threshold and sql.is_postgresql():
        sql.execute(f"ANALYZE {Breach._meta.db_table}")


# --- the job ------------------------------------------------------------------------------------------
def detect_breaches(sla_ids=None, today=None):
    """Rules 1, 2, 3 and 5 for ``sla_ids`` (every SLA when None), in one locked transaction.

    Seven statements whatever the data: the calendar bounds, re-evaluation of existing performance
    breaches, new/updated performance breaches, missing reports, withdrawal of missing reports that
    arrived, service credits with cap and earn-back (for every contract the SLAs belong to).
    Returns the number of rows each step wrote; a second run writes nothing.
    """
    today = today or timezone.localdate()
    now = timezone.now()
    with sql.job_lock("kpis.detect_breaches"):
        calendar = calendar_cte(sla_ids, today)
        summary = {
            "performance_reevaluated": reevaluate_performance_breaches(sla_ids, now),
            "performance_recorded": record_performance_breaches(sla_ids, now),
            "missing_reports_recorded": record_missing_reports(calendar, sla_ids, now),
            "missing_reports_withdrawn": withdraw_reported_missing_reports(sla_ids, now),
        }
        refresh_planner_statistics(sum(summary.values()))
        summary["credits_updated"] = apply_service_credits(calendar, sla_ids, now)
    return summary
