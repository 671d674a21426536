"""Rebuild the summary tables (``reports.models``) with a fixed handful of set-based statements.

``refresh_summaries()`` rebuilds everything (seconds on 2.4 M figures); ``refresh_summaries(contract_ids)``
only those contracts' rows and their vendors' (milliseconds: what the breach check calls after a
figure is saved). Each run is one transaction under a job lock: readers see the old rows until it
commits, and two runs never interleave. Plain SQL that PostgreSQL and SQLite both run: only month
keys, cents and id lists are spelled per database (``common.sql``).

What each column means is the live query it stands for in ``reports.queries`` (tests compare them).
"""

import time

from django.db import connection
from django.utils import timezone

from common.sql import better_or_equal, cents, execute, from_cents, in_list, is_postgresql, job_lock, month_first
from contracts.models import Contract
from kpis import periods
from kpis.choices import OPEN_STATUSES, BreachKind, BreachStatus, Frequency, Severity
from kpis.credits import cap_cents_sql
from kpis.periods import month_end, month_start

from .models import ContractMonth, PortfolioMonth, SLASummary, SummaryState, VendorMonth

# Staff figures (start / end headcount, departures) are kept for this many months back from the
# current month; reports over older months read the live tables.
STAFF_WINDOW_MONTHS = 36

COUNT_COLUMNS = [
    "measured",
    "met",
    "measured_pending",
    "met_pending",
    "breaches",
    "minor",
    "major",
    "missing_reports",
    "credited_breaches",
    "major_owed",
    "open_breaches",
    "open_missing_reports",
    "start_headcount",
    "end_headcount",
    "departures",
    "headcount_today",
]
MONEY_COLUMNS = ["credit_all", "earned_back_all", "credit", "earned_back"]
COLUMNS = COUNT_COLUMNS + MONEY_COLUMNS  # the order every branch of the union selects them in


def _quote(values):
    return ", ".join(f"'{v}'" for v in values)  # only ever our own choice constants


def _when(condition, then="1"):
    return f"SUM(CASE WHEN {condition} THEN {then} ELSE 0 END)"


def _select(columns):
    """The branch's SELECT list in ``COLUMNS`` order: given expressions, 0 for the rest."""
    return ", ".join(f"{columns.get(name, '0')} AS {name}" for name in COLUMNS)


def _months_sql(first, last):
    """A derived table of (first_day, last_day) for every month from ``first`` to ``last``, and its params."""
    rows, params, month = [], [], first
    while month <= last:
        rows.append("SELECT %s AS first_day, %s AS last_day")
        params += [_date(month), _date(month_end(month))]
        month = month_start(month, 1)
    return "(" + " UNION ALL ".join(rows) + ")", params


