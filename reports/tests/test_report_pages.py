"""Report pages that read only the rows they show (sorted and cut in SQL): the same rows, in the same order, as
every row sorted the way django-tables2 sorts them; the same counts, charts and totals; a data change shows
after the summaries' refresh."""

import datetime
import re

import pytest
from django.urls import reverse
from django_tables2.utils import OrderByTuple

from kpis.models import Measurement
from reports import queries
from reports.summaries import refresh_summaries

from .builders import TODAY, build_world, report_filters
from .test_reports import FEB, MARCH

JANUARY_2024, JANUARY_2025 = datetime.date(2024, 1, 1), datetime.date(2025, 1, 1)


@pytest.fixture(autouse=True)
def _frozen(frozen_today):
    """Every test here runs on TODAY."""


def _sorted(rows, key):
    """``rows`` as django-tables2 sorts a list by one column (``TableListData.order_by``)."""
    return sorted(rows, key=OrderByTuple([key]).key)


SCORECARD_KEYS = [*queries.SCORECARD_ORDER_SQL, "-score", "-name", "-rank", "-score_change", "-attrition", "-band"]


@pytest.mark.parametrize("period", ["month", "quarter"])
@pytest.mark.parametrize("key", SCORECARD_KEYS)
def test_scorecard_page_is_the_first_rows_of_every_row_sorted(fixture, key, period):
    build_world(30)  # staff figures (and so attrition) for 30 more vendors in 2025, scores for the fixture's
    refresh_summaries(today=TODAY)
    every = queries.vendor_scorecard(report_filters(JANUARY_2025, MARCH, period=period, use_summary=False))
    expected = [(r["key"], r["period_start"]) for r in _sorted(every, key)]
    page = queries.scorecard_page(report_filters(JANUARY_2025, MARCH, period=period), limit=5, order_by=[key])
    assert page["query_ordered"] and page["row_count"] == len(every)
    assert [(r["key"], r["period_start"]) for r in page["rows"]] == expected[:5]
    whole = {(r["key"], r["period_start"]): r for r in every}
    assert all(r == whole[(r["key"], r["period_start"])] for r in page["rows"])


def test_scorecard_chart_rows_are_the_newest_periods_best(fixture):
    refresh_summaries(today=TODAY)
    every = queries.vendor_scorecard(report_filters(FEB, MARCH))
    page = queries.scorecard_page(report_filters(FEB, MARCH), limit=1, order_by=["name"])
    assert [r["name"] for r in page["rows"]] == ["Alpha BPO"]  # February's Alpha sorts before March's
    assert page["latest_period"] == "Mar 2026"
    best = [r for r in every if r["period_start"] == MARCH and r["score"] is not None]
    assert [(r["name"], r["rank"]) for r in page["chart_rows"]] == [(r["name"], r["rank"]) for r in best]


def test_scorecard_page_shows_a_new_figure_after_the_refresh(fixture):
    refresh_summaries(today=TODAY)
    before = {r["name"]: r for r in queries.scorecard_page(report_filters(MARCH, MARCH), limit=10)["rows"]}
    sla = Measurement.objects.filter(sla__contract__reference="CA").first().sla
    Measurement.objects.create(
        sla=sla, period_start=datetime.date(2026, 3, 2), period_end=MARCH.replace(day=2), value=100
    )
    refresh_summaries([sla.contract_id], today=TODAY)
    after = {r["name"]: r for r in queries.scorecard_page(report_filters(MARCH, MARCH), limit=10)["rows"]}
    assert after["Alpha BPO"]["measured"] == before["Alpha BPO"]["measured"] + 1


