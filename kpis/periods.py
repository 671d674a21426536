"""Reporting periods: calendar day, ISO week (Monday–Sunday), calendar month, calendar quarter."""

import calendar
import datetime
import re
from collections.abc import Iterator

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
