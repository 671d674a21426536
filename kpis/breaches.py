"""Rules 1, 2, 3 and 5 of DESIGN.md: performance breaches, credits, missing reports, corrections.

``detect_breaches()`` is the whole hourly job (``kpis.tasks.detect_breaches``), and the check queued
when figures change. It runs a fixed handful of set-based SQL statements, whatever the number of SLAs
and measurements — no Python loop over rows — and works on PostgreSQL and SQLite alike (see
``common.sql``):

1. ``_calendar``: the reporting calendar (every period of each frequency in use, up to today): a temporary
   table for a scoped check (a small one: of its contracts' frequencies only, ``scope_frequencies``), inline
   in the whole-table run (so PostgreSQL may use parallel workers).
2. ``_scope``: the SLA periods to evaluate — none (evaluate all), every period of some contracts
   (``sla_ids``: the credit cap and earn-back span a contract's SLAs), or some changed ``figures``;
   then ``_months``, the contract-months (and earn-back windows) those figures bear on, and
   ``_scope_breaches``, the breaches already recorded for the scope.
3. ``_candidates``: every performance and missing-report breach that holds in scope, with its facts and its
   credit (``kpis.credits``), and the id of the breach already recorded for it, if any.
4. Breaches in scope that no longer hold are withdrawn (credit 0); recorded ones whose facts or credit
   changed are updated; new ones are inserted. Each row is written at most once, and only when
   something changed, so a second run writes nothing. A first run (or a big backfill) inserts the
   bulk way (``common.sql.bulk_load``).

Who may change what on a breach row (rule 5)
---------------------------------------------
The engine owns the *facts* of a breach: ``severity``, ``expected``, ``minimum``, ``actual``,
``measurement``, ``period_end``, ``service_credit``, ``credit_earned_back``, and whether it *holds*.
People own its workflow ``status`` (open, acknowledged, waived, resolved) and ``notes``; the engine
never writes ``notes`` and changes ``status`` only in these transitions, which are its own:

* any status → ``withdrawn`` when the breach no longer holds (a corrected figure now meets the SLA,
  the figure was deleted, or a missing report has arrived): it owes no credit and counts nowhere. The
  status it had is kept in ``status_before_withdrawal``.
* ``withdrawn`` → the status a person last gave it (``open`` if none) when it holds again (the figure
  was corrected back to a breach, or the report was deleted again); ``detected_at`` is then reset so
  the next digest reports it again.

Each statement decides the status from the row as it is when it writes it, so a status a person saves
while a check runs is never overwritten. Every row the engine writes gets a history row (who:
``ENGINE``), written by the same statement (``common.sql.execute_with_history``).
``withdrawn`` is reserved to the engine: a person who wants to drop a breach *waives* it. A missing
report stays owed for its period even if the SLA or contract is later deactivated: only the figure
withdraws it.
"""

import contextlib
import datetime

from django.db import connection
from django.db.models import Max, Min, Q
from django.utils import timezone

from common import sql

from . import periods
from .choices import BreachKind, Frequency
from .credits import CREDIT_INPUTS, credited_ctes
from .models import KPI, SLA, Breach, Measurement

BREACH_COLUMNS = (
    "kind, severity, contract_id, sla_id, measurement_id, obligation_id, period_start, period_end, "
    "expected, minimum, actual, service_credit, credit_earned_back, detected_at, updated_at, status, "
    "status_before_withdrawal, notes"
)
# Who made a change, in a breach's history, when the engine made it (history_user is then empty).
ENGINE = "SLA engine"


# ``Breach.history`` builds a manager class each time it is read (1.5 ms of a one-figure check, six reads).
BREACH_HISTORY = Breach.history.model


def write_breach_rows(statement, params, history_type, now):
    """Run an engine INSERT or UPDATE of breaches and record each row it wrote in the breach's history
    (rule 5), set-based, in the same transaction: who ``ENGINE``, when ``now``."""
    return sql.execute_with_history(
        statement,
        params,
        Breach._meta.db_table,
        BREACH_HISTORY._meta.db_table,
        [field.column for field in Breach._meta.concrete_fields],
        history_type,
        (sql.adapt_datetime(now), ENGINE),
    )


