"""The summary tables: every report reads the same figures from them as from the live tables; refreshes
(whole, per contract, after a breach check) keep them right; pages say as of when."""

import csv
import datetime
import io
from decimal import Decimal as D

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contracts.models import StaffMember
from kpis.models import Breach, Measurement
from kpis.periods import month_end
from reports import queries
from reports.models import ContractMonth, SLASummary, SummaryState, VendorMonth
from reports.queries import ReportFilters
from reports.summaries import refresh_after_breach_check, refresh_summaries
from tests.factories import ContractFactory, MeasurementFactory, SLAFactory, VendorFactory, kpi

from .builders import build_world
from .test_reports import FEB, MARCH, TODAY


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(datetime.datetime(2026, 3, 31, 12, tzinfo=datetime.UTC), tick=False):
        yield


REPORTS = ["vendor_scorecard", "compliance_trend", "service_credits", "attrition", "sourcing_mix"]
FILTERS = [
    pytest.param({}, id="defaults"),
    pytest.param({"period": "quarter"}, id="quarter"),
    pytest.param({"group": "contract"}, id="per-contract"),
    pytest.param({"group": "service_type"}, id="per-service-type"),
    pytest.param({"service_type": "front_office"}, id="service-type-filter"),
    pytest.param({"sourcing_model": "nearshore"}, id="sourcing-filter"),
    pytest.param({"vendor": "a"}, id="one-vendor"),
]


def _filters(fixture, start, end, use_summary=True, **kwargs):
    if kwargs.get("vendor"):
        kwargs["vendor_id"] = fixture[kwargs.pop("vendor")].pk
    return ReportFilters(start=start, end=month_end(end), today=TODAY, use_summary=use_summary, **kwargs)


def _both(fixture, name, start, end, **kwargs):
    function = getattr(queries, name)
    summarised = _filters(fixture, start, end, **kwargs)
    result = function(summarised)
    assert summarised.from_summary, "the report should have read the summaries"
    return result, function(_filters(fixture, start, end, use_summary=False, **kwargs))


@pytest.mark.parametrize("kwargs", FILTERS)
@pytest.mark.parametrize("name", REPORTS)
def test_every_report_reads_the_same_figures_from_the_summaries(fixture, name, kwargs):
    refresh_summaries(today=TODAY)
    summarised, live = _both(fixture, name, datetime.date(2025, 10, 1), MARCH, **kwargs)
    assert summarised == live
    assert summarised  # not two empty results


@pytest.mark.parametrize("name", REPORTS)
def test_reports_agree_on_a_bigger_world(db, name):
    build_world(40)
    refresh_summaries(today=TODAY)
    for start, end in ((datetime.date(2024, 1, 1), datetime.date(2026, 3, 1)), (FEB, MARCH)):
        summarised, live = _both({}, name, start, end)
        assert summarised == live


def test_figures_are_those_of_the_hand_computed_fixture(fixture):
    """The summary path against the numbers test_reports checks by hand (not only against the live path)."""
    refresh_summaries(today=TODAY)
    rows = {r["name"]: r for r in queries.vendor_scorecard(_filters(fixture, MARCH, MARCH))}
    a = rows["Alpha BPO"]
    assert (a["measured"], a["met"], a["minor"], a["major"], a["missing_reports"]) == (3, 1, 1, 1, 1)
    assert (a["credits"], a["attrition"], a["score"]) == ({"USD": D("10000.00")}, D("10.53"), D("42.3"))
    credits = queries.service_credits(_filters(fixture, FEB, MARCH), limit=1)
    assert [(r["contract"], r["earned"], r["capped"]) for r in credits["rows"]] == [("CA", D("10000.00"), True)]
    assert credits["row_count"] == 2  # one row shown, two in the table
    assert [(t["currency"], t["earned"], t["cap"]) for t in credits["totals"]] == [
        ("EUR", D("1000.00"), D("10000.00")),
        ("USD", D("10000.00"), D("10000.00")),
    ]
    assert credits["by_month"] == {(FEB, "EUR"): D("1000.00"), (MARCH, "USD"): D("10000.00")}


def test_staff_figures_outside_the_window_come_from_the_live_tables(fixture):
    refresh_summaries(today=TODAY)
    old = _filters(fixture, datetime.date(2020, 1, 1), datetime.date(2020, 6, 1))
    queries.attrition(old)
    assert not old.from_summary
    trend = _filters(fixture, datetime.date(2020, 1, 1), datetime.date(2020, 6, 1))
    queries.compliance_trend(trend)  # no staff figures: any month is in the summary
    assert trend.from_summary