def _contract_month_select(contract_ids, today, window_first, window_last):
    """SELECT contract_id, month, COLUMNS… per (contract, month): measurements, breaches and staff."""
    met = better_or_equal("m.value", "s.expected", "k.direction")
    pending = f"m.period_end > {_date_param()}"
    scope_m, params_m = in_list("s.contract_id", contract_ids)
    measurements = (
        f"SELECT s.contract_id AS contract_id, {month_first('m.period_end')} AS month, "
        + _select(
            {
                "measured": "COUNT(*)",
                "met": _when(met),
                "measured_pending": _when(pending),
                "met_pending": _when(f"{pending} AND {met}"),
            }
        )
        + " FROM kpis_measurement m JOIN kpis_sla s ON s.id = m.sla_id JOIN kpis_kpi k ON k.id = s.kpi_id"
        + f" WHERE {scope_m} GROUP BY s.contract_id, {month_first('m.period_end')}"
    )
    params = [_date(today), _date(today), *params_m]

    counted = f"b.status <> '{BreachStatus.WITHDRAWN}'"
    owed = f"b.status NOT IN ({_quote([BreachStatus.WITHDRAWN, BreachStatus.WAIVED])})"
    is_open = f"b.status IN ({_quote(OPEN_STATUSES)})"
    performance = f"b.kind = '{BreachKind.PERFORMANCE}'"
    missing = f"b.kind = '{BreachKind.MISSING_REPORT}'"
    scope_b, params_b = in_list("b.contract_id", contract_ids)
    breaches = (
        f"SELECT b.contract_id AS contract_id, {month_first('b.period_end')} AS month, "
        + _select(
            {
                "breaches": _when(counted),
                "minor": _when(f"{counted} AND {performance} AND b.severity = '{Severity.MINOR}'"),
                "major": _when(f"{counted} AND {performance} AND b.severity = '{Severity.MAJOR}'"),
                "missing_reports": _when(f"{counted} AND {missing}"),
                "credited_breaches": _when(f"{owed} AND b.service_credit > 0"),
                "major_owed": _when(f"{owed} AND b.severity = '{Severity.MAJOR}'"),
                "open_breaches": _when(is_open),
                "open_missing_reports": _when(f"{is_open} AND {missing}"),
                "credit_all": _when(counted, cents("b.service_credit")),
                "earned_back_all": _when(counted, cents("b.credit_earned_back")),
                "credit": _when(owed, cents("b.service_credit")),
                "earned_back": _when(owed, cents("b.credit_earned_back")),
            }
        )
        + f" FROM kpis_breach b WHERE {scope_b} GROUP BY b.contract_id, {month_first('b.period_end')}"
    )
    params += params_b

    months_sql, months_params = _months_sql(window_first, window_last)
    scope_s, params_s = in_list("st.contract_id", contract_ids)
    staff = (
        "SELECT st.contract_id AS contract_id, mo.first_day AS month, "
        + _select(
            {
                "start_headcount": _when(
                    "st.joined_on <= mo.first_day AND (st.left_on IS NULL OR st.left_on >= mo.first_day)"
                ),
                "end_headcount": _when(
                    "st.joined_on <= mo.last_day AND (st.left_on IS NULL OR st.left_on > mo.last_day)"
                ),
                "departures": _when("st.left_on >= mo.first_day AND st.left_on <= mo.last_day"),
                "headcount_today": _when(
                    f"mo.first_day = {_date_param()} AND st.joined_on <= {_date_param()}"
                    f" AND (st.left_on IS NULL OR st.left_on >= {_date_param()})"
                ),
            }
        )
        + f" FROM contracts_staffmember st JOIN {months_sql} mo"
        + " ON st.joined_on <= mo.last_day AND (st.left_on IS NULL OR st.left_on >= mo.first_day)"
        + f" WHERE {scope_s} GROUP BY st.contract_id, mo.first_day"
    )
    params += [_date(month_start(today)), _date(today), _date(today)] + months_params + params_s

    totals = ", ".join(f"SUM({name}) AS {name}" for name in COUNT_COLUMNS) + ", "
    totals += ", ".join(f"{from_cents(f'SUM({name})')} AS {name}" for name in MONEY_COLUMNS)
    sql = (
        f"SELECT contract_id, month, {totals} FROM ({measurements} UNION ALL {breaches} UNION ALL {staff}) u"  # nosec B608  # SQL from model table names and fragments built in code; values are bound parameters
        " GROUP BY contract_id, month"
        # Written month by month, as ``VendorMonth``: the sourcing mix reads the refresh month's roster of every
        # contract (``contract_month_roster_idx``), and a whole refresh's rows of a month then share a few pages.
        " ORDER BY month, contract_id"
    )
    return sql, params


def _date(day):
    return connection.ops.adapt_datefield_value(day)


def _date_param():
    return "CAST(%s AS DATE)" if is_postgresql() else "%s"


