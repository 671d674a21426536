import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from kpis import periods
from kpis.models import KPI, Measurement, PendingCheck
from tests.factories import ContractFactory, MeasurementFactory, SLAFactory

pytestmark = pytest.mark.django_db

URL = "/contracts/import/"
TODAY = datetime.datetime(2026, 11, 30, 12, 0, tzinfo=datetime.UTC)  # November 2026 has not ended


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def setup(contract, teammate):
    contract.reference = "CX-1"
    contract.save()
    service_level = SLAFactory(contract=contract)
    handle_time = SLAFactory(
        contract=contract, kpi=KPI.objects.get(code="average_handle_time"), expected=300, minimum=360
    )
    weekly = SLAFactory(
        contract=contract, kpi=KPI.objects.get(code="csat"), frequency="weekly", expected=85, minimum=80
    )
    foreign = ContractFactory(reference="OTHER-1", owner=teammate)
    SLAFactory(contract=foreign)
    return service_level, handle_time, weekly


def upload(client, text, name="figures.csv"):
    return client.post(URL, {"file": SimpleUploadedFile(name, text.encode(), content_type="text/csv")})


def test_url_name():
    assert reverse("contracts:measurement_import") == URL


def test_valid_csv_is_imported_and_breach_check_queued(client, owner, setup):
    service_level, handle_time, weekly = setup
    MeasurementFactory(sla=handle_time, period_start=datetime.date(2026, 9, 1), value=Decimal("500"))
    started = timezone.now()
    client.force_login(owner)
    text = (
        "contract_reference,kpi_code,period_start,value\n"
        "CX-1,service_level,2026-10-01,70\n"
        "CX-1,average_handle_time,2026-09-01,290.5\n"
        "CX-1,csat,2026-10-05,88\n"
    )
    response = upload(client, text)
    assert response.status_code == 302
    assert Measurement.objects.count() == 3
    corrected = Measurement.objects.get(sla=handle_time)
    assert corrected.value == Decimal("290.50") and corrected.source == "import"
    new = Measurement.objects.get(sla=service_level)
    assert (new.period_end, new.recorded_by, new.source) == (datetime.date(2026, 10, 31), owner, "import")
    assert Measurement.objects.get(sla=weekly).period_end == datetime.date(2026, 10, 11)
    PendingCheck.objects.filter(created_at__lt=started).delete()
    assert sorted(set(PendingCheck.objects.filter(kind="figure").values_list("sla_id", "period_start"))) == sorted(
        [
            (service_level.pk, datetime.date(2026, 10, 1)),
            (handle_time.pk, datetime.date(2026, 9, 1)),
            (weekly.pk, datetime.date(2026, 10, 5)),
        ]
    )
    follow = client.get(URL)
    assert "Imported: 2 new, 1 corrected, 0 unchanged." in follow.text


def test_any_bad_row_means_nothing_is_written_and_each_error_has_its_line(client, owner, setup):
    client.force_login(owner)
    text = (
        "contract_reference,kpi_code,period_start,value\n"
        "CX-1,service_level,2026-10-01,70\n"  # line 2: fine
        "NOPE,service_level,2026-10-01,70\n"  # 3: unknown contract
        "CX-1,backlog,2026-10-01,5\n"  # 4: no SLA for that KPI
        "CX-1,service_level,2026-10-15,70\n"  # 5: not a period start
        "CX-1,service_level,01/10/2026,70\n"  # 6: not a date
        "CX-1,average_handle_time,2026-10-01,abc\n"  # 7: not a number
        "CX-1,service_level,2026-11-01,101\n"  # 8: percentage above 100
        "OTHER-1,service_level,2026-10-01,70\n"  # 9: not the manager's contract
        "CX-1,service_level,2026-10-01,71\n"  # 10: duplicate of line 2
        "CX-1,csat,2026-10-01,88\n"  # 11: weekly SLA, 1 Oct 2026 is a Thursday
    )
    response = upload(client, text)
    assert response.status_code == 400
    assert not Measurement.objects.exists()
    assert not PendingCheck.objects.filter(kind="figure").exists()
    errors = {e.line: e.message for e in response.context["result"].errors}
    assert sorted(errors) == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert "no contract with reference “NOPE”" in errors[3]
    assert "has no active SLA for KPI “backlog”" in errors[4]
    assert "the period starts on 2026-10-01, not 2026-10-15" in errors[5]
    assert "is not a date" in errors[6]
    assert "“abc” is not a number" in errors[7]
    assert "give a value between 0 and 100" in errors[8]
    assert "not yours" in errors[9]
    assert "already on line 2" in errors[10]
    assert "starts on 2026-09-28" in errors[11]
    assert "Nothing was imported: 9 rows to fix" in response.text
    assert "<td>11</td>" in response.text


def test_xlsx_upload(client, owner, setup):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Contract", "KPI", "Period start", "Value"])
    sheet.append(["CX-1", "service_level", datetime.date(2026, 10, 1), 81.25])
    sheet.append(["CX-1", "average_handle_time", datetime.datetime(2026, 10, 1), 305])
    buffer = io.BytesIO()
    workbook.save(buffer)
    client.force_login(owner)
    response = client.post(URL, {"file": SimpleUploadedFile("figures.xlsx", buffer.getvalue())})
    assert response.status_code == 302
    assert sorted(Measurement.objects.values_list("value", flat=True)) == [Decimal("81.25"), Decimal("305.00")]


def test_damaged_xlsx_and_wrong_extension_are_reported(client, owner, setup):
    client.force_login(owner)
    response = client.post(URL, {"file": SimpleUploadedFile("figures.xlsx", b"not a zip")})
    assert "not a readable XLSX workbook" in response.text
    response = client.post(URL, {"file": SimpleUploadedFile("figures.pdf", b"%PDF")})
    assert "Upload a .csv or .xlsx file." in response.text
    assert not Measurement.objects.exists()


def test_header_is_optional_and_semicolons_work(client, owner, setup):
    client.force_login(owner)
    response = upload(client, "CX-1;service_level;2026-10-01;70\n")
    assert response.status_code == 302
    assert Measurement.objects.get().value == Decimal("70")


def test_viewer_gets_403(client, viewer, setup):
    client.force_login(viewer)
    assert client.get(URL).status_code == 403
    assert upload(client, "CX-1,service_level,2026-10-01,70\n").status_code == 403
    assert not Measurement.objects.exists()


@pytest.mark.parametrize("rows", [3, 60])
def test_import_writes_in_a_constant_number_of_queries(client, owner, setup, rows, django_assert_max_num_queries):
    """New and corrected figures are written in batches, each with its history rows (not a save per row)."""
    service_level = setup[0]
    first = datetime.date(2020, 1, 1)
    months = [periods.month_start(first, i) for i in range(rows)]
    for month in months[: rows // 2]:  # half of them already recorded: corrected by the import
        MeasurementFactory(sla=service_level, period_start=month, value=Decimal("50"))
    service_level.effective_from = first
    service_level.save()
    service_level.contract.start_date = first  # every month imported lies within the contract
    service_level.contract.save()
    client.force_login(owner)
    text = "".join(f"CX-1,service_level,{month:%Y-%m-%d},91\n" for month in months)
    with django_assert_max_num_queries(30):
        response = upload(client, text)
    assert response.status_code == 302
    assert Measurement.objects.filter(sla=service_level, value=Decimal("91")).count() == rows
    corrected = Measurement.objects.get(sla=service_level, period_start=first)
    assert corrected.history.count() == 2  # recorded, then corrected by the import
    assert corrected.history.first().history_user == owner