# The tables the engine's SQL reads and writes.
BREACHES = Breach._meta.db_table
MEASUREMENTS = Measurement._meta.db_table
SLAS = SLA._meta.db_table
KPIS = KPI._meta.db_table
CONTRACTS = SLA._meta.get_field("contract").related_model._meta.db_table

KINDS = ((BreachKind.PERFORMANCE, "performance"), (BreachKind.MISSING_REPORT, "missing_reports"))
CALENDAR_AHEAD_DAYS = 366
BULK_LOAD_MIN_ROWS = 100_000


# --- 1. the reporting calendar ---------------------------------------------------------------------
def earliest_sla_starts():
    """``{frequency: earliest effective_from}`` in one query of one index probe per frequency
    (``sla_frequency_from_idx``; a GROUP BY read every SLA: 70 ms on each check at 250,000 SLAs)."""
    table = SLA._meta.db_table
    probe = f"SELECT %s, (SELECT MIN(effective_from) FROM {table} WHERE frequency = %s)"  # nosec B608  # the model's table name; values are bound parameters
    with connection.cursor() as cursor:
        cursor.execute(
            " UNION ALL ".join([probe] * len(Frequency.values)),
            [value for frequency in Frequency.values for value in (frequency, frequency)],
        )
        return {frequency: sql.as_date(first) for frequency, first in cursor.fetchall() if first is not None}


def calendar_select(today, frequencies=None):
    """``_calendar(frequency, period_start, period_end, days_ago, ordinal)``: every reporting period of each
    frequency in use (or of ``frequencies``), from the earliest SLA start (or figure) up to the period containing
    ``today`` (or the latest figure, if one was recorded ahead, up to a year on).

    Its size depends on the dates only (a daily SLA since 2021 is ~2,000 rows), never on the number
    of SLAs or measurements. ``days_ago`` = whole days between the period's last day and today
    (rule 3's grace test: periods still running or ahead are never due); ``ordinal`` numbers the
    periods of one frequency (rule 2's earn-back looks at the N periods right after a breach).
    Costs two queries.
    """
    firsts = earliest_sla_starts()
    figures = Measurement.objects.aggregate(earliest=Min("period_start"), latest=Max("period_start"))
    last = min(max(today, figures["latest"] or today), today + datetime.timedelta(days=CALENDAR_AHEAD_DAYS))
    literal = sql.date_literal_format()
    rows = ["('none', {d}, {d}, -1, 0)".format(d=sql.date_literal(datetime.date(1900, 1, 1)))]
    for frequency in Frequency.values:
        first = firsts.get(frequency)
        if first is None or first > last or (frequencies is not None and frequency not in frequencies):
            continue
        # From the earliest figure too, so every figure's (and so every breach's) period is in it.
        first = min(first, figures["earliest"] or first)
        for ordinal, (start, end) in enumerate(periods.periods_between(frequency, first, last), start=1):
            start_sql, end_sql = literal.format(start.isoformat()), literal.format(end.isoformat())
            rows.append(f"('{frequency}', {start_sql}, {end_sql}, {(today - end).days}, {ordinal})")
    return (
        "WITH cal(frequency, period_start, period_end, days_ago, ordinal) AS (VALUES "  # nosec B608  # SQL assembled from model table names and code fragments; values are bound parameters
        + ", ".join(rows)
        + ") SELECT * FROM cal"  # nosec B608  # SQL assembled from model table names and code fragments; values are bound parameters
    )


SMALL_SCOPE = 100


def scope_frequencies(sla_ids=None, figures=None, contract_ids=None):
    """The frequencies of every SLA of the contracts a small check looks at (a figure saved, a contract edited),
    or None (all) for more than ``SMALL_SCOPE`` SLAs or contracts: one query. A figure check also reads the
    breaches recorded around it, of any SLA of its contract, and their earn-back windows, so it needs their
    calendars too; not the others': at the xl preset the daily SLAs' calendar is 730 of 863 rows, and writing
    and loading it all cost 16 ms of a 37 ms one-figure check."""
    slas = {int(pk) for pk, _ in figures or ()} | {int(pk) for pk in sla_ids or ()}
    contracts = {int(pk) for pk in contract_ids or ()}
    if len(slas) + len(contracts) > SMALL_SCOPE:
        return None
    owners = SLA.objects.filter(pk__in=slas).values("contract_id")
    in_scope = SLA.objects.filter(Q(contract_id__in=owners) | Q(contract_id__in=contracts))
    return set(in_scope.order_by().values_list("frequency", flat=True).distinct())