def _sourcing_headcounts(fixture, today=TODAY):
    filters = ReportFilters(start=MARCH, end=month_end(MARCH), today=today)
    rows = queries.sourcing_mix(filters)["sourcing_model"]["rows"]
    return {r["key"]: r["headcount"] for r in rows}, filters.from_summary


def test_sourcing_mix_roster_follows_the_refresh_of_a_staff_change(fixture):
    refresh_summaries(today=TODAY)
    assert _sourcing_headcounts(fixture) == ({"offshore": 9, "nearshore": 0}, True)
    ca, cb = fixture["ca"], fixture["cb"]
    leavers = StaffMember.objects.filter(contract=ca, left_on__isnull=True).order_by("pk")[:2]
    StaffMember.objects.filter(pk__in=[s.pk for s in leavers]).update(left_on=FEB)
    StaffMember.objects.create(contract=cb, employee_ref="N1", full_name="New Hire", joined_on=FEB)
    assert _sourcing_headcounts(fixture)[0] == {"offshore": 9, "nearshore": 0}  # as of the refresh
    refresh_summaries([ca.pk, cb.pk], today=TODAY)  # what the staffing check does after the change
    assert _sourcing_headcounts(fixture) == ({"offshore": 7, "nearshore": 1}, True)


def test_sourcing_mix_counts_the_roster_live_on_another_day_than_the_refresh(fixture):
    refresh_summaries(today=datetime.date(2026, 3, 30))
    StaffMember.objects.create(contract=fixture["cb"], employee_ref="N1", full_name="New Hire", joined_on=MARCH)
    assert _sourcing_headcounts(fixture) == ({"offshore": 9, "nearshore": 1}, False)


def _snapshot():
    columns = [f.attname for f in ContractMonth._meta.concrete_fields]
    return (
        sorted(ContractMonth.objects.values_list(*columns)),
        sorted(VendorMonth.objects.values_list(*[f.attname for f in VendorMonth._meta.concrete_fields])),
        sorted(SLASummary.objects.values_list(*[f.attname for f in SLASummary._meta.concrete_fields])),
    )


def test_a_contract_refresh_matches_a_full_refresh(fixture):
    refresh_summaries(today=TODAY)
    ca = fixture["ca"]
    Breach.objects.filter(contract=ca, severity="minor").update(status="waived")
    Measurement.objects.filter(sla__contract=ca, value=D("70")).update(value=D("95"))
    leaver = StaffMember.objects.filter(contract=ca, left_on__isnull=True).first()
    StaffMember.objects.filter(pk=leaver.pk).update(left_on=datetime.date(2026, 2, 14), leave_reason="voluntary")
    stale = _snapshot()
    result = refresh_summaries([ca.pk], today=TODAY)
    assert result["contracts"] == 1
    partial = _snapshot()
    assert partial != stale
    refresh_summaries(today=TODAY)
    assert _snapshot() == partial


def test_refresh_after_a_breach_check_covers_the_checked_contracts_only(fixture):
    refresh_summaries(today=TODAY)
    ca, cb = fixture["ca"], fixture["cb"]
    Breach.objects.filter(contract__in=[ca, cb]).update(status="withdrawn")
    a1 = ca.slas.first()
    refresh_after_breach_check(contract_ids=[a1.contract_id], today=TODAY)
    months = {(row.contract_id, row.month): row.breaches for row in ContractMonth.objects.all()}
    assert months[(ca.pk, MARCH)] == 0  # refreshed
    assert months[(cb.pk, FEB)] == 1  # not checked: as it was
    refresh_after_breach_check(today=TODAY)  # a full run refreshes everything
    assert ContractMonth.objects.get(contract=cb, month=FEB).breaches == 0


def test_first_refresh_is_whole_even_when_asked_for_one_contract(fixture):
    assert SummaryState.objects.count() == 0
    result = refresh_summaries([fixture["ca"].pk], today=TODAY)
    assert result["contracts"] == "all"
    assert ContractMonth.objects.filter(contract=fixture["cb"]).exists()
    assert SummaryState.objects.get().today == TODAY


