import datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contracts.models import Contract, ReplacementObligation
from kpis.models import KPI, SLA
from reports.summaries import refresh_summaries
from tests.builders import bulk_world
from tests.factories import (
    BreachFactory,
    ContractFactory,
    ExchangeRateFactory,
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
    assert ctx["credits"].by_currency == (("USD", Decimal("2000.00")),)
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
    assert response.context["credits"].by_currency == (("USD", Decimal("2500.00")),)


@pytest.mark.parametrize("who", ["viewer", "admin_user"])
def test_viewer_and_admin_see_everything_by_default(client, request, world, who):
    client.force_login(request.getfixturevalue(who))
    response = client.get(reverse("dashboard:home"))
    assert response.context["scope"] == "all"
    assert response.context["open_breach_count"] == 3


def test_anonymous_goes_to_login(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def _query_count(client, url):
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("summarised", [False, True], ids=["live", "summaries"])
@pytest.mark.parametrize("scope", ["mine", "all"])
def test_dashboard_runs_a_constant_number_of_queries(client, owner, teammate, scope, summarised):
    client.force_login(owner)
    counts = []
    for rows, prefix in ((5, "S"), (500, "L")):
        bulk_world(rows, owner if prefix == "S" else teammate, prefix=prefix)  # "mine" grows only with "S"
        bulk_world(rows, owner, prefix=prefix + "M")
        if summarised:
            refresh_summaries()
        counts.append(_query_count(client, f"/?scope={scope}"))
    assert counts[0] == counts[1]
    assert counts[1] <= 19  # with the data version the page cache reads (this transaction wrote: no cache)


# --- the summary tables ---------------------------------------------------------------------------
FIGURES = (
    "open_breach_count",
    "missing_report_breach_count",
    "at_risk_count",
    "missing_count",
    "credits",
    "compliance_percent",
    "compliance_chart",
    "renewal_count",
    "vendor_count",
)


def _figures(response):
    ctx = response.context
    figures = {name: ctx[name] for name in FIGURES}
    figures["at_risk"] = [(s.pk, s.latest_outcome, s.latest_value, s.latest_period_start) for s in ctx["at_risk"]]
    figures["missing"] = [
        (m["sla"].pk, m["period_start"], m["period_end"], m["due_on"], m["late"]) for m in ctx["missing"]
    ]
    figures["open_breaches"] = [b.pk for b in ctx["open_breaches"]]
    figures["vendors"] = [(v.pk, v.headcount, v.contracted_headcount, v.departures) for v in ctx["vendors"]]
    return figures


@pytest.mark.parametrize("scope", ["mine", "all"])
def test_summaries_show_the_same_figures_as_the_live_tables(client, owner, world, scope):
    mine, theirs, sla, handle = world
    # a figure reported early (its period has not ended): left out of the compliance on both paths
    MeasurementFactory(sla=handle, period_start=datetime.date(2026, 11, 1), value=Decimal("250"))
    bulk_world(30, owner)
    client.force_login(owner)
    live = client.get(reverse("dashboard:home"), {"scope": scope})
    assert live.context["summary_state"] is None
    assert "figures as of" not in live.text
    refresh_summaries()
    summarised = client.get(reverse("dashboard:home"), {"scope": scope})
    assert summarised.context["summary_state"] is not None
    assert _figures(summarised) == _figures(live)
    assert _figures(live)["at_risk"]  # the comparison covers rows, not just empty lists
    assert 'data-testid="summary-as-of"' in summarised.text


@pytest.mark.parametrize("summarised", [False, True], ids=["live", "summaries"])
def test_quarter_credits_per_currency_and_in_the_reporting_currency(client, owner, world, summarised):
    """USD 2 500 (world, October) and EUR 1 000 in October and in November: EUR never added to USD as it is;
    the reporting total converts each month at its own rate and says which month has none."""
    euro = SLAFactory(contract=ContractFactory(owner=owner, currency="EUR", reference="EUR-1"))
    for month_end in (datetime.date(2026, 10, 31), datetime.date(2026, 11, 15)):
        BreachFactory(
            sla=euro,
            period_start=month_end.replace(day=1),
            period_end=month_end,
            service_credit=Decimal("1000"),
        )
    ExchangeRateFactory(currency="EUR", month=datetime.date(2026, 10, 1), rate=Decimal("1.10"))
    if summarised:
        refresh_summaries()
    client.force_login(owner)
    response = client.get(reverse("dashboard:home"), {"scope": "all"})
    credits = response.context["credits"]
    assert credits.by_currency == (("EUR", Decimal("2000.00")), ("USD", Decimal("2500.00")))
    text = response.text.replace("\u00a0", " ")
    assert "EUR 2,000.00" in text and "USD 2,500.00" in text
    assert "USD 3,600.00 in total, <strong>incomplete</strong>: no rate for EUR 2026-11" in text

    ExchangeRateFactory(currency="EUR", month=datetime.date(2026, 11, 1), rate=Decimal("1.20"))
    text = client.get(reverse("dashboard:home"), {"scope": "all"}).text.replace("\u00a0", " ")
    assert "= USD 4,800.00 in total" in text and "no rate" not in text


def test_summary_figures_follow_a_refresh_of_one_contract(client, owner, world):
    mine, theirs, sla, handle = world
    refresh_summaries()
    client.force_login(owner)
    before = client.get(reverse("dashboard:home")).context
    assert before["missing_count"] == 1
    MeasurementFactory(sla=handle, period_start=datetime.date(2026, 10, 1), value=Decimal("290"))
    assert client.get(reverse("dashboard:home")).context["missing_count"] == 1  # not refreshed yet
    with time_machine.travel(datetime.datetime(2026, 11, 30, 16, 45, tzinfo=datetime.UTC), tick=False):
        refresh_summaries([mine.pk])
    response = client.get(reverse("dashboard:home"))
    after = response.context
    assert after["missing_count"] == 0
    # "figures as of" moves with the contract's rebuild: it is when the figures were last brought up to date
    assert after["summary_state"].as_of == datetime.datetime(2026, 11, 30, 16, 45, tzinfo=datetime.UTC)
    assert "figures as of 30 Nov 16:45" in response.text
    assert after["compliance_percent"] == pytest.approx(200 / 3)  # 2 of 3 figures met


def test_portfolio_figures_follow_a_refresh_of_one_contract(client, owner, world):
    """The "all contracts" month figures (``PortfolioMonth``) take a contract's rebuilt rows out and in: the
    same figures as a whole refresh, and as the live tables."""
    mine, theirs, sla, handle = world
    bulk_world(10, owner)
    refresh_summaries()
    client.force_login(owner)
    before = client.get(reverse("dashboard:home"), {"scope": "all"}).context
    BreachFactory(
        sla=handle,
        contract=mine,
        severity="major",
        period_start=datetime.date(2026, 10, 1),
        period_end=datetime.date(2026, 10, 31),
        service_credit=Decimal("700"),
    )
    MeasurementFactory(sla=handle, period_start=datetime.date(2026, 10, 1), value=Decimal("400"))
    refresh_summaries([mine.pk], today=TODAY)
    partial = client.get(reverse("dashboard:home"), {"scope": "all"})
    assert partial.context["open_breach_count"] == before["open_breach_count"] + 1
    assert partial.context["compliance_percent"] != before["compliance_percent"]
    assert partial.context["credits"] != before["credits"]
    refresh_summaries()
    whole = client.get(reverse("dashboard:home"), {"scope": "all"})
    assert _figures(partial) == _figures(whole)


def test_vendor_table_shows_the_first_vendors_and_says_how_many(client, owner):
    bulk_world(25, owner)
    client.force_login(owner)
    response = client.get(reverse("dashboard:home"))
    assert len(response.context["vendors"]) == 20
    assert response.context["vendor_count"] == 25
    assert "first 20 of 25" in response.text


@pytest.mark.parametrize("scope", ["mine", "all"])
def test_sla_counts_drop_what_is_switched_off_after_the_refresh(client, owner, world, scope):
    """The counts come from the summary rows, but an SLA switched off, a contract terminated or one that has
    ended since the refresh is out of them at once, as it is out of the lists."""
    bulk_world(30, owner)
    refresh_summaries()
    client.force_login(owner)
    before = client.get(reverse("dashboard:home"), {"scope": scope}).context
    first, second, third = before["at_risk"][0], before["at_risk"][1], before["at_risk"][-1]
    assert len({first.contract_id, second.contract_id, third.contract_id}) == 3
    SLA.objects.filter(pk=first.pk).update(active=False)
    Contract.objects.filter(pk=second.contract_id).update(status="terminated")
    Contract.objects.filter(pk=third.contract_id).update(end_date=TODAY - datetime.timedelta(days=1))
    gone = SLA.objects.filter(pk=first.pk) | SLA.objects.filter(contract__in=[second.contract_id, third.contract_id])
    at_risk_gone = gone.filter(summary__latest_outcome__in=["minor", "major"]).count()
    missing_gone = gone.filter(summary__missing_due_on__isnull=False).count()
    assert at_risk_gone >= 3 and missing_gone >= 1
    after = client.get(reverse("dashboard:home"), {"scope": scope}).context
    assert after["at_risk_count"] == before["at_risk_count"] - at_risk_gone
    assert after["missing_count"] == before["missing_count"] - missing_gone
