"""The few SQL fragments that differ between PostgreSQL and SQLite, and the job lock.

The engine's statements are plain SQL that both databases understand (``INSERT … SELECT … ON
CONFLICT … DO UPDATE``, ``UPDATE … FROM``, window functions, CTEs). Only date arithmetic, month keys,
date literals and integer → decimal conversion are spelled differently; they live here.

Money is computed in integer cents (``BIGINT``) so rounding is exact on SQLite too, where decimal
columns are stored as floating point.
"""

import datetime
import json
import zlib
from contextlib import contextmanager

from django.db import connection, transaction


def is_postgresql():
    return connection.vendor == "postgresql"


def date_literal(day: datetime.date) -> str:
    """A date constant. Only ever built from ``datetime.date`` objects, never from user text."""
    return date_literal_format().format(day.isoformat())


def date_literal_format() -> str:
    """``date_literal`` as a format string for an ISO date, for code that writes hundreds at once (asking
    which database for each cost 5 µs)."""
    return "DATE '{}'" if is_postgresql() else "'{}'"


def as_date(value):
    """A date read by raw SQL: PostgreSQL gives a ``date``, SQLite its ISO text."""
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value


def add_days(date_sql: str, days_sql: str) -> str:
    if is_postgresql():
        return f"({date_sql} + {days_sql})"
    return f"date({date_sql}, ({days_sql}) || ' days')"


def month_first(date_sql: str) -> str:
    """The first day of the calendar month of a date column (the month that carries the credit cap)."""
    if is_postgresql():
        return f"CAST(date_trunc('month', {date_sql}) AS DATE)"
    return f"date({date_sql}, 'start of month')"


def month_last(date_sql: str) -> str:
    """The last day of the calendar month of a date column."""
    if is_postgresql():
        return f"CAST(date_trunc('month', {date_sql}) + INTERVAL '1 month - 1 day' AS DATE)"
    return f"date({date_sql}, 'start of month', '+1 month', '-1 day')"


def cents(decimal_sql: str) -> str:
    """A 2-dp decimal column as an exact integer number of hundredths."""
    return f"CAST(ROUND({decimal_sql} * 100) AS BIGINT)"


def from_cents(integer_sql: str) -> str:
    """Integer hundredths back to a decimal value for a ``DecimalField(decimal_places=2)`` column."""
    if is_postgresql():
        return f"(CAST({integer_sql} AS NUMERIC(20, 2)) / 100)"
    return f"(({integer_sql}) / 100.0)"


def differs(left_sql: str, right_sql: str) -> str:
    """Null-safe ``<>``: true when the two values differ, counting NULL as a value."""
    if is_postgresql():
        return f"{left_sql} IS DISTINCT FROM {right_sql}"
    return f"{left_sql} IS NOT {right_sql}"


def better_or_equal(value_sql: str, threshold_sql: str, direction_sql: str) -> str:
    """Rule 1's comparison: ``value`` is at least as good as ``threshold`` for the KPI's direction.

    The raw-SQL twin of ``kpis.models._better_or_equal`` / ``Measurement.objects.with_outcome()``.
    """
    return (
        f"(({direction_sql} = 'higher_is_better' AND {value_sql} >= {threshold_sql}) "
        f"OR ({direction_sql} = 'lower_is_better' AND {value_sql} <= {threshold_sql}))"
    )


def in_list(column_sql: str, ids):
    """``column IN (ids)`` as SQL and its params; ``("1=1", [])`` when ``ids`` is None (no restriction)."""
    if ids is None:
        return "1=1", []
    ids = [int(pk) for pk in ids]
    if not ids:
        return "1=0", []
    # One parameter whatever the number of ids: a PostgreSQL array, or a JSON list on SQLite (which
    # caps the number of parameters per statement). Planners handle both far better than 20k literals.
    if is_postgresql():
        return f"{column_sql} = ANY(%s)", [ids]
    return f"{column_sql} IN (SELECT value FROM json_each(%s))", [json.dumps(ids)]  # nosec B608  # SQL assembled from model table names and code fragments; values are bound parameters


def pairs_select(pairs):
    """``SELECT sla_id, period_start`` over ``(id, date)`` pairs (dates or ISO text), as SQL and params: one
    JSON parameter whatever the number of pairs (``rows_select``; as two arrays the driver adapted 100,000
    dates one by one: 0.3 s)."""
    rows = [
        (int(pk), (day if isinstance(day, datetime.date) else datetime.date.fromisoformat(day)).isoformat())
        for pk, day in pairs
    ]
    return rows_select([("sla_id", "bigint"), ("period_start", "date")], rows)


