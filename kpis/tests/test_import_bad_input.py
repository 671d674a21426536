"""The import refuses bad input with a message next to the file or the row, HTTP 400, nothing written and
never a 500: values a figure cannot be, files in other encodings, binary data, damaged or oversized
workbooks (XLSX "bombs"), and periods in the year 9999."""

import datetime
import io
import time
import zipfile
from decimal import Decimal
from unittest import mock

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from kpis import imports
from kpis.models import KPI, Measurement, PendingCheck
from tests.factories import ContractFactory, SLAFactory

pytestmark = pytest.mark.django_db
URL = "/contracts/import/"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 11, 30, 12, 0, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def setup(owner):
    contract = ContractFactory(owner=owner, reference="CX-1")
    monthly = SLAFactory(contract=contract)
    weekly = SLAFactory(contract=contract, kpi=KPI.objects.get(code="csat"), frequency="weekly")
    return monthly, weekly


def post(client, owner, content, name="figures.csv"):
    client.force_login(owner)
    response = client.post(URL, {"file": SimpleUploadedFile(name, content)})
    if response.status_code != 302:
        assert not PendingCheck.objects.filter(kind="figure").exists()
    return response


def row_errors(response):
    assert response.status_code == 400
    assert not Measurement.objects.exists()
    return {e.line: e.message for e in response.context["result"].errors}


def file_errors(response):
    assert response.status_code == 400
    assert not Measurement.objects.exists()
    assert response.context["result"] is None
    return response.context["form"].errors["file"]


# --- values --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("NaN", "“NaN” is not a finite number."),
        ("nan", "“nan” is not a finite number."),
        ("sNaN", "“sNaN” is not a finite number."),
        ("inf", "“inf” is not a finite number."),
        ("-inf", "“-inf” is not a finite number."),
        ("Infinity", "“Infinity” is not a finite number."),
        ("1e308", "“1e308” is too large: a figure can be at most 999,999,999,999.99."),
        ("1000000000000", "“1000000000000” is too large: a figure can be at most 999,999,999,999.99."),
        ("99999999999999", "“99999999999999” is too large: a figure can be at most 999,999,999,999.99."),
        ("0.004", "“0.004” has more than 2 decimal places: round it to 2."),
        ("81.255", "“81.255” has more than 2 decimal places: round it to 2."),
        ("1e-9", "“1e-9” has more than 2 decimal places: round it to 2."),
        ("1_000", "“1_000” is not a number."),
        ("", "the value is empty."),
    ],
)
def test_a_value_no_figure_can_be_is_refused_on_its_row(client, owner, setup, value, message):
    response = post(
        client, owner, f"CX-1,service_level,2026-09-01,80\nCX-1,service_level,2026-10-01,{value}\n".encode()
    )
    assert row_errors(response) == {2: message}
    assert message in response.text


@pytest.mark.parametrize(
    ("value", "stored"),
    [("999999999999.99", "999999999999.99"), ("70.000", "70"), ("1e2", "100"), ("-0", "0"), (" 12.5 ", "12.5")],
)
def test_values_the_form_takes_are_taken(client, owner, setup, value, stored):
    SLAFactory(contract=setup[0].contract, kpi=KPI.objects.get(code="average_handle_time"), expected=300, minimum=360)
    response = post(client, owner, f"CX-1,average_handle_time,2026-10-01,{value}\n".encode())
    assert response.status_code == 302
    assert Measurement.objects.get().value == Decimal(stored)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (float("nan"), (None, "“nan” is not a finite number")),
        (float("inf"), (None, "“inf” is not a finite number")),
        (1e308, (None, "“1e+308” is too large: a figure can be at most 999,999,999,999.99")),
        (0.1 + 0.2, (Decimal("0.30"), None)),  # 0.30000000000000004: Excel shows 15 significant digits
        (81.25, (Decimal("81.25"), None)),
        (0.004, (None, "“0.004” has more than 2 decimal places: round it to 2")),
        (12, (Decimal("12.00"), None)),
        (True, (None, "“True” is not a number")),
    ],
)
def test_spreadsheet_cells_are_read_like_text(cell, expected):
    assert imports.parse_value(cell) == expected


# --- encodings and binary data -------------------------------------------------------------------------

