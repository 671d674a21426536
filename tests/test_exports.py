"""Every export a user opens in a spreadsheet: the lists (``?_export=csv|xlsx``), an admin report and the
admin export actions. Text never runs as a formula; dates, timestamps and numbers are typed; money comes with
its currency; people by name; empty is empty."""

import csv
import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.contrib.admin import helpers
from django.urls import reverse
from django.utils import timezone

from kpis.models import Breach
from tests.builders import bulk_world, csv_rows
from tests.factories import (
    BreachFactory,
    ContractFactory,
    MeasurementFactory,
    SLAFactory,
    StaffMemberFactory,
    UserFactory,
    VendorFactory,
)

pytestmark = pytest.mark.django_db

EVIL = "=cmd|' /C calc'!A0"
ESCAPED = "'" + EVIL
DETECTED = datetime.datetime(2026, 11, 30, 7, 0, 0, 123456, tzinfo=datetime.UTC)


@pytest.fixture
def world(settings):
    settings.TIME_ZONE = "Asia/Manila"  # timestamps are written in TIME_ZONE (UTC+8)
    owner = UserFactory(username="msantos", first_name="Maria", last_name="Santos", role="manager")
    vendor = VendorFactory(name=EVIL, contact_name="@SUM(1+1)")
    contract = ContractFactory(
        vendor=vendor,
        owner=owner,
        reference="CX-1",
        title="+Support",
        currency="EUR",
        monthly_fee=Decimal("1234.50"),
        notice_days=30,
        end_date=timezone.localdate() + datetime.timedelta(days=120),
    )
    sla = SLAFactory(contract=contract)
    measurement = MeasurementFactory(sla=sla, period_start=datetime.date(2026, 1, 1), value=Decimal("70"))
    measurement.recorded_by = owner
    measurement.save()
    breach = BreachFactory(
        sla=sla,
        contract=contract,
        measurement=measurement,
        actual=Decimal("-5.00"),  # a negative number stays a number
        service_credit=Decimal("1234.50"),
        notes="-2+3+cmd|' /C calc'!A0",
    )
    Breach.objects.filter(pk=breach.pk).update(detected_at=DETECTED)
    staff = StaffMemberFactory(contract=contract, full_name="-Ana Reyes", employee_ref="E7")
    return {"owner": owner, "vendor": vendor, "contract": contract, "breach": breach, "staff": staff}


def _xlsx(response):
    """(header, rows of cells) of the first sheet."""
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    header, *rows = sheet.iter_rows()
    return [c.value for c in header], rows


def _assert_safe_text(cell, expected=ESCAPED):
    assert cell.value == expected
    assert cell.data_type == "s"  # a string cell: never a formula


def _list_export(client, url_name, fmt):
    return client.get(reverse(url_name), {"_export": fmt})


# --- the lists -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url_name,column",
    [
        ("vendors:vendor_list", "Name"),
        ("contracts:contract_list", "Vendor"),
        ("staff:staff_list", "Vendor"),
        ("kpis:breach_list", "Vendor"),
    ],
)
def test_list_exports_neutralise_a_formula_in_a_vendor_name(client, viewer, world, url_name, column):
    client.force_login(viewer)
    rows = csv_rows(_list_export(client, url_name, "csv"))
    assert rows[1][rows[0].index(column)] == ESCAPED
    header, cells = _xlsx(_list_export(client, url_name, "xlsx"))
    _assert_safe_text(cells[0][header.index(column)])
    assert header == rows[0]  # the same columns in both files


def test_vendor_export_neutralises_every_text_column(client, viewer, world):
    client.force_login(viewer)
    rows = csv_rows(_list_export(client, "vendors:vendor_list", "csv"))
    assert rows[1][rows[0].index("Contact")] == "'@SUM(1+1)"
    header, cells = _xlsx(_list_export(client, "vendors:vendor_list", "xlsx"))
    _assert_safe_text(cells[0][header.index("Contact")], "'@SUM(1+1)")
    assert cells[0][header.index("Contracts")].value == 1  # a count is a number


def test_contract_export_is_typed_with_currency_and_owner_name(client, viewer, world):
    client.force_login(viewer)
    rows = csv_rows(_list_export(client, "contracts:contract_list", "csv"))
    header, row = rows[0], rows[1]
    assert header[header.index("Monthly fee") + 1] == "Currency"
    assert row[header.index("Monthly fee")] == "1234.50" and row[header.index("Currency")] == "EUR"
    assert row[header.index("Owner")] == "Maria Santos"
    assert row[header.index("Title")] == "'+Support"
    assert row[header.index("Ends")] == world["contract"].end_date.isoformat()

    header, cells = _xlsx(_list_export(client, "contracts:contract_list", "xlsx"))
    cell = dict(zip(header, cells[0], strict=True))
    assert cell["Monthly fee"].value == Decimal("1234.50") and cell["Monthly fee"].data_type == "n"
    assert cell["Currency"].value == "EUR"
    assert cell["Owner"].value == "Maria Santos"
    assert cell["Ends"].is_date and cell["Ends"].value.date() == world["contract"].end_date
    assert isinstance(cell["SLAs"].value, int) and isinstance(cell["Open breaches"].value, int)
    _assert_safe_text(cell["Title"], "'+Support")


