"""Report figures against hand-computed values on a small fixture; access; CSV; constant query counts."""

import csv
import datetime
import gc
import io
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from reports import queries
from tests.factories import (
    UserFactory,
)

from .builders import TODAY, build_world, report_filters

MARCH, FEB = datetime.date(2026, 3, 1), datetime.date(2026, 2, 1)
REPORT_URLS = ["scorecard", "compliance_trend", "service_credits", "attrition", "sourcing_mix", "renewals"]


@pytest.fixture(autouse=True)
def _frozen(frozen_today):
    """Every test here runs on TODAY."""


def test_scorecard_figures(fixture):
    rows = queries.vendor_scorecard(report_filters(MARCH, MARCH))
    by_name = {r["name"]: r for r in rows}
    a, b = by_name["Alpha BPO"], by_name["Beta Services"]
    assert (a["measured"], a["met"], a["compliance"]) == (3, 1, D("33.3"))
    assert (a["minor"], a["major"], a["missing_reports"]) == (1, 1, 1)  # the withdrawn breach does not count
    assert a["credits"] == {"USD": D("10000.00")}
    assert a["reporting"] == D("75.0")  # 3 received ÷ (3 + 1 missing)
    assert a["attrition"] == D("10.53")  # 1 ÷ ((10 + 9) / 2) × 100
    assert a["replacements_on_time"] is None  # the obligation falls due in April
    # (60 × 33.3 + 15 × 75.0 + 10 × (100 − 5 × 10.53)) ÷ 85 = 42.31…
    assert a["score"] == D("42.3")
    assert (b["compliance"], b["credits"], b["attrition"], b["score"]) == (D("100.0"), {}, None, D("100.0"))
    assert (b["rank"], a["rank"]) == (1, 2)


def test_scorecard_rows_stay_out_of_the_garbage_collectors_lists(fixture):
    """The scorecard builds a row per vendor-period (20,000 at the xl preset); rows holding a container were
    tracked by the garbage collector and made it run two full collections per page view. The credits are
    kept beside the rows, as tuples, and still reach the rows shown."""
    rows, credit_months = queries._vendor_scorecard(report_filters(FEB, MARCH), queries.scoring_policy())
    assert rows and not any(gc.is_tracked(r) for r in rows)
    alpha = next(r for r in rows if r["name"] == "Alpha BPO" and r["period_start"] == MARCH)
    assert credit_months[(alpha["key"], MARCH)] == (("USD", MARCH, D("10000.00")),)
    shown = queries.vendor_scorecard(report_filters(MARCH, MARCH))
    assert next(r for r in shown if r["name"] == "Alpha BPO")["credits"] == {"USD": D("10000.00")}


def test_scorecard_by_quarter_and_drill_down_to_contracts(fixture):
    rows = queries.vendor_scorecard(
        report_filters(FEB, MARCH, period="quarter", group="contract", vendor_id=fixture["b"].pk)
    )
    assert [(r["name"], r["period"], r["measured"], r["met"], r["major"]) for r in rows] == [("CB", "2026 Q1", 3, 2, 1)]
    assert rows[0]["credits"] == {"EUR": D("1000.00")}


def test_compliance_trend(fixture):
    data = queries.compliance_trend(report_filters(FEB, MARCH))
    series = {s["name"]: s for s in data["series"]}
    assert series["Beta Services"]["compliance"] == [D("0.0"), D("100.0")]
    assert series["Beta Services"]["total_compliance"] == D("66.7")
    assert series["Alpha BPO"]["compliance"] == [None, D("33.3")]
    by_type = queries.compliance_trend(report_filters(FEB, MARCH, group="service_type"))
    assert {s["name"]: s["total_compliance"] for s in by_type["series"]} == {
        "Back office": D("66.7"),
        "Front office": D("33.3"),
    }


def test_service_credits_against_cap(fixture):
    data = queries.service_credits(report_filters(FEB, MARCH))
    rows = [
        (r["contract"], r["month"], r["currency"], r["earned"], r["cap"], r["percent_of_cap"], r["capped"])
        for r in data["rows"]
    ]
    assert rows == [
        ("CA", MARCH, "USD", D("10000.00"), D("10000.00"), D("100.0"), True),
        ("CB", FEB, "EUR", D("1000.00"), D("10000.00"), D("10.0"), False),
    ]
    assert [(t["currency"], t["earned"]) for t in data["totals"]] == [("EUR", D("1000.00")), ("USD", D("10000.00"))]
    assert [(o["vendor"], o["currency"], o["owed"]) for o in data["owed_this_quarter"]] == [
        ("Alpha BPO", "USD", D("10000.00")),
        ("Beta Services", "EUR", D("1000.00")),
    ]
    assert data["quarter"] == "2026 Q1"