CSV = "contract_reference,kpi_code,period_start,value\nCX-Ñ1,service_level,2026-10-01,81.5\n"


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode("utf-8"),
        lambda text: text.encode("utf-8-sig"),
        lambda text: text.encode("utf-16"),  # with its BOM, as Excel's "Unicode text" saves it
        lambda text: text.encode("utf-16-le"),  # no BOM: told by its NUL bytes
        lambda text: text.encode("utf-16-be"),
        lambda text: text.encode("cp1252"),
        lambda text: text.encode("latin-1"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-bom", "utf-16-le", "utf-16-be", "cp1252", "latin-1"],
)
def test_csv_in_the_usual_encodings_is_read(client, owner, encode):
    contract = ContractFactory(owner=owner, reference="CX-Ñ1")
    SLAFactory(contract=contract)
    response = post(client, owner, encode(CSV))
    assert response.status_code == 302
    assert Measurement.objects.get().value == Decimal("81.50")


@pytest.mark.parametrize(
    "content",
    [
        bytes(range(256)) * 4,
        b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x01" * 50,
        b"CX-1,service_level,2026-10-01,80\n\x1b[31mCX-1,service_level,2026-09-01,80\n",
    ],
    ids=["all-bytes", "png", "escape-code"],
)
def test_binary_junk_is_refused_with_what_is_accepted(client, owner, setup, content):
    [message] = file_errors(post(client, owner, content))
    assert "This is not a text (CSV) file" in message
    assert "UTF-8, UTF-16 or Windows-1252 / Latin-1" in message


def test_a_field_longer_than_csv_allows_is_refused_not_a_crash(client, owner, setup):
    content = b'CX-1,service_level,2026-10-01,"' + b"9" * 200_000 + b'"\n'
    [message] = file_errors(post(client, owner, content))
    assert "Line 1 cannot be read as CSV" in message


def test_long_cells_are_shortened_in_the_messages(client, owner, setup):
    response = post(client, owner, ("X" * 5000 + ",service_level,2026-10-01,80\n").encode())
    [message] = row_errors(response).values()
    assert message == f"no contract with reference “{'X' * 39}…”."


# --- workbooks -------------------------------------------------------------------------------------------


def zipped(parts):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def cell(ref, value):
    if isinstance(value, str):
        return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'
    return f'<c r="{ref}"><v>{value}</v></c>'


def sheet_row(number, values):
    cells = "".join(cell(f"{'ABCD'[i]}{number}", v) for i, v in enumerate(values))
    return f'<row r="{number}">{cells}</row>'


def xlsx(rows_xml, dimension):
    """A minimal workbook whose one sheet declares ``dimension`` and holds ``rows_xml``."""
    ns = "http://schemas.openxmlformats.org"
    return zipped(
        {
            "[Content_Types].xml": (
                f'<Types xmlns="{ns}/package/2006/content-types">'
                '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                '<Default Extension="xml" ContentType="application/xml"/>'
                '<Override PartName="/xl/workbook.xml" '
                'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                '<Override PartName="/xl/worksheets/sheet1.xml" '
                'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                "</Types>"
            ),
            "_rels/.rels": (
                f'<Relationships xmlns="{ns}/package/2006/relationships">'
                f'<Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/officeDocument" '
                'Target="xl/workbook.xml"/></Relationships>'
            ),
            "xl/workbook.xml": (
                f'<workbook xmlns="{ns}/spreadsheetml/2006/main" xmlns:r="{ns}/officeDocument/2006/relationships">'
                '<sheets><sheet name="Figures" sheetId="1" r:id="rId1"/></sheets></workbook>'
            ),
            "xl/_rels/workbook.xml.rels": (
                f'<Relationships xmlns="{ns}/package/2006/relationships">'
                f'<Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/worksheet" '
                'Target="worksheets/sheet1.xml"/></Relationships>'
            ),
            "xl/worksheets/sheet1.xml": (
                f'<worksheet xmlns="{ns}/spreadsheetml/2006/main"><dimension ref="{dimension}"/>'
                f"<sheetData>{rows_xml}</sheetData></worksheet>"
            ),
        }
    )


FIGURES = [["CX-1", "service_level", f"2026-{month:02d}-01", 80 + month] for month in range(1, 11)]


def figures_xml(rows=FIGURES, first=1):
    return "".join(sheet_row(first + i, values) for i, values in enumerate(rows))


def test_a_sheet_declaring_a_million_rows_of_16384_columns_costs_only_the_cells_read(client, owner, setup):
    """Ten figures, and an eleventh on the sheet's last row, 1,048,576, under a dimension of A1:XFD1048576.
    Read as declared, each of the million rows in between came out as 16,384 empty cells to look at."""
    far = ["CX-1", "service_level", "2025-06-01", 90]
    content = xlsx(figures_xml() + figures_xml([far], first=1_048_576), "A1:XFD1048576")
    assert len(content) < 2_000
    rows = imports.read_rows(io.BytesIO(content))
    assert [line for line, _ in rows] == [*range(1, 11), 1_048_576]
    assert all(len(cells) == 4 for _, cells in rows)
    response = post(client, owner, content, name="figures.xlsx")
    assert response.status_code == 302
    assert Measurement.objects.count() == 11