# --- 2. the scope -------------------------------------------------------------------------------------
# ``_scope(sla_id, period_start)``: the SLA periods evaluated from their figures and the calendar.
# ``_months(contract_id, month_first, month_last)`` (figure checks only): the contract-months around
# them, whose other recorded breaches share the credit cap and earn-back (nothing about those changed,
# so they are taken as recorded).
def slas_scope_select(sla_ids=None, contract_ids=None):
    """Every period of every SLA of ``contract_ids``, or of the contracts that own ``sla_ids`` (the cap and
    earn-back span all of a contract's SLAs). The calendar holds every figure's period, so every
    breach's too."""
    if contract_ids is not None:
        contracts, params = sql.in_list("s.contract_id", contract_ids)
    else:
        ids, params = sql.in_list("id", sla_ids)
        contracts = f"s.contract_id IN (SELECT contract_id FROM {SLAS} WHERE {ids})"  # nosec B608  # SQL assembled from model table names and code fragments; values are bound parameters
    return (
        f"""
        WITH slas AS (SELECT s.id, s.frequency FROM {SLAS} s WHERE {contracts})
        SELECT slas.id AS sla_id, cal.period_start FROM slas JOIN _calendar cal ON cal.frequency = slas.frequency""",  # nosec B608  # SQL assembled from model table names and code fragments; values are bound parameters
        params,
    )


def scope_rows(table, alias, whole_slas, unique=False):
    """``FROM … table alias``: the rows of a table keyed by (SLA, period) that lie in the scope, read by
    index — a range scan per SLA when the scope is whole SLAs (``sla_ids``: every period), else a probe
    per SLA period (``unique``: one row at most)."""
    if whole_slas:
        return sql.probe("FROM (SELECT DISTINCT sla_id FROM _scope) sc", table, alias, f"{alias}.sla_id = sc.sla_id")
    same_period = f"{alias}.sla_id = sc.sla_id AND {alias}.period_start = sc.period_start"
    return sql.probe("FROM _scope sc", table, alias, same_period, unique=unique)


def scope_breaches_select(whole_slas):
    """``_scope_breaches``: the breaches already recorded in the scope (the candidate build and the
    withdrawals both read them)."""
    return "SELECT e.* " + scope_rows(BREACHES, "e", whole_slas)


def figures_scope_select(figures):
    """The changed ``(sla_id, period_start)`` figures: recorded, corrected or deleted."""
    changed, params = sql.pairs_select(figures)
    # In index order: the probes that read their figures and breaches then walk each index (and the tables,
    # loaded SLA by SLA) in order instead of jumping about (xl, 100,027 figures: 106,000 pages read from
    # outside shared buffers instead of 178,000 for the figures, 28,000 instead of 69,000 for the breaches
    # around them, with ``_months`` in order too).
    return f"SELECT DISTINCT sla_id, period_start FROM ({changed}) f ORDER BY sla_id, period_start", params  # nosec B608  # SQL assembled from model table names and code fragments; values are bound parameters


def months_select():
    """The contract-months of the changed figures and of the earn-back window before each (a breach N
    periods earlier may earn its credit back, or lose it, because of this figure)."""
    return f"""
        SELECT DISTINCT s.contract_id, {sql.month_first("before.period_end")} AS month_first,
               {sql.month_last("before.period_end")} AS month_last
        FROM _scope f
        JOIN {SLAS} s ON s.id = f.sla_id
        JOIN {CONTRACTS} c ON c.id = s.contract_id
        JOIN _calendar cal ON cal.frequency = s.frequency AND cal.period_start = f.period_start
        {earn_back_window_join("cal", "before")}
        ORDER BY 1, 2"""  # nosec B608  # SQL assembled from model table names and code fragments; values are bound parameters