def _vendor_month_select(vendor_ids):
    """SELECT … per (vendor, currency, month), added up from ``reports_contractmonth``."""
    scope, params = in_list("c.vendor_id", vendor_ids)
    counts = ", ".join(f"SUM(cm.{name})" for name in COUNT_COLUMNS)
    money = ", ".join(from_cents(f"SUM({cents(f'cm.{name}')})") for name in MONEY_COLUMNS)
    owing = "cm.credit > 0 OR cm.earned_back > 0"
    cap = from_cents(f"SUM(CASE WHEN {owing} THEN {cap_cents_sql('c.monthly_fee', 'c.at_risk_percent')} ELSE 0 END)")
    sql = (
        f"SELECT c.vendor_id, c.currency, cm.month, {counts}, {money}, {cap}, SUM(CASE WHEN {owing} THEN 1 ELSE 0 END)"  # nosec B608  # SQL from model table names and fragments built in code; values are bound parameters
        " FROM reports_contractmonth cm JOIN contracts_contract c ON c.id = cm.contract_id"
        f" WHERE {scope} GROUP BY c.vendor_id, c.currency, cm.month"
        # Written month by month: the reports read a few months of every vendor, and a whole refresh's rows of a
        # month then share a few pages of the table (the xl scorecard: 451 pages read instead of all 4,450).
        " ORDER BY cm.month, c.vendor_id"
    )
    return sql, params


def _portfolio_sums(sign, vendor_ids):
    """SELECT month, currency, COLUMNS… added up over the ``VendorMonth`` rows of ``vendor_ids`` (None: all),
    each sum multiplied by ``sign`` (+1, or -1 to take those rows out)."""
    scope, params = in_list("vendor_id", vendor_ids)
    counts = ", ".join(f"{sign} * SUM({name})" for name in COUNT_COLUMNS)
    money = ", ".join(from_cents(f"{sign} * SUM({cents(name)})") for name in MONEY_COLUMNS)
    sql = (
        f"SELECT month, currency, {counts}, {money} FROM {VendorMonth._meta.db_table}"  # nosec B608  # SQL from model table names and fragments built in code; values are bound parameters
        f" WHERE {scope} GROUP BY month, currency"
    )
    return sql, params


def rebuild_portfolio():
    """``PortfolioMonth`` from every ``VendorMonth`` row (a whole refresh; the migration that adds the table)."""
    execute(f"DELETE FROM {PortfolioMonth._meta.db_table}")  # nosec B608  # SQL from model table names and fragments built in code; values are bound parameters
    select, params = _portfolio_sums(1, None)
    columns = ", ".join(["month", "currency", *COLUMNS])
    return execute(f"INSERT INTO {PortfolioMonth._meta.db_table} ({columns}) {select}", params)  # nosec B608  # SQL from model table names and fragments built in code; values are bound parameters


def add_to_portfolio(sign, vendor_ids):
    """Add (+1) or take out (-1) the ``VendorMonth`` rows of ``vendor_ids`` to / from ``PortfolioMonth``."""
    table = PortfolioMonth._meta.db_table
    select, params = _portfolio_sums(sign, vendor_ids)
    columns = ", ".join(["month", "currency", *COLUMNS])
    added = [f"{name} = {table}.{name} + EXCLUDED.{name}" for name in COUNT_COLUMNS]
    for name in MONEY_COLUMNS:
        total = cents(f"{table}.{name}") + " + " + cents(f"EXCLUDED.{name}")
        added.append(f"{name} = {from_cents(total)}")
    return execute(
        f"INSERT INTO {table} ({columns}) {select} ON CONFLICT (month, currency) DO UPDATE SET {', '.join(added)}",  # nosec B608  # SQL from model table names and fragments built in code; values are bound parameters
        params,
    )


def _previous_periods(today):
    """(frequency, first day, last day) of each frequency's last completed period before ``today``."""
    rows = []
    for frequency in Frequency.values:
        start, end = periods.period_bounds(frequency, periods.period_start(frequency, today) - periods.ONE_DAY)
        rows.append((frequency, start, end))
    return rows