def test_rows_past_a_dimension_that_is_too_small_are_read(client, owner, setup):
    content = xlsx(figures_xml(), "A1:D2")  # read_only mode would stop at row 2 of 10
    assert len(imports.read_rows(io.BytesIO(content))) == 10
    response = post(client, owner, content, name="figures.xlsx")
    assert response.status_code == 302
    assert Measurement.objects.count() == 10


def test_too_many_rows_stop_the_reading_at_the_limit(client, owner, setup, monkeypatch):
    monkeypatch.setattr(imports, "MAX_ROWS", 100)
    many = [["CX-1", "service_level", "2026-10-01", 80]] * 1000
    content = xlsx(figures_xml(many), "A1:D1000")
    assert len(imports.read_rows(io.BytesIO(content))) == 101  # not 1,000: the reading stops
    errors = row_errors(post(client, owner, content, name="figures.xlsx"))
    assert errors == {101: "More than 100 rows; split the file."}


def test_a_sheet_that_takes_too_long_is_refused_at_the_deadline(client, owner, setup, monkeypatch):
    monkeypatch.setattr(imports, "READ_SECONDS", 0.2)
    # Rows 2 to 1,048,575 are missing: each is produced (empty) on the way to the last one.
    content = xlsx(figures_xml(FIGURES[:1]) + figures_xml(FIGURES[1:2], first=1_048_576), "A1:D1048576")
    started = time.monotonic()
    [message] = file_errors(post(client, owner, content, name="figures.xlsx"))
    assert time.monotonic() - started < 10
    assert message.startswith("The workbook took too long to read (stopped at row ")


def test_a_workbook_that_unpacks_too_big_is_refused_before_it_is_read(client, owner, setup, monkeypatch):
    monkeypatch.setattr(imports, "XLSX_MAX_UNPACKED_BYTES", 1024 * 1024)
    padding = " " * (2 * 1024 * 1024)  # compresses to a few kB
    content = xlsx(figures_xml() + padding, "A1:D10")
    assert len(content) < 50_000
    with mock.patch("openpyxl.load_workbook") as load:
        [message] = file_errors(post(client, owner, content, name="figures.xlsx"))
    load.assert_not_called()
    assert message.startswith("This workbook unpacks to 2 MB, more than 1 MB")


@pytest.mark.parametrize("name", ["figures.xlsx", "figures.csv"])
def test_a_zip_that_is_not_a_workbook_is_refused(client, owner, setup, name):
    [message] = file_errors(post(client, owner, zipped({"notes.txt": "hello"}), name=name))
    assert message.startswith("This is not a readable XLSX workbook")


def test_an_old_xls_file_is_refused_with_what_to_do(client, owner, setup):
    content = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500
    [message] = file_errors(post(client, owner, content, name="figures.xlsx"))
    assert message == "This is an Excel 97–2003 (.xls) file: save it as .xlsx or CSV and upload that."


def test_a_damaged_sheet_is_refused_not_a_crash(client, owner, setup):
    content = xlsx(figures_xml() + "<row r=", "A1:D10")
    [message] = file_errors(post(client, owner, content, name="figures.xlsx"))
    assert "of the workbook cannot be read" in message


# --- periods and the error page ------------------------------------------------------------------------


def test_a_weekly_period_in_year_9999_is_refused_on_its_row(client, owner, setup):
    response = post(client, owner, b"CX-1,csat,9999-12-27,88\nCX-1,csat,2026-11-16,88\n")
    assert row_errors(response) == {
        1: "9999-12-27 is not a plausible date: enter one between 2000-01-01 and 2036-11-30 (check the year)."
    }


def test_the_error_page_lists_the_first_200_problems_and_counts_the_rest(client, owner, setup):
    content = "".join(f"CX-1,service_level,2026-10-01,bad{i}\n" for i in range(250)).encode()
    response = post(client, owner, content)
    assert len(row_errors(response)) == 250
    assert "Nothing was imported: 250 rows to fix" in response.text
    assert response.text.count("” is not a number") == 200
    assert "bad199" in response.text and "bad200" not in response.text
    assert "… and 50 more rows with problems, not listed" in response.text