def test_a_contract_refresh_keeps_the_day_of_the_whole_refresh(fixture):
    ca = fixture["ca"]
    refresh_summaries(today=datetime.date(2026, 2, 15))  # the clock says 31 March
    refresh_summaries([ca.pk])
    availability = SLASummary.objects.get(sla__contract=ca, sla__kpi__code="availability")
    assert availability.missing_period_start == datetime.date(2026, 1, 1)  # January: last period before 15 Feb
    assert SummaryState.objects.get().today == datetime.date(2026, 2, 15)


def test_detect_breaches_task_refreshes_the_summaries(fixture):
    from kpis.tasks import detect_breaches

    refresh_summaries(today=TODAY)
    cb = fixture["cb"]
    b2 = cb.slas.get(kpi__code="accuracy")
    MeasurementFactory(sla=b2, period_start=FEB, value=D("10"))  # a major miss, not yet checked
    detect_breaches.apply(kwargs={"sla_ids": [b2.pk], "today": TODAY.isoformat()}).get()
    row = ContractMonth.objects.get(contract=cb, month=FEB)
    assert (row.measured, row.major) == (2, 2)  # the new figure and the breach the check found


def test_refresh_task_and_command(fixture):
    from django.core.management import call_command

    from reports.tasks import refresh_summaries as task

    assert task.apply().get()["contracts"] == "all"
    out = io.StringIO()
    call_command("refresh_summaries", "--contract", str(fixture["ca"].pk), stdout=out)
    assert "Summaries of 1 contract(s)" in out.getvalue()


def test_sla_summary_latest_figure_and_missing_report(db):
    vendor = VendorFactory(name="Gamma")
    contract = ContractFactory(vendor=vendor, start_date=datetime.date(2025, 1, 1))
    reported = SLAFactory(contract=contract)
    silent = SLAFactory(contract=contract, kpi=kpi("accuracy"), effective_from=datetime.date(2025, 2, 1))
    MeasurementFactory(sla=reported, period_start=FEB, value=D("70"))
    MeasurementFactory(sla=reported, period_start=datetime.date(2026, 1, 1), value=D("99"))
    refresh_summaries(today=datetime.date(2026, 3, 10))
    latest = SLASummary.objects.get(sla=reported)
    assert (latest.latest_period_start, latest.latest_value, latest.latest_outcome) == (FEB, D("70.00"), "major")
    assert latest.missing_due_on is None
    missing = SLASummary.objects.get(sla=silent)
    assert missing.latest_outcome is None
    assert (missing.missing_period_start, missing.missing_period_end) == (FEB, datetime.date(2026, 2, 28))
    assert missing.missing_due_on == datetime.date(2026, 2, 28) + datetime.timedelta(days=contract.reporting_grace_days)


# --- pages ---------------------------------------------------------------------------------------
def test_report_page_says_as_of_when(client, admin_user, fixture):
    client.force_login(admin_user)
    url = reverse("reports:compliance_trend")
    assert "figures as of" not in client.get(url).content.decode()
    refresh_summaries(today=TODAY)
    assert "figures as of" in client.get(url).content.decode()
    assert "figures as of" not in client.get(reverse("reports:renewals")).content.decode()  # live report


def test_service_credits_page_shows_the_first_rows_and_the_csv_all(client, admin_user, fixture, monkeypatch):
    from reports import views

    refresh_summaries(today=TODAY)
    monkeypatch.setattr(views, "MAX_ROWS_ON_PAGE", 1)
    client.force_login(admin_user)
    url = reverse("reports:service_credits")
    html = client.get(url, {"start": "2026-02", "end": "2026-03"}).content.decode()
    assert "(2 rows)" in html
    response = client.get(url, {"start": "2026-02", "end": "2026-03", "format": "csv", "table": "by_contract"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["Contract"] for r in rows] == ["CA", "CB"]


@pytest.mark.parametrize("name", ["scorecard", "compliance_trend", "service_credits", "attrition"])
def test_report_query_count_on_summaries_does_not_grow_with_rows(client, admin_user, db, name):
    client.force_login(admin_user)
    url = reverse(f"reports:{name}")
    params = {"start": "2024-01", "end": "2026-03"}
    counts = []
    for rows in (5, 300):
        build_world(rows)
        refresh_summaries(today=TODAY)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url, params).status_code == 200
        counts.append(len(ctx))
    assert counts[0] == counts[1] <= 12
