"""Reporting periods: calendar day, ISO week (Monday–Sunday), calendar month, calendar quarter."""

import calendar
import datetime
import re
from collections.abc import Iterator

from common.validators import EARLIEST_PLAUSIBLE_DATE, PLAUSIBLE_YEARS_AHEAD

from .choices import Frequency

ONE_DAY = datetime.timedelta(days=1)
_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def period_start(frequency: str, day: datetime.date) -> datetime.date:
    if frequency == Frequency.DAILY:
        return day
    if frequency == Frequency.WEEKLY:
        return day - datetime.timedelta(days=day.weekday())
    if frequency == Frequency.MONTHLY:
        return day.replace(day=1)
    if frequency == Frequency.QUARTERLY:
        return datetime.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    raise ValueError(f"Unknown frequency: {frequency!r}")


def period_end(frequency: str, day: datetime.date) -> datetime.date:
    start = period_start(frequency, day)
    if frequency == Frequency.DAILY:
        return start
    if frequency == Frequency.WEEKLY:
        return start + datetime.timedelta(days=6)
    if frequency == Frequency.MONTHLY:
        return month_end(start)
    return month_end(start.replace(month=start.month + 2))


def period_bounds(frequency: str, day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The (first day, last day) of the period of ``frequency`` that contains ``day``."""
    return period_start(frequency, day), period_end(frequency, day)


def next_period_start(frequency: str, day: datetime.date) -> datetime.date:
    return period_end(frequency, day) + ONE_DAY


def periods_between(frequency: str, first: datetime.date, last: datetime.date) -> Iterator[tuple]:
    """Every whole or partial period overlapping ``first``..``last``, as (start, end) pairs."""
    day = period_start(frequency, first)
    while day <= last:
        end = period_end(frequency, day)
        yield day, end
        day = end + ONE_DAY


def describe_period(frequency: str, start: datetime.date) -> str:
    """A short human label: 2026-11-23, 2026-W48, Nov 2026, 2026 Q4."""
    if frequency == Frequency.DAILY:
        return start.isoformat()
    if frequency == Frequency.WEEKLY:
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if frequency == Frequency.MONTHLY:
        return start.strftime("%b %Y")
    return f"{start.year} Q{(start.month - 1) // 3 + 1}"


def parse_iso_week(text: str) -> tuple[datetime.date, datetime.date]:
    """``2026-W47`` → (Monday, Sunday) of that ISO week. Raises ValueError with a readable message."""
    match = _ISO_WEEK.match(text.strip())
    if not match:
        raise ValueError(f"“{text}” is not an ISO week; write it like 2026-W47.")
    year, week = int(match.group(1)), int(match.group(2))
    try:
        monday = datetime.date.fromisocalendar(year, week, 1)
    except ValueError:
        raise ValueError(f"{year} has no ISO week {week}.") from None
    return monday, monday + datetime.timedelta(days=6)


def iso_week_label(day: datetime.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def previous_iso_week(today: datetime.date) -> str:
    return iso_week_label(today - datetime.timedelta(days=7))


def month_start(day: datetime.date, months: int = 0) -> datetime.date:
    """The first day of the calendar month ``months`` months after ``day``'s month (before it when
    negative): ``month_start(date(2026, 1, 31), 1)`` is 1 Feb 2026, never a clamped 28 Feb."""
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def month_end(day: datetime.date) -> datetime.date:
    """The last day of ``day``'s calendar month (28, 29, 30 or 31)."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def month_window_start(today: datetime.date, months: int) -> datetime.date:
    """The first day of the window of ``months`` calendar months that ends with ``today``'s month:
    ``today``'s month and the ``months - 1`` before it (12 on 15 May 2026 → 1 Jun 2025)."""
    return month_start(today, 1 - months)


