"""Admin actions on breaches, measurements and SLAs change exactly the selected rows."""

import csv
import datetime
import io
import sys
import types
from decimal import Decimal

import openpyxl
import pytest
from django.contrib.admin import helpers
from django.urls import reverse

from kpis.models import Breach
from tests.factories import BreachFactory, ContractFactory, SLAFactory


@pytest.fixture
def breaches(db):
    contract = ContractFactory()
    return [
        BreachFactory(
            sla=SLAFactory(contract=contract, effective_from=f"2025-01-0{i + 1}"), contract=contract, notes="first note"
        )
        for i in range(3)
    ]


def _post_action(client, url_name, action, pks, **extra):
    data = {"action": action, helpers.ACTION_CHECKBOX_NAME: [str(pk) for pk in pks], "index": 0, **extra}
    return client.post(reverse(url_name), data)


def test_acknowledge_changes_only_selected_open_breaches(client, admin_user, breaches):
    client.force_login(admin_user)
    first, second, third = breaches
    Breach.objects.filter(pk=second.pk).update(status="resolved")
    response = _post_action(client, "admin:kpis_breach_changelist", "acknowledge", [first.pk, second.pk])
    assert response.status_code == 302
    statuses = dict(Breach.objects.values_list("pk", "status"))
    assert statuses == {first.pk: "acknowledged", second.pk: "resolved", third.pk: "open"}
    first.refresh_from_db()
    assert "Acknowledged" in first.notes and first.notes.startswith("first note")
    record = first.history.first()
    assert record.history_user == admin_user and record.status == "acknowledged"


def test_waive_asks_for_a_reason_first(client, admin_user, breaches):
    client.force_login(admin_user)
    response = _post_action(client, "admin:kpis_breach_changelist", "waive", [breaches[0].pk])
    assert response.status_code == 200
    assert b"Reason" in response.content
    assert set(Breach.objects.values_list("status", flat=True)) == {"open"}


def test_waive_without_reason_changes_nothing(client, admin_user, breaches):
    client.force_login(admin_user)
    response = _post_action(client, "admin:kpis_breach_changelist", "waive", [breaches[0].pk], apply="1", reason="")
    assert response.status_code == 200
    assert b"This field is required" in response.content
    assert set(Breach.objects.values_list("status", flat=True)) == {"open"}


def test_waive_with_reason_changes_exactly_the_selected_breaches(client, admin_user, breaches):
    client.force_login(admin_user)
    first, second, third = breaches
    response = _post_action(
        client,
        "admin:kpis_breach_changelist",
        "waive",
        [first.pk, third.pk],
        apply="1",
        reason="Outage caused by our own network",
    )
    assert response.status_code == 302
    statuses = dict(Breach.objects.values_list("pk", "status"))
    assert statuses == {first.pk: "waived", second.pk: "open", third.pk: "waived"}
    first.refresh_from_db()
    assert "Waived: Outage caused by our own network" in first.notes
    assert first.service_credit == breaches[0].service_credit  # credit kept on record
    assert first.history.first().history_user == admin_user


def test_rerun_breach_checks_queues_the_selected_contracts_slas(client, admin_user, monkeypatch, db):
    calls = []
    fake = types.ModuleType("kpis.tasks")
    fake.detect_breaches = types.SimpleNamespace(delay=lambda **kwargs: calls.append(kwargs))
    monkeypatch.setitem(sys.modules, "kpis.tasks", fake)
    chosen, other = ContractFactory(), ContractFactory()
    slas = [SLAFactory(contract=chosen), SLAFactory(contract=chosen, effective_from="2025-02-01")]
    SLAFactory(contract=other)
    client.force_login(admin_user)
    response = _post_action(client, "admin:contracts_contract_changelist", "rerun_breach_checks", [chosen.pk])
    assert response.status_code == 302
    assert calls == [{"sla_ids": sorted(s.pk for s in slas)}]


def test_export_csv_has_only_selected_rows(client, admin_user, breaches):
    client.force_login(admin_user)
    Breach.objects.filter(pk=breaches[0].pk).update(service_credit=Decimal("1234.50"))
    response = _post_action(client, "admin:kpis_breach_changelist", "export_csv", [breaches[0].pk, breaches[1].pk])
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:5] == ["Contract", "Vendor", "KPI", "Kind", "Severity"]
    assert len(rows) == 3
    credits = {row[rows[0].index("Service credit")] for row in rows[1:]}
    assert credits == {"1234.50", "0.00"}


def test_export_xlsx_is_a_workbook(client, admin_user, breaches):
    client.force_login(admin_user)
    response = _post_action(client, "admin:kpis_breach_changelist", "export_xlsx", [b.pk for b in breaches])
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet.max_row == 4
    assert sheet.cell(1, 1).value == "Contract"


def test_waive_message_counts_from_a_filtered_changelist(client, admin_user, breaches):
    client.force_login(admin_user)
    url = reverse("admin:kpis_breach_changelist") + "?open=yes"
    response = client.post(
        url,
        {
            "action": "waive",
            helpers.ACTION_CHECKBOX_NAME: [breaches[0].pk],
            "index": 0,
            "apply": "1",
            "reason": "Agreed at the quarterly review",
        },
        follow=True,
    )
    messages = [str(m) for m in response.context["messages"]]
    assert messages == ["Waived 1 breach(es)."]


def test_measurement_outcome_filter_and_export(client, admin_user, db):
    from kpis.models import Measurement
    from tests.factories import MeasurementFactory

    sla = SLAFactory()
    met = MeasurementFactory(sla=sla, period_start=datetime.date(2026, 1, 1), value=Decimal("85"))
    minor = MeasurementFactory(sla=sla, period_start=datetime.date(2026, 2, 1), value=Decimal("77"))
    major = MeasurementFactory(sla=sla, period_start=datetime.date(2026, 3, 1), value=Decimal("60"))
    client.force_login(admin_user)
    url = reverse("admin:kpis_measurement_changelist")
    for outcome, expected in [("met", [met]), ("minor", [minor]), ("major", [major]), ("breached", [major, minor])]:
        response = client.get(url, {"outcome": outcome})
        assert [m.pk for m in response.context["cl"].result_list] == [m.pk for m in expected], outcome
    response = _post_action(
        client,
        "admin:kpis_measurement_changelist",
        "export_csv",
        list(Measurement.objects.values_list("pk", flat=True)),
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert sorted(r["Outcome"] for r in rows) == ["major", "met", "minor"]