def rows_select(columns, rows):
    """``SELECT`` over literal rows, as SQL and params: ``columns`` = [(name, PostgreSQL type)], ``rows``
    tuples in that order (dates, decimals, numbers, text, None). One JSON parameter whatever the number
    of rows: 10,000 rows cost one round trip and one string to send, encoded in C (arrays, one per column,
    are quoted element by element by the driver: 0.15 s for 10,000 rows of five columns)."""
    data = json.dumps(rows, default=str)  # dates as YYYY-MM-DD, decimals exactly as written
    if is_postgresql():
        picks = ", ".join(f"CAST(r ->> {i} AS {kind}) AS {name}" for i, (name, kind) in enumerate(columns))
        return f"SELECT {picks} FROM json_array_elements(%s::json) AS r", [data]  # nosec B608  # column names and types from code; the rows are one bound parameter
    picks = ", ".join(f"json_extract(value, '$[{i}]') AS {name}" for i, (name, _) in enumerate(columns))
    return f"SELECT {picks} FROM json_each(%s)", [data]  # nosec B608  # column names from code; the rows are one bound parameter


def probe(outer_sql, table, alias, condition, unique=False):
    """``FROM outer JOIN table alias ON condition``, where each outer row looks its match up by index.

    PostgreSQL hashes a whole big table for a join with a few thousand rows (a full scan looks cheaper
    to it than that many index probes, and rarely is): as a LATERAL subquery it cannot, so it probes.
    ``unique``: at most one match per outer row. SQLite always probes, and has no LATERAL.
    """
    if not is_postgresql():
        return f"{outer_sql} JOIN {table} {alias} ON {condition}"
    limit = "LIMIT 1" if unique else "OFFSET 0"  # either keeps the subquery from being flattened into a join
    return f"{outer_sql} CROSS JOIN LATERAL (SELECT * FROM {table} {alias} WHERE {condition} {limit}) {alias}"  # nosec B608  # SQL assembled from model table names and code fragments; values are bound parameters


def adapt_datetime(value):
    return connection.ops.adapt_datetimefield_value(value)


def execute(sql, params=()):
    """Run one statement; return the number of rows it inserted or changed."""
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        if cursor.rowcount >= 0 or is_postgresql():
            return max(cursor.rowcount, 0)
        # Python's sqlite3 gives no rowcount for a statement that starts with WITH.
        cursor.execute("SELECT changes()")
        return cursor.fetchone()[0]


@contextmanager
def temp_tables():
    """Yields ``create(name, select_sql, params, analyze=True)``: a temporary table filled from a SELECT, analysed
    on PostgreSQL (autovacuum never looks at temporary tables, and the job's plans depend on their size;
    ``analyze=False`` when no plan that reads it depends on more than its size, which PostgreSQL reads anyway).
    Use inside the job's transaction: the tables go at commit (PostgreSQL) or when the block ends
    (SQLite); if it fails, the rollback drops them.
    """
    created = []

    def create(name, select_sql, params=(), analyze=True):
        drop = f"DROP TABLE IF EXISTS {name}"  # left by an earlier run in the same (test) transaction
        if is_postgresql():
            # One round trip for the three statements (the driver binds parameters client-side): a one-figure
            # check makes five tables, and each statement cost more to send and dispatch than to run.
            analyse = f"; ANALYZE {name}" if analyze else ""
            execute(f"{drop}; CREATE TEMPORARY TABLE {name} ON COMMIT DROP AS {select_sql}{analyse}", params)
        else:
            execute(drop)
            execute(f"CREATE TEMPORARY TABLE {name} AS {select_sql}", params)
            created.append(name)

    yield create
    for name in created:
        execute(f"DROP TABLE {name}")


@contextmanager
def bulk_load(table):
    """PostgreSQL's advice for adding many rows at once ("Populating a Database" in its manual): drop
    the table's secondary indexes, unique and foreign keys, load, then re-create them — each index built
    in one sorted pass (a unique one checks its rows as it is built), each foreign key checked by one
    join instead of a trigger per row (for 500,000 breaches: 10 s of key checks at commit and 5 s of
    index upkeep, down to under a second each).

    The definitions are read from the catalogue, so what is re-created is exactly what the migrations
    made. The primary key stays. The table is locked (ACCESS EXCLUSIVE) until the transaction ends, and
    a failure — a duplicate the re-created unique key finds included — rolls everything back.
    Elsewhere than on PostgreSQL this does nothing.
    """
    if not is_postgresql():
        yield
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype IN ('u', 'f') ORDER BY contype DESC, conname",
            [table],
        )
        constraints = cursor.fetchall()  # unique keys first: they are re-created first
        cursor.execute(
            """SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
               WHERE x.indrelid = %s::regclass AND NOT x.indisprimary
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)""",
            [table],
        )
        indexes = cursor.fetchall()
        # Key checks still queued from earlier in the transaction would forbid the ALTER: run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        if constraints:
            drops = ", ".join(f"DROP CONSTRAINT {quote(name)}" for name, _, _ in constraints)
            cursor.execute(f"ALTER TABLE {quote(table)} {drops}")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
    yield
    with connection.cursor() as cursor:
        for _, definition in indexes:
            cursor.execute(definition)
        for name, _, definition in constraints:
            cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")


def table_rows_estimate(table):
    """PostgreSQL's own row estimate of a table (no scan); 0 when unknown or elsewhere."""
    if not is_postgresql():
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT GREATEST(reltuples, 0) FROM pg_class WHERE oid = %s::regclass", [table])
        return int(cursor.fetchone()[0])