def _sla_summary_select(contract_ids, today):
    """SELECT per SLA: latest figure; the missing report of the last completed period (the dashboard's
    rule: the SLA and its contract in force for some of the period, KPI not computed, no figure)."""
    previous = " UNION ALL ".join(["SELECT %s AS frequency, %s AS period_start, %s AS period_end"] * 4)
    previous_params = [
        _date(value) if i % 3 else value for row in _previous_periods(today) for i, value in enumerate(row)
    ]
    scope, params = in_list("s.contract_id", contract_ids)
    grace = "c.reporting_grace_days"
    due_on = (
        f"CAST(p.period_end AS DATE) + {grace}" if is_postgresql() else f"date(p.period_end, '+' || {grace} || ' days')"
    )
    due = (
        "NOT k.is_computed"
        " AND NOT (s.effective_from > p.period_end OR (s.effective_to IS NOT NULL AND s.effective_to < p.period_start)"
        " OR p.period_start > c.end_date OR p.period_end < c.start_date)"
        # a scalar count, not NOT EXISTS: one index probe per SLA instead of hashing every figure
        " AND (SELECT COUNT(*) FROM kpis_measurement r WHERE r.sla_id = s.id AND r.period_start = p.period_start) = 0"
    )
    # The latest figure: index probes on the unique (sla, period_start), read backwards.
    latest = "FROM kpis_measurement x WHERE x.sla_id = s.id ORDER BY x.period_start DESC LIMIT 1"
    inner = (
        "SELECT s.id AS sla_id, s.contract_id AS contract_id, s.expected AS expected, s.minimum AS minimum,"  # nosec B608  # SQL from model table names and fragments built in code; values are bound parameters
        " k.direction AS direction,"
        f" (SELECT x.period_start {latest}) AS latest_period_start, (SELECT x.value {latest}) AS latest_value,"
        f" p.period_start AS period_start, p.period_end AS period_end, {due_on} AS due_on,"
        f" CASE WHEN {due} THEN 1 ELSE 0 END AS due"
        " FROM kpis_sla s JOIN contracts_contract c ON c.id = s.contract_id JOIN kpis_kpi k ON k.id = s.kpi_id"
        f" JOIN ({previous}) p ON p.frequency = s.frequency"
        f" WHERE {scope}" + (" OFFSET 0" if is_postgresql() else "")
        # PostgreSQL: OFFSET 0 keeps the subquery from being inlined into the three CASEs below
    )
    outcome = (
        "CASE WHEN latest_value IS NULL THEN NULL"
        f" WHEN {better_or_equal('latest_value', 'expected', 'direction')} THEN 'met'"
        f" WHEN {better_or_equal('latest_value', 'minimum', 'direction')} THEN '{Severity.MINOR}'"
        f" ELSE '{Severity.MAJOR}' END"
    )
    sql = (
        f"SELECT sla_id, contract_id, latest_period_start, latest_value, {outcome},"  # nosec B608  # SQL from model table names and fragments built in code; values are bound parameters
        " CASE WHEN due = 1 THEN period_start END,"
        f" CASE WHEN due = 1 THEN period_end END, CASE WHEN due = 1 THEN due_on END FROM ({inner}) q"
    )
    return sql, [*previous_params, *params]


def staff_window(today):
    """(first, last) month of the staff figures kept for ``today``."""
    current = month_start(today)
    return month_start(current, -STAFF_WINDOW_MONTHS), current