def test_attrition_and_replacements(fixture):
    data = queries.attrition(report_filters(FEB, MARCH))
    rows = {r["name"]: r for r in data["rows"]}
    a = rows["Alpha BPO"]
    assert (a["contracted"], a["headcount"], a["gap"], a["departures"]) == (10, 9, -1, 1)
    assert a["monthly"] == [D("0.00"), D("10.53")]
    assert a["average_monthly"] == D("5.27")  # (0 + 10.53) ÷ 2, half-up
    assert a["annualised"] == D("63.24")
    assert (a["pending"], a["overdue"], a["on_time"], a["late"]) == (1, 0, 0, 0)
    assert rows["Beta Services"]["contracted"] == 2 and rows["Beta Services"]["headcount"] == 0
    assert data["overall"] == [D("0.00"), D("10.53")]
    assert data["states"] == [("Pending", 1), ("Overdue", 0), ("Fulfilled on time", 0), ("Fulfilled late", 0)]


def test_sourcing_mix_and_savings(fixture):
    data = queries.sourcing_mix(report_filters(MARCH, MARCH))
    by_model = {r["key"]: r for r in data["sourcing_model"]["rows"]}
    offshore = by_model["offshore"]
    assert (
        offshore["currency"],
        offshore["monthly_fee"],
        offshore["baseline"],
        offshore["savings"],
        offshore["savings_percent"],
        offshore["headcount"],
    ) == ("USD", D("100000.00"), D("150000.00"), D("50000.00"), D("33.3"), 9)
    assert by_model["nearshore"]["savings_percent"] == D("0.0")
    countries = {r["key"] for r in data["country"]["rows"]}
    assert countries == {"PH", "PL"}
    assert {r["name"] for r in data["service_type"]["rows"]} == {"Front office", "Back office"}


def test_renewals_by_notice_deadline(fixture):
    data = queries.renewals(report_filters(FEB, datetime.date(2026, 8, 1)))
    assert [(r["contract"], r["notice_deadline"], r["days_left"], r["bucket"]) for r in data["rows"]] == [
        ("CA", datetime.date(2026, 4, 1), 1, "Within 30 days")
    ]
    assert data["row_count"] == 1 and data["counts"]["Within 30 days"] == 1 and sum(data["counts"].values()) == 1


def _renewal(reference, days_left, fee, vendor):
    from tests.factories import ContractFactory

    end = TODAY + datetime.timedelta(days=days_left + 30)
    return ContractFactory(
        reference=reference, vendor=vendor, end_date=end, notice_days=30, monthly_fee=D(fee), currency="USD"
    )


def test_renewals_page_reads_its_first_rows_in_sql_in_any_order_and_counts_them_all(
    client, admin_user, db, monkeypatch
):
    """The page asks the database for the rows it shows, in the order its headings ask for; the chart, the row
    count and the download still cover every contract in the range, the download in the page's order."""
    from reports import views
    from tests.factories import VendorFactory

    vendor = VendorFactory(name="Renewal Co")
    for reference, days_left, fee in [("R1", -5, "300"), ("R2", 10, "100"), ("R3", 45, "200"), ("R4", 100, "50")]:
        _renewal(reference, days_left, fee, vendor)
    monkeypatch.setattr(views, "MAX_ROWS_ON_PAGE", 2)
    client.force_login(admin_user)
    url = reverse("reports:renewals")
    params = {"start": "2026-01", "end": "2026-12", "vendor": vendor.pk}
    response = client.get(url, params)
    (table,) = response.context["tables"]
    assert [r["contract"] for r in table.data] == ["R1", "R2"]  # soonest deadline first, two fetched
    assert table.row_count == 4 and table.orderable  # every contract counted; still sortable
    html = response.content.decode()
    assert "Showing the first 2 of 4 rows" in html and "renewals-sort=monthly_fee" in html
    chart = response.context["charts"][0]["config"]["data"]
    assert dict(zip(chart["labels"], chart["datasets"][0]["data"], strict=True)) == {
        "Notice deadline passed": 1,
        "Within 30 days": 1,
        "31–60 days": 1,
        "61–90 days": 0,
        "Later": 1,
    }
    for sort, first_two in [("-monthly_fee", ["R1", "R3"]), ("monthly_fee", ["R4", "R2"]), ("-bucket", ["R4", "R3"])]:
        table = client.get(url, {**params, "renewals-sort": sort}).context["tables"][0]
        assert [r["contract"] for r in table.data] == first_two, sort
    csv_rows = list(
        csv.DictReader(
            io.StringIO(client.get(url, {**params, "renewals-sort": "-monthly_fee", "_export": "csv"}).content.decode())
        )
    )
    assert [r["Contract"] for r in csv_rows] == ["R1", "R3", "R2", "R4"]


@pytest.mark.parametrize(
    "days,bucket",
    [
        (-1, "Notice deadline passed"),
        (0, "Within 30 days"),
        (30, "Within 30 days"),
        (31, "31–60 days"),
        (90, "61–90 days"),
        (91, "Later"),
    ],
)
def test_renewal_buckets(days, bucket):
    assert queries.renewal_bucket(days) == bucket


