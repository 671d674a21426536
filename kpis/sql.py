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
    text = day.isoformat()
    return f"DATE '{text}'" if is_postgresql() else f"'{text}'"


def add_days(date_sql: str, days_sql: str) -> str:
    if is_postgresql():
        return f"({date_sql} + {days_sql})"
    return f"date({date_sql}, '+' || ({days_sql}) || ' days')"


def month_key(date_sql: str) -> str:
    """``YYYY-MM`` of a date column: the calendar month that carries the credit cap (rule 2)."""
    if is_postgresql():
        return f"to_char({date_sql}, 'YYYY-MM')"
    return f"strftime('%%Y-%%m', {date_sql})"


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
    return f"{column_sql} IN (SELECT value FROM json_each(%s))", [json.dumps(ids)]


def adapt_datetime(value):
    return connection.ops.adapt_datetimefield_value(value)


def adapt_date(value):
    return connection.ops.adapt_datefield_value(value)


def execute(sql, params=()):
    """Run one statement; return the number of rows it inserted or changed."""
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        if cursor.rowcount >= 0 or is_postgresql():
            return max(cursor.rowcount, 0)
        # Python's sqlite3 gives no rowcount for a statement that starts with WITH.
        cursor.execute("SELECT changes()")
        return cursor.fetchone()[0]


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
        yield
