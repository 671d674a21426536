import datetime

import pytest

from kpis.periods import (
    describe_period,
    month_end,
    month_start,
    month_window_start,
    parse_iso_week,
    period_bounds,
    periods_between,
    previous_iso_week,
)

D = datetime.date


@pytest.mark.parametrize(
    ("frequency", "day", "start", "end"),
    [
        ("daily", D(2024, 2, 29), D(2024, 2, 29), D(2024, 2, 29)),
        # ISO week: Monday–Sunday, across a year boundary.
        ("weekly", D(2025, 12, 31), D(2025, 12, 29), D(2026, 1, 4)),
        ("weekly", D(2026, 1, 4), D(2025, 12, 29), D(2026, 1, 4)),
        ("weekly", D(2026, 1, 5), D(2026, 1, 5), D(2026, 1, 11)),
        # 2020 has an ISO week 53 (Mon 28 Dec 2020 – Sun 3 Jan 2021).
        ("weekly", D(2021, 1, 1), D(2020, 12, 28), D(2021, 1, 3)),
        # Leap years and month ends.
        ("monthly", D(2024, 2, 15), D(2024, 2, 1), D(2024, 2, 29)),
        ("monthly", D(2025, 2, 28), D(2025, 2, 1), D(2025, 2, 28)),
        ("monthly", D(2026, 12, 31), D(2026, 12, 1), D(2026, 12, 31)),
        # Quarter ends.
        ("quarterly", D(2026, 3, 31), D(2026, 1, 1), D(2026, 3, 31)),
        ("quarterly", D(2026, 4, 1), D(2026, 4, 1), D(2026, 6, 30)),
        ("quarterly", D(2026, 9, 30), D(2026, 7, 1), D(2026, 9, 30)),
        ("quarterly", D(2026, 12, 31), D(2026, 10, 1), D(2026, 12, 31)),
    ],
)
def test_period_bounds(frequency, day, start, end):
    assert period_bounds(frequency, day) == (start, end)


def test_unknown_frequency_is_rejected():
    with pytest.raises(ValueError, match="Unknown frequency"):
        period_bounds("hourly", D(2026, 1, 1))


def test_periods_between_covers_partial_periods_at_both_ends():
    assert list(periods_between("monthly", D(2026, 1, 15), D(2026, 3, 2))) == [
        (D(2026, 1, 1), D(2026, 1, 31)),
        (D(2026, 2, 1), D(2026, 2, 28)),
        (D(2026, 3, 1), D(2026, 3, 31)),
    ]


def test_iso_week_53_parses_and_labels():
    assert parse_iso_week("2020-W53") == (D(2020, 12, 28), D(2021, 1, 3))
    assert describe_period("weekly", D(2020, 12, 28)) == "2020-W53"


@pytest.mark.parametrize(
    ("text", "message"),
    [("2026-47", "not an ISO week"), ("2025-W53", "2025 has no ISO week 53"), ("W47", "not an ISO week")],
)
def test_bad_iso_week_gives_a_readable_error(text, message):
    with pytest.raises(ValueError, match=message):
        parse_iso_week(text)


def test_previous_iso_week_on_a_monday_across_new_year():
    assert previous_iso_week(D(2026, 1, 5)) == "2026-W01"
    assert previous_iso_week(D(2026, 1, 4)) == "2025-W52"


def test_describe_period_labels():
    assert describe_period("monthly", D(2026, 11, 1)) == "Nov 2026"
    assert describe_period("quarterly", D(2026, 10, 1)) == "2026 Q4"
    assert describe_period("daily", D(2026, 11, 23)) == "2026-11-23"


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2026, 5, 17), 0, D(2026, 5, 1)),
        # Always the 1st: a 31st lands on the 1st of a shorter month, never a clamped or overflowed day.
        (D(2026, 1, 31), 1, D(2026, 2, 1)),
        (D(2026, 3, 31), -1, D(2026, 2, 1)),
        (D(2024, 3, 31), -1, D(2024, 2, 1)),
        # Across year boundaries, both ways, and by more than a year.
        (D(2025, 12, 15), 1, D(2026, 1, 1)),
        (D(2026, 1, 15), -1, D(2025, 12, 1)),
        (D(2026, 1, 1), -13, D(2024, 12, 1)),
        (D(2026, 11, 30), 35, D(2029, 10, 1)),
    ],
)
def test_month_start_moves_whole_months(day, months, expected):
    assert month_start(day, months) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2026, 1, 1), D(2026, 1, 31)),
        (D(2026, 4, 30), D(2026, 4, 30)),
        (D(2026, 2, 14), D(2026, 2, 28)),
        (D(2024, 2, 14), D(2024, 2, 29)),  # leap year
        (D(2100, 2, 1), D(2100, 2, 28)),  # a century that is not a leap year
        (D(2026, 12, 31), D(2026, 12, 31)),
    ],
)
def test_month_end_is_the_last_day_of_the_month(day, expected):
    assert month_end(day) == expected


@pytest.mark.parametrize(
    ("today", "months", "expected"),
    [
        (D(2026, 5, 15), 1, D(2026, 5, 1)),  # this month only
        (D(2026, 5, 15), 12, D(2025, 6, 1)),  # this month and the 11 before it
        (D(2026, 1, 31), 3, D(2025, 11, 1)),
        (D(2026, 12, 31), 12, D(2026, 1, 1)),
    ],
)
def test_month_window_start_counts_today_s_month_in_the_window(today, months, expected):
    assert month_window_start(today, months) == expected


@pytest.mark.parametrize(
    ("text", "frequency", "start"),
    [
        ("2026-11", "monthly", D(2026, 11, 1)),
        ("2026-W47", "weekly", D(2026, 11, 16)),
        ("2020-W53", "weekly", D(2020, 12, 28)),
        ("2026-11-09", "daily", D(2026, 11, 9)),
        ("2024-02-29", "daily", D(2024, 2, 29)),
        ("2026-Q4", "quarterly", D(2026, 10, 1)),
        (" 2000-01 ", "monthly", D(2000, 1, 1)),
    ],
)
def test_period_param_round_trips(text, frequency, start):
    from kpis.periods import parse_period_param, period_param

    assert parse_period_param(text, D(2026, 11, 25)) == (frequency, start)
    assert period_param(frequency, start) == text.strip()


@pytest.mark.parametrize("text", ["9999-12", "0001-01", "1999-12", "2037-01", "2026-13", "2023-02-29", "2026-W54", "x"])
def test_bad_period_params_raise_a_readable_error(text):
    from kpis.periods import parse_period_param

    with pytest.raises(ValueError, match="2000|valid|not a period"):
        parse_period_param(text, D(2026, 11, 25))