# --- pages ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["index", *REPORT_URLS])
def test_anonymous_is_sent_to_admin_login(client, db, name):
    response = client.get(reverse(f"reports:{name}"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("role", ["manager", "viewer"])
@pytest.mark.parametrize("name", ["index", *REPORT_URLS])
def test_non_admins_get_403(client, db, role, name):
    client.force_login(UserFactory(username=f"{role}-user", role=role, is_staff=True))
    assert client.get(reverse(f"reports:{name}")).status_code == 403


def test_admin_group_member_sees_reports(client, db):
    client.force_login(UserFactory(username="group-admin", role="admin"))
    assert client.get(reverse("reports:scorecard")).status_code == 200


def test_admin_index_links_to_reports(client, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("admin:index"))
    assert reverse("reports:index") in response.content.decode()


@pytest.mark.parametrize("name", REPORT_URLS)
def test_report_pages_render_with_chart_and_table(client, admin_user, fixture, name):
    client.force_login(admin_user)
    response = client.get(
        reverse(f"reports:{name}"), {"start": "2026-02", "end": "2026-03" if name == "scorecard" else "2026-08"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'canvas data-chart="report-chart-1"' in html and "<table" in html and "_export=csv" in html


def test_bad_filters_fall_back_to_defaults(client, admin_user, fixture):
    client.force_login(admin_user)
    response = client.get(reverse("reports:scorecard"), {"start": "2026-05", "end": "2026-01", "vendor": "x"})
    assert response.status_code == 200
    assert "cannot be before" in response.content.decode()


def test_scorecard_csv(client, admin_user, fixture):
    client.force_login(admin_user)
    response = client.get(reverse("reports:scorecard"), {"start": "2026-03", "end": "2026-03", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["Rank"], r["Vendor"], r["Compliance %"], r["Service credits"], r["Score"]) for r in rows] == [
        ("1", "Beta Services", "100.0", "", "100.0"),
        ("2", "Alpha BPO", "33.3", "USD 10000.00", "42.3"),
    ]


def test_service_credits_csv_tables(client, admin_user, fixture):
    client.force_login(admin_user)
    url = reverse("reports:service_credits")
    response = client.get(url, {"start": "2026-02", "end": "2026-03", "format": "csv", "table": "totals"})
    assert response.content.decode().splitlines() == [
        "Currency,Earned,Earned (USD),Sum of caps,Earned back",
        "EUR,1000.00,incomplete: no rate for EUR 2026-02,10000.00,0.00",
        "USD,10000.00,10000.00,10000.00,0.00",
        "All currencies,,incomplete: no rate for EUR 2026-02,,",
    ]


def _count_queries(client, url, params):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(ctx)


@pytest.mark.parametrize("name", REPORT_URLS)
def test_report_query_count_does_not_grow_with_rows(client, admin_user, db, name):
    client.force_login(admin_user)
    url = reverse(f"reports:{name}")
    params = {"start": "2024-01", "end": "2026-12"}
    build_world(5)
    small = _count_queries(client, url, params)
    build_world(500)
    large = _count_queries(client, url, params)
    assert small == large
    assert large <= 15


@pytest.mark.parametrize("from_summary", [False, True])
def test_scorecard_ranks_within_each_period(fixture, from_summary):
    """Grouped by contract per quarter: CA and CB share 2026 Q1 and are ranked 1 and 2 in it, not each 1."""
    if from_summary:
        from reports.summaries import refresh_summaries

        refresh_summaries(today=TODAY)
    rows = queries.vendor_scorecard(
        report_filters(FEB, MARCH, period="quarter", group="contract", use_summary=from_summary)
    )
    assert [(r["name"], r["period"], r["rank"]) for r in rows] == [("CB", "2026 Q1", 1), ("CA", "2026 Q1", 2)]
    assert rows[0]["score"] > rows[1]["score"]


@pytest.mark.parametrize("from_summary", [False, True])
def test_scorecard_period_with_nothing_measured_has_no_score(fixture, from_summary):
    """Contract CA has staff in February but no figure due: no score (shown "—") and no rank, never 100."""
    if from_summary:
        from reports.summaries import refresh_summaries

        refresh_summaries(today=TODAY)
    rows = queries.vendor_scorecard(report_filters(FEB, MARCH, group="contract", use_summary=from_summary))
    february = {r["name"]: r for r in rows if r["period"] == "Feb 2026"}
    ca = february["CA"]
    assert (ca["measured"], ca["missing_reports"], ca["start_headcount"]) == (0, 0, 10)
    assert ca["score"] is None and ca["rank"] is None
    assert february["CB"]["rank"] == 1  # the scored row ranks first, the unscored one comes last
    assert [r["name"] for r in rows if r["period"] == "Feb 2026"] == ["CB", "CA"]


def test_scorecard_page_shows_a_dash_for_no_score(client, admin_user, fixture):
    client.force_login(admin_user)
    response = client.get(reverse("reports:scorecard"), {"start": "2026-02", "end": "2026-02", "group": "contract"})
    assert response.status_code == 200
    html = response.content.decode()
    row = next(r for r in html.split("<tr") if ">CA<" in r)
    assert "100.0" not in row and "—" in row