def refresh_summaries(contract_ids=None, today=None):
    """Rebuild the summaries of ``contract_ids`` (and of their vendors), or of everything (None).

    ``today`` (default: today for a whole refresh, the last whole refresh's day for a partial one) decides
    which figures are still pending, the headcount "today" and the missing reports.

    Returns ``{"contracts": n or "all", "contract_months": rows, "vendor_months": rows, "slas": rows,
    "seconds": s, "steps": {statement: s}}``. A partial refresh before any full one does the full one.
    """
    started = time.monotonic()
    requested_day = today
    with job_lock("reports.refresh_summaries"):
        if is_postgresql():
            execute("SET LOCAL jit = off")  # compiling these plans costs more than running them
            # The (contract, month) grouping of ~1 M partial rows stays in memory instead of spilling.
            execute("SET LOCAL work_mem = '512MB'")
        state = SummaryState.objects.first()
        if contract_ids is not None and state is None:
            contract_ids = None
        if contract_ids is not None:
            contract_ids = sorted({int(pk) for pk in contract_ids})
            # The day of the whole refresh: every row of the tables is "as of" the same day (a new month
            # or day starts with the next whole refresh, within the hour).
            today = requested_day or state.today
            window_first, window_last = state.window_start, state.window_end
            scope, params = in_list("id", contract_ids)
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT DISTINCT vendor_id FROM {Contract._meta.db_table} WHERE {scope}", params)  # nosec B608  # SQL from model table names and fragments built in code; values are bound parameters
                vendor_ids = sorted(row[0] for row in cursor.fetchall())
        else:
            today = requested_day or timezone.localdate()
            window_first, window_last = staff_window(today)
            vendor_ids = None
        steps = {}

        def step(name, sql, params=()):
            begun = time.monotonic()
            rows = execute(sql, params)
            steps[name] = round(time.monotonic() - begun, 3)
            return rows

        scope_c, params_c = in_list("contract_id", contract_ids)
        scope_v, params_v = in_list("vendor_id", vendor_ids)

        step("delete contract months", f"DELETE FROM {ContractMonth._meta.db_table} WHERE {scope_c}", params_c)  # nosec B608  # SQL from model table names and fragments built in code; values are bound parameters
        select, params = _contract_month_select(contract_ids, today, window_first, window_last)
        columns = ", ".join(["contract_id", "month", *COLUMNS])
        contract_months = step(
            "contract months", f"INSERT INTO {ContractMonth._meta.db_table} ({columns}) {select}", params
        )

        if vendor_ids is not None:  # the portfolio without these vendors' old rows...
            begun = time.monotonic()
            add_to_portfolio(-1, vendor_ids)
            steps["portfolio out"] = round(time.monotonic() - begun, 3)
        step("delete vendor months", f"DELETE FROM {VendorMonth._meta.db_table} WHERE {scope_v}", params_v)  # nosec B608  # SQL from model table names and fragments built in code; values are bound parameters
        select, params = _vendor_month_select(vendor_ids)
        columns = ", ".join(["vendor_id", "currency", "month", *COLUMNS, "credit_cap", "credit_contracts"])
        vendor_months = step("vendor months", f"INSERT INTO {VendorMonth._meta.db_table} ({columns}) {select}", params)
        begun = time.monotonic()
        if vendor_ids is not None:  # ...and with their new ones
            add_to_portfolio(1, vendor_ids)
        else:
            rebuild_portfolio()
        steps["portfolio"] = round(time.monotonic() - begun, 3)

        step("delete SLAs", f"DELETE FROM {SLASummary._meta.db_table} WHERE {scope_c}", params_c)  # nosec B608  # SQL from model table names and fragments built in code; values are bound parameters
        select, params = _sla_summary_select(contract_ids, today)
        columns = (
            "sla_id, contract_id, latest_period_start, latest_value, latest_outcome,"
            " missing_period_start, missing_period_end"
        )
        slas = step("SLAs", f"INSERT INTO {SLASummary._meta.db_table} ({columns}, missing_due_on) {select}", params)

        seconds = round(time.monotonic() - started, 3)
        if contract_ids is not None:
            SummaryState.objects.update(updated_at=timezone.now())
        else:
            SummaryState.objects.all().delete()
            SummaryState.objects.create(
                refreshed_at=timezone.now(),
                updated_at=timezone.now(),
                today=today,
                window_start=window_first,
                window_end=window_last,
                seconds=seconds,
            )
            if is_postgresql():
                for model in (ContractMonth, VendorMonth, PortfolioMonth, SLASummary):
                    execute(f"ANALYZE {model._meta.db_table}")
    return {
        "contracts": "all" if contract_ids is None else len(contract_ids),
        "contract_months": contract_months,
        "vendor_months": vendor_months,
        "slas": slas,
        "seconds": round(time.monotonic() - started, 3),
        "steps": steps,
    }


def summary_state():
    """The ``SummaryState`` row, or None before the first full refresh (pages then read live tables)."""
    return SummaryState.objects.first()


def refresh_after_breach_check(sender=None, contract_ids=None, today=None, **kwargs):
    """Receiver of ``kpis.signals.breaches_checked`` (connected in ``ReportsConfig.ready``): rebuild the
    summaries of the contracts a breach check looked at, or everything after a full run (None)."""
    return refresh_summaries(None if contract_ids is None else sorted(contract_ids), today=today)