# --- the ``?period=`` of the KPI entry page -----------------------------------------------------------
# Order from the finest to the coarsest frequency: a page may show a finer frequency than its period
# (the seven days of a week), never a coarser one.
FREQUENCY_ORDER = (Frequency.DAILY, Frequency.WEEKLY, Frequency.MONTHLY, Frequency.QUARTERLY)
FIRST_YEAR = EARLIEST_PLAUSIBLE_DATE.year  # periods before this year are never shown (nor recorded)
YEARS_AHEAD = PLAUSIBLE_YEARS_AHEAD  # nor periods more than this many years after today

_PERIOD_FORMS = (
    (Frequency.MONTHLY, re.compile(r"^(\d{4})-(\d{1,2})$")),
    (Frequency.WEEKLY, re.compile(r"^(\d{4})-W(\d{1,2})$", re.IGNORECASE)),
    (Frequency.DAILY, re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")),
    (Frequency.QUARTERLY, re.compile(r"^(\d{4})-Q(\d)$", re.IGNORECASE)),
)
PERIOD_HELP = "Write a period like 2026-11 (a month), 2026-W47 (an ISO week), 2026-11-09 (a day) or 2026-Q4."


def period_param(frequency: str, start: datetime.date) -> str:
    """The ``?period=`` text of the period of ``frequency`` containing ``start``: ``2026-11-09``,
    ``2026-W47``, ``2026-11``, ``2026-Q4`` (the inverse of ``parse_period_param``)."""
    start = period_start(frequency, start)
    if frequency == Frequency.DAILY:
        return start.isoformat()
    if frequency == Frequency.WEEKLY:
        return iso_week_label(start)
    if frequency == Frequency.MONTHLY:
        return start.strftime("%Y-%m")
    return f"{start.year}-Q{(start.month - 1) // 3 + 1}"


def parse_period_param(text: str, today: datetime.date) -> tuple[str, datetime.date]:
    """``2026-11`` / ``2026-W47`` / ``2026-11-09`` / ``2026-Q4`` → (frequency, first day of the period).

    Raises ValueError with a message fit for the page for anything else: an unknown form, a month 13,
    a 30 February, a week 54, a year before ``FIRST_YEAR`` or more than ``YEARS_AHEAD`` years ahead.
    Never shifts a bad period to a neighbouring one.
    """
    text = (text or "").strip()
    found = next(((f, p.match(text)) for f, p in _PERIOD_FORMS if p.match(text)), None)
    if found is None:
        raise ValueError(f"“{text[:40]}” is not a period. {PERIOD_HELP}")
    frequency, match = found
    year, *rest = (int(part) for part in match.groups())
    last_year = today.year + YEARS_AHEAD
    if not FIRST_YEAR <= year <= last_year:
        raise ValueError(f"{text}: figures can be entered for {FIRST_YEAR} to {last_year} only.")
    try:
        if frequency == Frequency.MONTHLY:
            if not 1 <= rest[0] <= 12:
                raise ValueError
            start = datetime.date(year, rest[0], 1)
        elif frequency == Frequency.WEEKLY:
            start = datetime.date.fromisocalendar(year, rest[0], 1)
        elif frequency == Frequency.DAILY:
            start = datetime.date(year, rest[0], rest[1])
        else:
            if not 1 <= rest[0] <= 4:
                raise ValueError
            start = datetime.date(year, 3 * rest[0] - 2, 1)
    except ValueError:
        kind = {"monthly": "month", "weekly": "ISO week", "daily": "date", "quarterly": "quarter"}[frequency]
        raise ValueError(f"{text} is not a valid {kind}. {PERIOD_HELP}") from None
    return frequency, start


def previous_period_start(frequency: str, day: datetime.date) -> datetime.date:
    """The first day of the period of ``frequency`` before the one containing ``day``."""
    return period_start(frequency, period_start(frequency, day) - ONE_DAY)


def finer_or_equal(frequency: str, than: str) -> bool:
    return FREQUENCY_ORDER.index(frequency) <= FREQUENCY_ORDER.index(than)
