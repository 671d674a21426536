import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from common.testing import bulk_world
from contracts.models import ReplacementObligation
from kpis.models import KPI
from tests.factories import (
    BreachFactory,
    ContractFactory,
    MeasurementFactory,
    SLAFactory,
    StaffMemberFactory,
    VendorFactory,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 23)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime.datetime(2026, 11, 23, 10, 0), tick=False):
        yield


@pytest.fixture
def world(owner, teammate):
    vendor = VendorFactory(name="Bayani")
    mine = ContractFactory(
        owner=owner, vendor=vendor, reference="MINE-1", end_date=datetime.date(2027, 3, 15), notice_days=100
    )
    theirs = ContractFactory(owner=teammate, reference="THEIRS-1")
    sla = SLAFactory(contract=mine)
    handle = SLAFactory(contract=mine, kpi=KPI.objects.get(code="average_handle_time"), expected=300, minimum=360)
    MeasurementFactory(sla=sla, period_start=datetime.date(2026, 10, 1), value=Decimal("70"))  # major miss
    MeasurementFactory(sla=sla, period_start=datetime.date(2026, 9, 1), value=Decimal("90"))
    BreachFactory(
        sla=sla,
        contract=mine,
        severity="minor",
        period_start=datetime.date(2026, 9, 1),
        period_end=datetime.date(2026, 9, 30),
        service_credit=0,
    )
    BreachFactory(
        sla=sla,
        contract=mine,
        severity="major",
        period_start=datetime.date(2026, 10, 1),
        period_end=datetime.date(2026, 10, 31),
        service_credit=Decimal("2000"),
    )
    BreachFactory(
        sla=SLAFactory(contract=theirs),
        contract=theirs,
        severity="major",
        period_start=datetime.date(2026, 10, 1),
        period_end=datetime.date(2026, 10, 31),
        service_credit=Decimal("500"),
    )
    leaver = StaffMemberFactory(
        contract=mine, full_name="Gone Person", left_on=datetime.date(2026, 9, 1), leave_reason="voluntary"
    )
    StaffMemberFactory(contract=mine, full_name="Still Here")
    ReplacementObligation.objects.create(departed=leaver, due_on=datetime.date(2026, 10, 1))
    return mine, theirs, sla, handle


def test_manager_sees_own_contracts_by_default(client, owner, world):
    mine, theirs, sla, handle = world
    client.force_login(owner)
    response = client.get(reverse("dashboard:home"))
    assert response.status_code == 200
    ctx = response.context
    assert ctx["scope"] == "mine"
    assert [b.severity for b in ctx["open_breaches"]] == ["major", "minor"]  # major first
    assert {b.contract.reference for b in ctx["open_breaches"]} == {"MINE-1"}
    assert [s.pk for s in ctx["at_risk"]] == [sla.pk]
    assert [(m["sla"].pk, m["period_start"]) for m in ctx["missing"]] == [(handle.pk, datetime.date(2026, 10, 1))]
    assert ctx["missing"][0]["late"] is True  # due 5 Nov
    assert [o.departed.full_name for o in ctx["overdue"]] == ["Gone Person"]
    assert [c.reference for c in ctx["renewals"]] == ["MINE-1"]  # notice by 2026-12-05
    assert ctx["credits"] == [
        {"currency": "USD", "service_credit": Decimal("2000.00"), "credit_earned_back": Decimal("0.00"), "breaches": 1}
    ]
    assert ctx["quarter_label"] == "2026 Q4"
    assert ctx["compliance_percent"] == 50.0
    assert ctx["compliance_chart"]["data"]["labels"] == ["Sep 2026", "Oct 2026"]
    (vendor,) = ctx["vendors"]
    assert (vendor.name, vendor.headcount, vendor.contracted_headcount, vendor.departures) == ("Bayani", 1, 50, 1)
    assert "Gone Person" in response.text and "Renewal notice" in response.text


def test_switch_to_all_contracts(client, owner, world):
    client.force_login(owner)
    response = client.get(reverse("dashboard:home"), {"scope": "all"})
    assert {b.contract.reference for b in response.context["open_breaches"]} == {"MINE-1", "THEIRS-1"}
    assert response.context["credits"][0]["service_credit"] == Decimal("2500.00")


@pytest.mark.parametrize("who", ["viewer", "admin_user"])
def test_viewer_and_admin_see_everything_by_default(client, request, world, who):
    client.force_login(request.getfixturevalue(who))
    response = client.get(reverse("dashboard:home"))
    assert response.context["scope"] == "all"
    assert response.context["open_breach_count"] == 3


def test_anonymous_goes_to_login(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("rows", [5, 500])
def test_dashboard_runs_a_constant_number_of_queries(client, owner, django_assert_max_num_queries, rows):
    bulk_world(rows, owner)
    client.force_login(owner)
    client.get("/")
    with django_assert_max_num_queries(16):
        assert client.get("/").status_code == 200