def earn_back_window_join(cal, before):
    """``JOIN _calendar before``: the periods from ``c.earn_back_periods`` before ``cal`` up to it, same frequency.

    On PostgreSQL each ordinal of the window is generated, so the join is an equality on both keys, which
    it hashes. As a ``BETWEEN`` it hashed on the frequency alone and filtered the range afterwards: at
    the xl preset (hundreds of daily periods) 100,000 changed figures × every period of their frequency,
    2.4 s of an incremental check. SQLite probes either way."""
    if not sql.is_postgresql():
        return f"""JOIN _calendar {before} ON {before}.frequency = {cal}.frequency
                   AND {before}.ordinal BETWEEN {cal}.ordinal - c.earn_back_periods AND {cal}.ordinal"""
    return f"""CROSS JOIN LATERAL generate_series({cal}.ordinal - c.earn_back_periods, {cal}.ordinal) AS ordinals(n)
        JOIN _calendar {before} ON {before}.frequency = {cal}.frequency AND {before}.ordinal = ordinals.n"""


def with_sla(sla_sql):
    """The joins that give a row its SLA ``s``, KPI ``k`` and contract ``c`` (what ``CREDIT_INPUTS`` reads)."""
    return (
        f"JOIN {SLAS} s ON s.id = {sla_sql} JOIN {KPIS} k ON k.id = s.kpi_id JOIN {CONTRACTS} c ON c.id = s.contract_id"
    )