def plan_for_whole_tables():
    """For a job that reads whole tables (the hourly run over every contract), until the transaction ends:

    * hash joins: right for every join in it, but PostgreSQL's row estimate for the calendar × contracts
      range join is off by 100× and picks nested loops that probe an index millions of times.
      Correlated subqueries (index probes per row, wanted there) are not affected.
    * and no merge joins: with daily and weekly SLAs the calendar has hundreds of periods a frequency,
      and PostgreSQL merged each breach with its earn-back window's last period on the frequency alone,
      filtering the ordinal afterwards — 540 M rows thrown away at the xl preset (10 M figures); as a
      hash join on (frequency, ordinal) the candidate build took 12.6 s instead of 45.4 s
      (``bench/NOTES.md``, xl).
    * parallel workers for the big scans: at the default cost of passing a row from a worker (0.1),
      PostgreSQL runs the scan of every figure in one process; passing the 20 % that breach is cheap
      (the candidate build of 2.4 M figures: 6.3 s → 4.4 s on 2 cores).
    """
    if is_postgresql():
        execute("SET LOCAL enable_nestloop = off")
        execute("SET LOCAL enable_mergejoin = off")
        execute("SET LOCAL parallel_tuple_cost = 0.01")


@contextmanager
def prefer_index_probes():
    """For a check of a few SLA periods: its writes touch a few thousand breach rows by key, but with
    the candidate table's rows counted in thousands PostgreSQL scans and hashes the whole breach table
    (500k rows) for each statement. Nested loops over index probes, for the statements in the block."""
    if not is_postgresql():
        yield
        return
    execute("SET LOCAL enable_hashjoin = off")
    execute("SET LOCAL enable_mergejoin = off")
    yield
    execute("SET LOCAL enable_hashjoin = on")
    execute("SET LOCAL enable_mergejoin = on")


JOB_WORK_MEM = "128MB"


def lock_key(name: str) -> int:
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


@contextmanager
def job_lock(name: str):
    """One transaction per job run, serialised across workers and hosts.

    On PostgreSQL: ``pg_advisory_xact_lock`` on a key derived from the job name, released at commit.
    On SQLite the settings open every transaction with ``BEGIN IMMEDIATE``, which already takes
    the database's single write lock, so this is just the transaction.
    """
    with transaction.atomic():
        if is_postgresql():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key(name)])
                # Set-based jobs hash and sort hundreds of thousands of rows: keep that in memory. JIT
                # compiling their big plans cost seconds and saved less.
                cursor.execute(f"SET LOCAL work_mem = '{JOB_WORK_MEM}'")
                cursor.execute("SET LOCAL jit = off")
        yield


def execute_with_history(
    statement,
    params,
    table,
    history_table,
    columns,
    history_type,
    history_params,
    history_user_id=None,
    returning=None,
):
    """Run an ``INSERT … SELECT`` or ``UPDATE`` of ``table`` and write, set-based and in the same
    transaction, one django-simple-history row per row it wrote: the row as written, ``history_type``
    (``+`` / ``~``), ``history_params`` = (history_date, change reason) and ``history_user_id`` (None:
    nobody, as for the engine). Returns the number of rows written, or with ``returning`` (column names)
    those columns of each row written.

    PostgreSQL: one statement (the write in a data-modifying CTE, ``RETURNING`` the new rows into the
    history table). SQLite has no data-modifying CTEs: the write returns the ids, the history rows are
    copied from the table by those ids (one JSON parameter).
    """
    column_list = ", ".join(columns)
    history_columns = f"{column_list}, history_date, history_change_reason, history_type, history_user_id"
    history_values = [*history_params, history_type, history_user_id]
    if is_postgresql():
        wrapped = f"""
            WITH written AS ({statement} RETURNING {table}.*)
            INSERT INTO {history_table} ({history_columns})
            SELECT {column_list}, %s, %s, %s, %s FROM written"""  # nosec B608  # SQL assembled from model table names and code fragments; values are bound parameters
        if returning is None:
            return execute(wrapped, [*params, *history_values])
        with connection.cursor() as cursor:
            cursor.execute(f"{wrapped} RETURNING {', '.join(returning)}", [*params, *history_values])
            return cursor.fetchall()
    with connection.cursor() as cursor:
        cursor.execute(f"{statement} RETURNING id", list(params))
        ids = json.dumps([row[0] for row in cursor.fetchall()])
    # Run even for no ids: the job makes the same statements whatever the data.
    execute(
        f"INSERT INTO {history_table} ({history_columns}) "  # nosec B608  # SQL assembled from model table names and code fragments; values are bound parameters
        f"SELECT {column_list}, %s, %s, %s, %s FROM {table} WHERE id IN (SELECT value FROM json_each(%s))",
        [*history_values, ids],
    )
    if returning is None:
        return len(json.loads(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(returning)} FROM {table} WHERE id IN (SELECT value FROM json_each(%s))",  # nosec B608  # SQL assembled from model table names and code fragments; values are bound parameters
            [ids],
        )
        return cursor.fetchall()
