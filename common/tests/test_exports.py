"""common.exports: how one value is written to CSV and XLSX (no database)."""

import csv
import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.utils.safestring import mark_safe

from common.exports import csv_cell, csv_lines, safe_cell, write_xlsx, xlsx_cell

UTC = datetime.UTC


@pytest.mark.parametrize(
    "value,expected",
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("Acme = best", "Acme = best"),  # only the first character counts
        ("", ""),
        ("-12.50", "-12.50"),  # text that is only a number cannot hold a formula
        ("+3", "+3"),
        (Decimal("-12.50"), Decimal("-12.50")),  # numbers are never touched
        (-3, -3),
        (None, None),
    ],
)
def test_safe_cell_neutralises_formulas_only(value, expected):
    assert safe_cell(value) == expected


@pytest.mark.parametrize(
    "value,expected",
    [
        (None, ""),
        ("=1+1", "'=1+1"),
        (Decimal("1234.50"), "1234.50"),
        (Decimal("-1234.50"), "-1234.50"),
        (Decimal("1E+3"), "1000"),
        (12.5, "12.5"),
        (1e-7, "0.0000001"),
        (-7, "-7"),
        (True, "yes"),
        (datetime.date(2026, 11, 30), "2026-11-30"),
        (datetime.datetime(2026, 11, 30, 7, 0, 0, 123456, tzinfo=UTC), "2026-11-30T07:00:00+00:00"),
    ],
)
def test_csv_cell(value, expected):
    assert csv_cell(value) == expected


CSV_VALUES = [
    None,
    "plain",
    "=1+1",
    "-12.50",
    "",
    mark_safe("@SUM(1)"),  # a str subclass
    Decimal("1234.50"),
    Decimal("1E+3"),
    Decimal("NaN"),
    12.5,
    -7,
    True,
    False,
    datetime.date(2026, 11, 30),
    datetime.datetime(2026, 11, 30, 7, 0, 0, 123456, tzinfo=UTC),
    datetime.datetime(2026, 11, 30, 7, 0, 0, 123456),
]


def test_csv_lines_write_every_cell_as_csv_cell_does(settings):
    """The download's inline fast path for common types writes what csv_cell writes, over chunk borders."""
    settings.TIME_ZONE = "Asia/Manila"
    rows = [["Header", "=Formula header"]] + [CSV_VALUES] * 5
    chunks = list(csv_lines(rows, rows_per_chunk=2))
    assert len(chunks) == 3
    written = list(csv.reader(io.StringIO("".join(chunks))))
    assert written == [[csv_cell(value) for value in row] for row in rows]
    assert written[1][4:5] == [""] and written[1][2] == "'=1+1" and written[1][14] == "2026-11-30T15:00:00+08:00"


def test_csv_timestamps_are_in_time_zone(settings):
    settings.TIME_ZONE = "Asia/Manila"
    moment = datetime.datetime(2026, 11, 30, 7, 0, 0, 999999, tzinfo=UTC)
    assert csv_cell(moment) == "2026-11-30T15:00:00+08:00"
    assert xlsx_cell(moment) == datetime.datetime(2026, 11, 30, 15, 0)  # naive: XLSX has no time zones


def test_xlsx_cells_are_typed_and_text_is_never_a_formula():
    moment = datetime.datetime(2026, 11, 30, 7, 0, 0, 123456, tzinfo=UTC)
    rows = [
        ["Text", "Formula", "Error code", "Money", "Negative", "Count", "Date", "Timestamp", "Empty", "Control"],
        ["Acme", "=1+1", "#N/A", Decimal("1234.50"), Decimal("-5"), 3]
        + [datetime.date(2026, 11, 30), moment, None, "a\x00b"],
    ]
    sheet = openpyxl.load_workbook(io.BytesIO(write_xlsx(rows, title="Breaches: all/some"))).active
    assert sheet.title == "Breaches all some"
    header, row = list(sheet.iter_rows())
    assert [c.value for c in header][:2] == ["Text", "Formula"] and header[0].font.b
    text, formula, error, money, negative, count, date, timestamp, empty, control = row
    assert (text.value, text.data_type) == ("Acme", "s")
    assert (formula.value, formula.data_type) == ("'=1+1", "s")
    assert (error.value, error.data_type) == ("#N/A", "s")  # text, not an error cell
    assert money.value == 1234.5 and money.data_type == "n"
    assert negative.value == -5 and negative.data_type == "n"
    assert count.value == 3
    assert date.is_date and date.value == datetime.datetime(2026, 11, 30) and date.number_format == "yyyy-mm-dd"
    assert timestamp.is_date and timestamp.value == datetime.datetime(2026, 11, 30, 7, 0)
    assert empty.value is None
    assert control.value == "ab"  # characters XLSX cannot hold are dropped, not a crash