# --- 3. the breaches that hold ----------------------------------------------------------------------
def candidates_select(calendar, scoped, around=False):
    """``_candidates``: every performance (rule 1) and missing-report (rule 3) breach that holds in scope,
    with its credit (rule 2, ``kpis.credits``).

    Rule 1: every figure worse than ``expected`` is a breach — ``minor`` while at least as good as
    ``minimum``, ``major`` below it.

    Rule 3: an active SLA on an active contract owes a figure for every period that ended more than
    ``reporting_grace_days`` days ago and lies within both the contract's start–end dates and the
    SLA's effective dates. Each one without a measurement is a ``missing_report`` breach: ``major``
    when the contract's ``missing_report_is_breach``, else ``minor``. KPIs the app computes itself
    (``KPI.is_computed``, e.g. attrition) are not *reported* by the vendor, so they never raise one.
    A missing report already recorded holds until its figure arrives.

    ``calendar``: the calendar's SELECT. A scoped check reads it from the temporary table ``_calendar``; the
    whole-table run reads it inline — PostgreSQL's parallel workers cannot read a session's temporary
    tables, so a plan that joins one runs in a single process.

    ``around`` (figure checks): the other breaches recorded in ``_months`` (not withdrawn) are taken as
    they stand — nothing about them changed — for the cap and earn-back of their months (only the
    major ones: no other breach earns a credit).
    """
    met = sql.better_or_equal("m.value", "s.expected", "k.direction")
    at_least_minimum = sql.better_or_equal("m.value", "s.minimum", "k.direction")
    scoped_figures = "SELECT m.* " + scope_rows(MEASUREMENTS, "m", whole_slas=not around, unique=True)

    def no_figure(sla_sql, start_sql):
        """No figure recorded for the SLA period. Scoped, the scope's figures are all in ``figures`` already."""
        table = "figures" if scoped else MEASUREMENTS
        return f"NOT EXISTS (SELECT 1 FROM {table} m WHERE m.sla_id = {sla_sql} AND m.period_start = {start_sql})"  # nosec B608  # SQL assembled from model table names and code fragments; values are bound parameters

    # Unscoped, a recorded missing report's figure is counted, not anti-joined: a probe per recorded missing
    # report (a few thousand), where an anti-join hashed all 2.4 M figures first, even for no rows.
    figure_still_absent = (
        no_figure("b.sla_id", "b.period_start")
        if scoped
        else f"(SELECT COUNT(*) FROM {MEASUREMENTS} m WHERE m.sla_id = b.sla_id AND m.period_start = b.period_start) = 0"  # noqa: E501  # nosec B608  # SQL assembled from model table names and code fragments; values are bound parameters
    )
    around_ctes = (
        f"""
        recorded AS MATERIALIZED (
            -- The rest of the changed contract-months, by the (contract, period_end) index.
            SELECT b.* FROM _months mo
            JOIN {BREACHES} b ON b.contract_id = mo.contract_id
                             AND b.period_end BETWEEN mo.month_first AND mo.month_last
            WHERE b.kind IN ('performance', 'missing_report') AND b.status <> 'withdrawn'
              -- Only a major breach can earn a credit: the others neither share the cap nor earn back.
              AND b.severity = 'major'
              AND NOT EXISTS (SELECT 1 FROM _scope x WHERE x.sla_id = b.sla_id AND x.period_start = b.period_start)
        ),
        as_recorded AS (
            SELECT b.kind, b.severity, b.contract_id, b.sla_id, b.measurement_id, b.period_start, b.period_end,
                   b.expected, b.minimum, b.actual, {CREDIT_INPUTS}
            FROM recorded b
            {with_sla("b.sla_id")}
            WHERE b.kind = 'missing_report' OR NOT {sql.better_or_equal("b.actual", "b.expected", "k.direction")}
        ),
"""  # nosec B608  # SQL assembled from model table names and code fragments; values are bound parameters
        if around
        else ""
    )
    inline_calendar = "" if scoped else f"_calendar AS NOT MATERIALIZED ({calendar}),"
    # ``rewrite``: a new breach, or a recorded one whose facts or credit the writes must change. Scoped, the
    # update then probes the breach table for those only (xl, 100,027 figures: 21,000 of 157,000 recorded
    # candidates); it re-checks each against the row as it is then (``needs_rewrite``).
    recorded_union = f"""UNION ALL SELECT id, sla_id, period_start, kind, status, status,
                                      {ENGINE_COLUMNS.format(breach="recorded")} FROM recorded"""  # nosec B608  # SQL assembled from model table names and code fragments; values are bound parameters
    final = (
        f"""SELECT x.*, x.existing_id IS NULL OR {needs_rewrite("r", "x")} AS rewrite FROM credited x
            LEFT JOIN (SELECT id, recorded_status AS status, {ENGINE_COLUMNS.format(breach="existing")} FROM existing) r
                   ON r.id = x.existing_id"""  # nosec B608  # SQL assembled from model table names and code fragments; values are bound parameters
        if scoped
        else "SELECT credited.*, 1 = 1 AS rewrite FROM credited"
    )
    unreported = (
        f"""
        unreported AS MATERIALIZED (
            -- The scope's periods without a figure (one was deleted; rarely any). Rule 3 joins only these: joining
            -- every scope period to its SLA, contract and calendar first cost 0.46 s for 100,000 figures (xl).
            SELECT sc.sla_id, sc.period_start FROM _scope sc WHERE {no_figure("sc.sla_id", "sc.period_start")}
        ),"""  # nosec B608  # SQL assembled from model table names and code fragments; values are bound parameters
        if scoped
        else ""
    )
    every_figure = f"SELECT m.* FROM {MEASUREMENTS} m"  # nosec B608  # a model's table name
    return f"""
        WITH {inline_calendar}
        figures AS {"MATERIALIZED" if scoped else ""} (
            -- Scoped, on its own and read by index (see scope_rows).
            {scoped_figures if scoped else every_figure}
        ),
        performance AS (
            SELECT 'performance' AS kind, CASE WHEN {at_least_minimum} THEN 'minor' ELSE 'major' END AS severity,
                   s.contract_id, m.sla_id, m.id AS measurement_id, m.period_start, m.period_end,
                   s.expected, s.minimum, m.value AS actual, {CREDIT_INPUTS}
            FROM figures m
            {with_sla("m.sla_id")}
            WHERE NOT {met}
        ),{unreported}
        missing AS (
            SELECT 'missing_report' AS kind,
                   CASE WHEN c.missing_report_is_breach THEN 'major' ELSE 'minor' END AS severity,
                   c.id AS contract_id, s.id AS sla_id, CAST(NULL AS BIGINT) AS measurement_id,
                   cal.period_start, cal.period_end, s.expected, s.minimum, s.expected * NULL AS actual,
                   {CREDIT_INPUTS}
            FROM {SLAS} s
            JOIN {CONTRACTS} c ON c.id = s.contract_id
            JOIN {KPIS} k ON k.id = s.kpi_id
            JOIN _calendar cal ON cal.frequency = s.frequency
            {"JOIN unreported sc ON sc.sla_id = s.id AND sc.period_start = cal.period_start" if scoped else ""}
            WHERE s.active AND c.status = 'active' AND NOT k.is_computed
              AND cal.days_ago > c.reporting_grace_days
              AND cal.period_start >= c.start_date AND cal.period_end <= c.end_date
              AND cal.period_start >= s.effective_from AND (s.effective_to IS NULL OR cal.period_end <= s.effective_to)
              {"" if scoped else "AND " + no_figure("s.id", "cal.period_start")}
        ),
        still_missing AS (
            SELECT b.kind, b.severity, b.contract_id, b.sla_id, b.measurement_id, b.period_start, b.period_end,
                   b.expected, b.minimum, b.actual, {CREDIT_INPUTS}
            FROM {"_scope_breaches" if scoped else BREACHES} b
            {with_sla("b.sla_id")}
            WHERE b.kind = 'missing_report' AND b.status <> 'withdrawn' AND {figure_still_absent}
              AND NOT EXISTS (SELECT 1 FROM missing x WHERE x.sla_id = b.sla_id AND x.period_start = b.period_start)
        ),
{around_ctes}        existing AS {"MATERIALIZED" if scoped else ""} (
            -- The status each recorded breach has if it holds (rule 2: a waived one owes no credit); scoped, with
            -- what the engine wrote on it, to tell which candidates need writing (``rewrite``).
            SELECT e.id, e.sla_id, e.period_start, e.kind, {HOLDING_STATUS.format(breach="e")} AS status
                   {f", e.status AS recorded_status, {ENGINE_COLUMNS.format(breach='e')}" if scoped else ""}
            FROM {"_scope_breaches" if scoped else BREACHES} e
            {recorded_union if around else ""}
        ),
        facts AS (
            SELECT * FROM performance UNION ALL SELECT * FROM missing UNION ALL SELECT * FROM still_missing
            {"UNION ALL SELECT * FROM as_recorded" if around else ""}
        ),
        {credited_ctes()}
        {final}
    """  # nosec B608  # SQL assembled from model table names and code fragments; values are bound parameters