def test_contract_export_owner_without_a_name_is_the_username(client, viewer, world):
    world["owner"].first_name = world["owner"].last_name = ""
    world["owner"].save()
    client.force_login(viewer)
    rows = csv_rows(_list_export(client, "contracts:contract_list", "csv"))
    assert rows[1][rows[0].index("Owner")] == "msantos"


def test_staff_export_has_dates_and_empty_cells(client, viewer, world):
    client.force_login(viewer)
    rows = csv_rows(_list_export(client, "staff:staff_list", "csv"))
    header, row = rows[0], rows[1]
    assert row[header.index("Name")] == "'-Ana Reyes"
    assert row[header.index("Joined on")] == "2025-01-01"
    assert row[header.index("Left on")] == "" and row[header.index("Replacement")] == ""

    header, cells = _xlsx(_list_export(client, "staff:staff_list", "xlsx"))
    cell = dict(zip(header, cells[0], strict=True))
    _assert_safe_text(cell["Name"], "'-Ana Reyes")
    assert cell["Joined on"].is_date and cell["Joined on"].value == datetime.datetime(2025, 1, 1)
    for empty in ("Left on", "Leave reason", "Replacement due", "Replacement"):
        assert cell[empty].value is None, empty  # empty, not "—"


def test_breach_export_is_typed_with_currency(client, viewer, world):
    client.force_login(viewer)
    rows = csv_rows(_list_export(client, "kpis:breach_list", "csv"))
    header, row = rows[0], rows[1]
    assert header[header.index("Credit") + 1] == "Currency"
    assert row[header.index("Credit")] == "1234.50" and row[header.index("Currency")] == "EUR"
    assert row[header.index("Actual")] == "-5.00"  # not escaped: a number
    assert row[header.index("Period")] == "2026-01-01" and row[header.index("Period end")] == "2026-01-31"
    detected = row[header.index("Detected")]
    assert detected == "2026-11-30T15:00:00+08:00"  # ISO, TIME_ZONE, no microseconds
    assert datetime.datetime.fromisoformat(detected) == DETECTED.replace(microsecond=0)

    header, cells = _xlsx(_list_export(client, "kpis:breach_list", "xlsx"))
    cell = dict(zip(header, cells[0], strict=True))
    assert cell["Credit"].value == Decimal("1234.50") and cell["Credit"].data_type == "n"
    assert cell["Actual"].value == -5 and cell["Actual"].data_type == "n"
    assert cell["Expected"].value == 80
    assert cell["Currency"].value == "EUR"
    assert cell["Period"].is_date and cell["Period"].value == datetime.datetime(2026, 1, 1)
    assert cell["Detected"].is_date and cell["Detected"].value == datetime.datetime(2026, 11, 30, 15, 0)
    assert cell["#"].value == world["breach"].pk


@pytest.mark.parametrize("url_name", ["contracts:contract_list", "kpis:breach_list"])
def test_currency_column_is_in_the_exports_only(client, viewer, world, url_name):
    client.force_login(viewer)
    response = client.get(reverse(url_name))
    assert "sort=currency" not in response.text  # the page shows the currency with the amount, as before
    assert "currency" not in [column.name for column in response.context["table"].columns]  # visible ones


def test_breach_export_leaves_missing_figures_empty(client, viewer, world):
    BreachFactory(
        kind="missing_report",
        sla=world["breach"].sla,
        contract=world["contract"],
        actual=None,
        period_start=datetime.date(2026, 2, 1),
        period_end=datetime.date(2026, 2, 28),
    )
    client.force_login(viewer)
    rows = csv_rows(client.get(reverse("kpis:breach_list"), {"kind": "missing_report", "_export": "csv"}))
    assert rows[1][rows[0].index("Actual")] == ""
    response = client.get(reverse("kpis:breach_list"), {"kind": "missing_report", "_export": "xlsx"})
    header, cells = _xlsx(response)
    assert cells[0][header.index("Actual")].value is None