@pytest.mark.parametrize("key", ["name", "-name", "total_compliance", "-total_compliance", "measured_total"])
def test_compliance_trend_page_is_the_first_series_of_all_sorted(fixture, key):
    build_world(30)  # one more vendor measured, in January 2024
    refresh_summaries(today=TODAY)
    every = queries.compliance_trend(report_filters(JANUARY_2024, MARCH))["series"]
    for s in every:
        s["measured_total"] = sum(s["measured"])
    page = queries.compliance_trend_page(report_filters(JANUARY_2024, MARCH), 2, [key])
    assert page["query_ordered"] and page["series_count"] == len(every) == 3
    shown = _sorted(every, key)[:2]
    assert [s["key"] for s in page["series"]] == [s["key"] for s in shown]
    assert [(s["compliance"], s["total_compliance"]) for s in page["series"]] == [
        (s["compliance"], s["total_compliance"]) for s in shown
    ]
    top = sorted(every, key=lambda s: s["measured_total"], reverse=True)[:8]
    assert [s["key"] for s in page["chart_series"]] == [s["key"] for s in top]


def test_compliance_trend_page_sorted_by_a_month_reads_every_series(fixture):
    refresh_summaries(today=TODAY)
    page = queries.compliance_trend_page(report_filters(FEB, MARCH), 1, ["m0"])
    assert not page["query_ordered"] and len(page["series"]) == page["series_count"] == 2


@pytest.mark.parametrize("order", [((), ()), (("-name",), ()), ((), ("-name",))])
def test_attrition_page_rows_are_those_of_the_whole_report(fixture, order):
    refresh_summaries(today=TODAY)
    whole = queries.attrition(report_filters(FEB, MARCH))
    page = queries.attrition_page(report_filters(FEB, MARCH), 1, *order)
    assert page["row_count"] == len(whole["rows"]) == 2
    by_name = whole["rows"][::-1] if order[0] else whole["rows"]
    assert page["summary_rows"] == by_name[:1]
    assert page["monthly_rows"] == (whole["rows"][::-1] if order[1] else whole["rows"])[:1]
    assert (page["overall"], page["states"]) == (whole["overall"], whole["states"])
    assert page["chart_rows"] == sorted(whole["rows"], key=lambda r: r["headcount"], reverse=True)[:7]


def test_attrition_page_sorted_by_a_figure_builds_every_row(fixture):
    refresh_summaries(today=TODAY)
    page = queries.attrition_page(report_filters(FEB, MARCH), 1, ("-headcount",))
    assert page["row_count"] is None and len(page["summary_rows"]) == 2


@pytest.mark.parametrize("key", ["vendor", "-vendor", "owed", "-owed", "breaches", "currency"])
def test_owed_this_quarter_page_is_the_first_rows_of_all_sorted(fixture, key):
    refresh_summaries(today=TODAY)
    every = queries.service_credits(report_filters(FEB, MARCH))["owed_this_quarter"]
    page = queries.service_credits(report_filters(FEB, MARCH), limit=1, owed_order=[key])
    assert page["owed_count"] == len(every) == 2
    assert page["owed_this_quarter"] == _sorted(every, key)[:1]


def test_credit_rows_are_read_month_by_month_in_the_report_order(fixture):
    build_world(100)  # credits in January to April 2024, and the fixture's in February and March 2026
    refresh_summaries(today=TODAY)
    every = queries.service_credits(report_filters(JANUARY_2024, MARCH))
    assert len({r["month"] for r in every["rows"]}) == 6
    for limit in (1, 3, len(every["rows"]), len(every["rows"]) + 5):
        page = queries.service_credits(report_filters(JANUARY_2024, MARCH), limit=limit)
        assert page["rows"] == every["rows"][:limit]
        assert page["row_count"] == len(every["rows"])


@pytest.mark.parametrize(
    "name,params", [("scorecard", {"scorecard-sort": "-attrition"}), ("attrition", {"summary-sort": "-name"})]
)
def test_pages_show_the_first_rows_and_downloads_all_of_them(admin_client, db, name, params):
    build_world(120)
    refresh_summaries(today=TODAY)
    params = {"start": "2025-01", "end": "2025-06", **params}
    page = admin_client.get(reverse(f"reports:{name}"), params).content.decode()
    row_count = int(re.search(r"Showing the first 100 of ([\d,]+) rows", page).group(1).replace(",", ""))
    download = admin_client.get(reverse(f"reports:{name}"), {**params, "_export": "csv"}).content.decode()
    assert len(download.splitlines()) == row_count + 1 > 101