# --- 4. writing the breaches ------------------------------------------------------------------------
FACTS = ("severity", "measurement_id", "period_end", "expected", "minimum", "actual")
ENGINE_COLUMNS = ", ".join(f"{{breach}}.{column}" for column in (*FACTS, "service_credit", "credit_earned_back"))


def needs_rewrite(breach, candidate):
    """SQL: recorded breach ``breach`` (its status as recorded) must be rewritten with the facts and credit of
    ``candidate``: it was withdrawn, or one of them changed."""
    changed = " ".join(f"OR {sql.differs(f'{breach}.{column}', f'{candidate}.{column}')}" for column in FACTS)
    return f"""({breach}.status = 'withdrawn' {changed}
            OR {sql.cents(f"{breach}.service_credit")} <> {candidate}.credit_cents
            OR {sql.cents(f"{breach}.credit_earned_back")} <> {candidate}.earned_back_cents)"""


def withdraw_breaches(kind, scoped, now):
    """Breaches of ``kind`` in scope that no longer hold are withdrawn whatever status a person gave them
    (rule 5), which is kept in ``status_before_withdrawal`` for when they hold again; the credit drops
    to 0 and a performance breach's ``actual`` and ``measurement`` follow the current figure (none when
    it was deleted). Rows already in that state are not touched.

    A person's change to the row committed while the check runs is waited for (row lock) and read as
    it is then, so the status remembered is the one the person just gave (PostgreSQL re-reads the
    row and re-evaluates the statement for it)."""
    figure = f"FROM {MEASUREMENTS} m WHERE m.sla_id = {BREACHES}.sla_id AND m.period_start = {BREACHES}.period_start"
    follow, follow_changed = "", ""
    still_holds = f"""AND NOT EXISTS (
              SELECT 1 FROM _candidates x
              WHERE x.sla_id = {BREACHES}.sla_id AND x.period_start = {BREACHES}.period_start
                AND x.kind = {BREACHES}.kind
          )"""  # nosec B608  # SQL assembled from model table names and code fragments
    if kind == BreachKind.PERFORMANCE:
        follow = (
            f"measurement_id = (SELECT m.id {figure}), actual = COALESCE((SELECT m.value {figure}), {BREACHES}.actual),"
        )
        follow_changed = f"""
            OR {sql.differs(f"{BREACHES}.measurement_id", f"(SELECT m.id {figure})")}
            OR {sql.differs(f"{BREACHES}.actual", f"COALESCE((SELECT m.value {figure}), {BREACHES}.actual)")}"""
    # Scoped, the breaches of the scope by primary key, and "still holds" as: the candidate build matched it
    # (``existing_id``; one breach per SLA, period and kind). A hashed NOT IN, so the statement needs no hash
    # join (``sql.prefer_index_probes``): with one, PostgreSQL read the whole breach table to join it.
    scope = (
        f"""FROM _scope_breaches r WHERE r.id = {BREACHES}.id AND r.kind = %s
          AND r.id NOT IN (SELECT existing_id FROM _candidates WHERE existing_id IS NOT NULL) AND"""  # nosec B608  # SQL assembled from model table names and code fragments; values are bound parameters
        if scoped
        else "WHERE"
    )
    statement = f"""
        UPDATE {BREACHES} SET
            status = 'withdrawn',
            status_before_withdrawal = CASE WHEN {BREACHES}.status = 'withdrawn'
                                            THEN {BREACHES}.status_before_withdrawal
                                            ELSE {BREACHES}.status END,
            {follow}
            service_credit = 0, credit_earned_back = 0, updated_at = %s
        {scope} {BREACHES}.kind = %s
          {"" if scoped else still_holds}
          AND ({BREACHES}.status <> 'withdrawn' OR {BREACHES}.service_credit <> 0 OR {BREACHES}.credit_earned_back <> 0
               {follow_changed})
    """  # nosec B608  # SQL assembled from model table names and code fragments; values are bound parameters
    params = [sql.adapt_datetime(now), *([kind] if scoped else []), kind]
    return write_breach_rows(statement, params, "~", now)


