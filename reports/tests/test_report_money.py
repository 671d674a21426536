"""Money in the reports: every amount with its currency, and a reporting-currency column converted with each
month's rate (a month without a rate is shown as missing). The fixture (conftest): Alpha BPO owes USD 10 000
for March 2026, Beta Services EUR 1 000 for February 2026."""

import datetime
from decimal import Decimal as D

import pytest
from django.urls import reverse

from reports import queries
from reports.models import ContractMonth
from reports.summaries import refresh_summaries
from tests.factories import ExchangeRateFactory

from .builders import TODAY, report_filters

MARCH, FEB = datetime.date(2026, 3, 1), datetime.date(2026, 2, 1)
NBSP = "\u00a0"


@pytest.fixture(autouse=True)
def _frozen(frozen_today):
    """Every test here runs on TODAY."""


@pytest.mark.parametrize("summarised", [False, True], ids=["live", "summaries"])
def test_service_credits_in_the_reporting_currency_at_each_months_rate(fixture, summarised):
    ExchangeRateFactory(currency="EUR", month=FEB, rate=D("1.10"))
    ExchangeRateFactory(currency="EUR", month=MARCH, rate=D("5"))  # not February's credit's month: unused
    if summarised:
        refresh_summaries()
    data = queries.service_credits(report_filters(FEB, MARCH))
    assert {r["contract"]: r["earned_reporting"].reporting for r in data["rows"]} == {
        "CA": D("10000.00"),
        "CB": D("1100.00"),
    }
    assert {t["currency"]: t["earned_reporting"].reporting for t in data["totals"]} == {
        "EUR": D("1100.00"),
        "USD": D("10000.00"),
    }
    total = data["total_reporting"]
    assert (total.by_currency, total.reporting, total.complete) == (
        (("EUR", D("1000.00")), ("USD", D("10000.00"))),
        D("11100.00"),
        True,
    )
    assert {o["vendor"]: o["owed_reporting"].reporting for o in data["owed_this_quarter"]} == {
        "Alpha BPO": D("10000.00"),
        "Beta Services": D("1100.00"),
    }


def test_service_credits_without_a_rate_say_so(fixture):
    data = queries.service_credits(report_filters(FEB, MARCH))
    total = data["total_reporting"]
    assert not total.complete and total.reporting == D("10000.00")
    assert total.missing_text == "no rate for EUR 2026-02"


def test_scorecard_credits_in_the_reporting_currency(fixture):
    rows = queries.vendor_scorecard(report_filters(FEB, MARCH, period="quarter"))
    by_name = {r["name"]: r for r in rows}
    assert by_name["Beta Services"]["credits_reporting"].missing_text == "no rate for EUR 2026-02"
    assert by_name["Alpha BPO"]["credits_reporting"].reporting == D("10000.00")
    ExchangeRateFactory(currency="EUR", month=FEB, rate=D("1.10"))
    rows = queries.vendor_scorecard(report_filters(FEB, MARCH, period="quarter"))
    assert {r["name"]: r["credits_reporting"].reporting for r in rows} == {
        "Alpha BPO": D("10000.00"),
        "Beta Services": D("1100.00"),
    }


def test_sourcing_mix_and_renewals_convert_fees_at_the_months_rate(fixture):
    ExchangeRateFactory(currency="EUR", month=MARCH, rate=D("1.10"))
    data = queries.sourcing_mix(report_filters(MARCH, MARCH))
    total = data["sourcing_model"]["total"]
    # USD 100 000 + EUR 50 000 × 1.10; never 150 000 "mixed"
    assert total["monthly_fee_reporting"].reporting == D("155000.00")
    assert total["monthly_fee_reporting"].by_currency == (("EUR", D("50000.00")), ("USD", D("100000.00")))
    rows = queries.renewals(report_filters(FEB, datetime.date(2026, 8, 1)))["rows"]
    assert [r["monthly_fee_reporting"].reporting for r in rows] == [D("100000.00")]


def test_report_pages_show_every_amount_with_its_currency(client, admin_user, fixture):
    ExchangeRateFactory(currency="EUR", month=FEB, rate=D("1.10"))
    client.force_login(admin_user)
    html = client.get(reverse("reports:service_credits"), {"start": "2026-02", "end": "2026-03"}).text
    assert f'<td class="num">EUR{NBSP}1,000.00</td>' in html  # earned, in the contract's currency
    assert f'<td class="num">USD{NBSP}1,100.00</td>' in html  # the same, in the reporting currency
    assert "Earned (USD)" in html
    assert "<td>All currencies</td>" in html and f"USD{NBSP}11,100.00" in html
    html = client.get(reverse("reports:scorecard"), {"start": "2026-02", "end": "2026-03", "period": "quarter"}).text
    assert f"EUR{NBSP}1,000.00" in html and "Service credits (USD)" in html
    html = client.get(reverse("reports:sourcing_mix"), {"start": "2026-03", "end": "2026-03"}).text
    assert f"EUR{NBSP}50,000.00" in html and "no rate for EUR 2026-03" in html  # only February has a rate


def test_service_credits_page_over_several_owing_months(client, admin_user, fixture):
    """The page's rows are read month by month where the database allows it (PostgreSQL) and in one sorted
    query elsewhere (the demo's SQLite): both give the page."""
    refresh_summaries(today=TODAY)
    owing = {m for m in ContractMonth.objects.filter(credit__gt=0).values_list("month", flat=True)}
    assert len(owing) >= 2
    client.force_login(admin_user)
    response = client.get(reverse("reports:service_credits"), {"start": "2026-01", "end": "2026-03"})
    assert response.status_code == 200
    rows = response.context["table"].rows
    assert len(rows) >= 2 and {row.record["month"] for row in rows} >= owing