@pytest.mark.parametrize("url_name", ["contracts:contract_list", "kpis:breach_list", "staff:staff_list"])
def test_xlsx_exports_run_a_constant_number_of_queries(client, viewer, owner, django_assert_max_num_queries, url_name):
    bulk_world(3, owner, prefix="S")
    client.force_login(viewer)
    client.get(reverse(url_name))
    with django_assert_max_num_queries(11):
        small = _list_export(client, url_name, "xlsx")
    bulk_world(300, owner, prefix="L")
    with django_assert_max_num_queries(11):
        large = _list_export(client, url_name, "xlsx")
    assert len(_xlsx(large)[1]) == 101 * len(_xlsx(small)[1])


# --- an admin report -------------------------------------------------------------------------------------
def test_report_exports_neutralise_formulas_and_type_cells(client, admin_user, world):
    client.force_login(admin_user)
    url = reverse("reports:renewals")
    response = client.get(url, {"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    (row,) = rows
    assert row["Vendor"] == ESCAPED and row["Title"] == "'+Support"
    assert row["Monthly fee"] == "1234.50" and row["Currency"] == "EUR" and row["Owner"] == "Maria Santos"
    assert row["Ends"] == world["contract"].end_date.isoformat()

    response = client.get(url, {"format": "xlsx"})
    assert response["Content-Disposition"].endswith('.xlsx"')
    header, cells = _xlsx(response)
    cell = dict(zip(header, cells[0], strict=True))
    _assert_safe_text(cell["Vendor"])
    assert cell["Monthly fee"].value == Decimal("1234.50") and cell["Monthly fee"].data_type == "n"
    assert cell["Ends"].is_date and cell["Notice deadline"].is_date
    assert isinstance(cell["Days left"].value, int)
    assert "_export=xlsx" in client.get(url).content.decode()  # offered on the page (as the lists: ?_export=)


# --- the admin export actions ----------------------------------------------------------------------------
def _action(client, url_name, action, pks):
    return client.post(
        reverse(url_name), {"action": action, helpers.ACTION_CHECKBOX_NAME: [str(pk) for pk in pks], "index": 0}
    )


@pytest.mark.parametrize(
    "url_name,key,column",
    [
        ("admin:vendors_vendor_changelist", "vendor", "Name"),
        ("admin:contracts_contract_changelist", "contract", "Vendor"),
        ("admin:contracts_staffmember_changelist", "staff", "Vendor"),
        ("admin:kpis_breach_changelist", "breach", "Vendor"),
    ],
)
def test_admin_export_actions_neutralise_formulas(client, admin_user, world, url_name, key, column):
    client.force_login(admin_user)
    response = _action(client, url_name, "export_csv", [world[key].pk])
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1][rows[0].index(column)] == ESCAPED
    header, cells = _xlsx(_action(client, url_name, "export_xlsx", [world[key].pk]))
    _assert_safe_text(cells[0][header.index(column)])
    assert header == rows[0]


def test_admin_breach_export_is_typed(client, admin_user, world):
    client.force_login(admin_user)
    pks = [world["breach"].pk]
    rows = list(csv.DictReader(io.StringIO(_action(client, "admin:kpis_breach_changelist", "export_csv", pks).text)))
    assert rows[0]["Detected at"] == "2026-11-30T15:00:00+08:00"
    assert rows[0]["Service credit"] == "1234.50" and rows[0]["Currency"] == "EUR"
    assert rows[0]["Actual"] == "-5.00"
    assert rows[0]["Notes"] == "'-2+3+cmd|' /C calc'!A0"

    header, cells = _xlsx(_action(client, "admin:kpis_breach_changelist", "export_xlsx", pks))
    cell = dict(zip(header, cells[0], strict=True))
    assert cell["Detected at"].is_date and cell["Detected at"].value == datetime.datetime(2026, 11, 30, 15, 0)
    assert cell["Period start"].is_date
    assert cell["Service credit"].value == Decimal("1234.50") and cell["Actual"].value == -5
    _assert_safe_text(cell["Notes"], "'-2+3+cmd|' /C calc'!A0")


def test_admin_exports_name_people(client, admin_user, world):
    client.force_login(admin_user)
    response = _action(client, "admin:contracts_contract_changelist", "export_csv", [world["contract"].pk])
    (row,) = csv.DictReader(io.StringIO(response.text))
    assert row["Owner"] == "Maria Santos"
    measurement = world["breach"].measurement
    header, cells = _xlsx(_action(client, "admin:kpis_measurement_changelist", "export_xlsx", [measurement.pk]))
    cell = dict(zip(header, cells[0], strict=True))
    assert cell["Recorded by"].value == "Maria Santos"
    assert cell["Value"].value == 70 and cell["Value"].data_type == "n"
    assert cell["Recorded at"].is_date