# The status a breach has once it holds: a withdrawn one returns with the status a person last gave it.
HOLDING_STATUS = (
    "CASE WHEN {breach}.status = 'withdrawn' THEN COALESCE(NULLIF({breach}.status_before_withdrawal, ''), 'open') "
    "ELSE {breach}.status END"
)


def update_breaches(kind, now):
    """Recorded breaches of ``kind`` that hold, whose facts or credit changed, get them; a withdrawn one
    comes back with the status a person last gave it and is detected anew (so the next digest reports
    it). Status and notes a person set are never written: the status is decided from the row as it is
    when the statement writes it (a waive committed while the check ran is kept, and owes no credit;
    the check it queued re-shares the month's cap)."""
    holding = HOLDING_STATUS.format(breach=BREACHES)
    facts = ",\n".join(f"{column} = x.{column}" for column in FACTS)
    statement = f"""
        UPDATE {BREACHES} SET
            {facts},
            service_credit = CASE WHEN {holding} = 'waived' THEN 0 ELSE {sql.from_cents("x.credit_cents")} END,
            credit_earned_back = CASE WHEN {holding} = 'waived' THEN 0 ELSE {sql.from_cents("x.earned_back_cents")} END,
            status = {holding},
            status_before_withdrawal = '',
            detected_at = CASE WHEN {BREACHES}.status = 'withdrawn' THEN %s ELSE {BREACHES}.detected_at END,
            updated_at = %s
        FROM (SELECT * FROM _candidates WHERE existing_id IS NOT NULL AND kind = %s AND rewrite) x
        WHERE x.existing_id = {BREACHES}.id AND {needs_rewrite(BREACHES, "x")}
    """  # nosec B608  # SQL assembled from model table names and code fragments; values are bound parameters
    adapted = sql.adapt_datetime(now)
    return write_breach_rows(statement, [adapted, adapted, kind], "~", now)


def insert_breaches(kind, now):
    """New breaches of ``kind``: ``open``, detected now, with their credit."""
    statement = f"""
        INSERT INTO {BREACHES} ({BREACH_COLUMNS})
        SELECT x.kind, x.severity, x.contract_id, x.sla_id, x.measurement_id, NULL, x.period_start, x.period_end,
               x.expected, x.minimum, x.actual, {sql.from_cents("x.credit_cents")},
               {sql.from_cents("x.earned_back_cents")}, %s, %s, 'open', '', ''
        FROM _candidates x
        WHERE x.existing_id IS NULL AND x.kind = %s
    """  # nosec B608  # SQL assembled from model table names and code fragments; values are bound parameters
    adapted = sql.adapt_datetime(now)
    return write_breach_rows(statement, [adapted, adapted, kind], "+", now)


def refresh_planner_statistics(rows_written, threshold=10_000):
    """After a bulk write (a first run, a backfill) PostgreSQL's row estimates for the breach table are
    stale until autovacuum comes by, and the next run's or page's plans turn into nested loops over
    500k rows. ANALYZE (allowed in a transaction, samples a fixed number of pages) fixes that; runs
    that change less than a tenth of the table skip it.
    """
    table = Breach._meta.db_table
    # The fixed threshold first: a figure check (a handful of rows) never pays the estimate's query.
    if rows_written >= threshold and sql.is_postgresql() and rows_written >= sql.table_rows_estimate(table) // 10:
        sql.execute(f"ANALYZE {table}")


# --- the job ------------------------------------------------------------------------------------------
def detect_breaches(sla_ids=None, figures=None, today=None, contract_ids=None):
    """Rules 1, 2, 3 and 5 in one locked transaction, for every contract-month (the hourly run), every
    month of ``contract_ids`` or of the contracts owning ``sla_ids``, or the months changed ``figures``
    (``(sla_id, period_start)`` pairs: recorded, corrected or deleted) bear on.

    The same two dozen statements whatever the data. Returns the number of breaches of each kind
    recorded (new), updated (facts or credit changed) and withdrawn; a second run writes nothing.
    """
    today = today or timezone.localdate()
    now = timezone.now()
    summary = {}
    with sql.job_lock("kpis.detect_breaches"), sql.temp_tables() as temp:
        scoped = figures is not None or sla_ids is not None or contract_ids is not None
        calendar = calendar_select(today, scope_frequencies(sla_ids, figures, contract_ids) if scoped else None)
        if scoped:
            temp("_calendar", calendar)
            if figures is not None:
                temp("_scope", *figures_scope_select(figures))
                temp("_months", months_select())
            else:
                temp("_scope", *slas_scope_select(sla_ids, contract_ids))
            temp("_scope_breaches", scope_breaches_select(whole_slas=figures is None))
        else:
            sql.plan_for_whole_tables()
        # Scoped, the statements that read the candidates probe the breach table by key whatever their
        # number (``prefer_index_probes``): no statistics needed (ANALYZE took 0.13–0.24 s at 170,000 rows).
        temp("_candidates", candidates_select(calendar, scoped, around=figures is not None), analyze=not scoped)
        with bulk_load_if_large():
            with sql.prefer_index_probes() if scoped else contextlib.nullcontext():
                for kind, label in KINDS:
                    # Withdraw first: a figure moved to another period releases its old breach (one-to-one).
                    summary[f"{label}_withdrawn"] = withdraw_breaches(kind, scoped, now)
                for kind, label in KINDS:
                    summary[f"{label}_updated"] = update_breaches(kind, now)
            for kind, label in KINDS:
                summary[f"{label}_recorded"] = insert_breaches(kind, now)
        refresh_planner_statistics(sum(summary.values()))
    return summary


def bulk_load_if_large():
    """A first run or a big backfill (at least ``BULK_LOAD_MIN_ROWS`` new breaches, and at least as many
    as the table holds) loads them the bulk way (``common.sql.bulk_load``), history rows included; an hourly
    run never does."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM _candidates WHERE existing_id IS NULL")
        new = cursor.fetchone()[0]
    loads = contextlib.ExitStack()
    if new >= BULK_LOAD_MIN_ROWS:
        # The breach table, and its history table too when the new rows outnumber what it holds.
        for table in (Breach._meta.db_table, Breach.history.model._meta.db_table):
            if new >= sql.table_rows_estimate(table):
                loads.enter_context(sql.bulk_load(table))
    return loads
