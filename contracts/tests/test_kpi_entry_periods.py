"""The KPI entry page for every frequency: ``?period=`` a month, ISO week, day or quarter; each SLA on
the periods of its own frequency; a week of daily figures on one screen; bad periods explained, never
shifted; links that open exactly the period owed."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from kpis.models import KPI, Measurement, PendingCheck
from tests.factories import BreachFactory, MeasurementFactory, SLAFactory

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 11, 25, 10, 0, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def slas(contract):
    """One SLA of each frequency on the contract."""
    return {
        "monthly": SLAFactory(contract=contract, frequency="monthly"),
        "weekly": SLAFactory(contract=contract, kpi=KPI.objects.get(code="csat"), frequency="weekly"),
        "daily": SLAFactory(
            contract=contract,
            kpi=KPI.objects.get(code="average_handle_time"),
            expected=Decimal("300"),
            minimum=Decimal("360"),
            frequency="daily",
        ),
        "quarterly": SLAFactory(contract=contract, kpi=KPI.objects.get(code="accuracy"), frequency="quarterly"),
    }


def url(contract):
    return reverse("contracts:kpi_entry", args=[contract.pk])


def shown(response):
    return [(r["sla"].frequency, r["start"], r["end"]) for r in response.context["rows"]]


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        ("2026-11", [("monthly", D(2026, 11, 1), D(2026, 11, 30))]),
        ("2026-W47", [("weekly", D(2026, 11, 16), D(2026, 11, 22))]),
        ("2026-w47", [("weekly", D(2026, 11, 16), D(2026, 11, 22))]),
        ("2026-W01", [("weekly", D(2025, 12, 29), D(2026, 1, 4))]),
        ("2026-11-09", [("daily", D(2026, 11, 9), D(2026, 11, 9))]),
        ("2026-Q4", [("quarterly", D(2026, 10, 1), D(2026, 12, 31))]),
    ],
)
def test_each_period_shows_the_slas_of_its_own_frequency(client, owner, contract, slas, period, expected):
    client.force_login(owner)
    response = client.get(url(contract), {"period": period})
    assert response.status_code == 200
    assert shown(response) == expected


def test_every_week_of_a_weekly_sla_can_be_entered(client, owner, contract, slas):
    """Not only the week containing the 1st of the month: W47 (16–22 Nov) is on a page of its own."""
    weekly = slas["weekly"]
    client.force_login(owner)
    PendingCheck.objects.all().delete()
    response = client.post(url(contract), {"period": "2026-W47", f"value_{weekly.pk}": "88"})
    assert response.status_code == 302
    m = Measurement.objects.get()
    assert (m.sla, m.period_start, m.period_end, m.value) == (weekly, D(2026, 11, 16), D(2026, 11, 22), 88)
    assert list(PendingCheck.objects.values_list("sla_id", "period_start")) == [(weekly.pk, D(2026, 11, 16))]


def test_a_week_of_daily_figures_on_one_screen(client, owner, contract, slas):
    daily = slas["daily"]
    MeasurementFactory(sla=daily, period_start=D(2026, 11, 17), value=Decimal("310"))
    client.force_login(owner)
    response = client.get(url(contract), {"period": "2026-W47", "frequency": "daily"})
    assert response.status_code == 200
    assert [start for _f, start, _e in shown(response)] == [D(2026, 11, 16) + datetime.timedelta(d) for d in range(7)]
    assert response.context["form"][f"value_{daily.pk}_2026-11-17"].value() == Decimal("310.00")
    assert response.text.count('data-testid="sla-group"') == 1
    assert "Mon 16 Nov" in response.text and "Sun 22 Nov" in response.text

    data = {"period": "2026-W47", "frequency": "daily"}
    data |= {f"value_{daily.pk}_2026-11-{day}": str(290 + day - 16) for day in range(16, 23)}
    data[f"value_{daily.pk}_2026-11-17"] = "310"  # unchanged
    PendingCheck.objects.all().delete()
    assert client.post(url(contract), data).status_code == 302
    figures = dict(Measurement.objects.filter(sla=daily).values_list("period_start", "value"))
    assert len(figures) == 7 and figures[D(2026, 11, 22)] == Decimal("296")
    assert all(m.period_start == m.period_end for m in Measurement.objects.all())
    assert PendingCheck.objects.count() == 6  # the figure already recorded did not change


def test_previous_and_next_step_by_the_frequency_shown(client, owner, contract, slas):
    client.force_login(owner)
    cases = {
        ("2026-W53", ""): ("?period=2026-W52", "?period=2027-W01"),
        ("2026-11-09", ""): ("?period=2026-11-08", "?period=2026-11-10"),
        ("2026-01", ""): ("?period=2025-12", "?period=2026-02"),
        ("2026-Q1", ""): ("?period=2025-Q4", "?period=2026-Q2"),
        ("2026-W47", "daily"): ("?period=2026-W46&frequency=daily", "?period=2026-W48&frequency=daily"),
    }
    for (period, frequency), (previous, following) in cases.items():
        response = client.get(url(contract), {"period": period, "frequency": frequency})
        nav = response.context["nav"]
        assert (nav["previous"], nav["next"]) == (previous, following), period
        assert f'href="{following.replace("&", "&amp;")}"' in response.text


def test_the_switch_offers_the_frequencies_the_contract_uses(client, owner, contract, slas):
    slas["quarterly"].delete()
    client.force_login(owner)
    response = client.get(url(contract), {"period": "2026-11"})
    assert response.context["switch"] == [
        ("Daily", "?period=2026-W44&frequency=daily", False),  # the week of 1 Nov, as days
        ("Weekly", "?period=2026-W44", False),
        ("Monthly", "?period=2026-11", True),
    ]


def test_no_period_opens_the_last_complete_period(client, owner, contract, slas):
    client.force_login(owner)
    assert shown(client.get(url(contract)))[0][1] == D(2026, 10, 1)  # monthly first, last month
    slas["monthly"].delete()
    assert shown(client.get(url(contract)))[0][1] == D(2026, 11, 16)  # then weekly: last week
    slas["weekly"].delete()
    response = client.get(url(contract))  # then daily: this week's days up to yesterday
    assert response.context["page"].frequency == "daily"
    assert shown(response)[0][1] == D(2026, 11, 23)


@pytest.mark.parametrize(
    ("period", "message"),
    [
        ("9999-12", "for 2000 to 2036 only"),
        ("0001-01", "for 2000 to 2036 only"),
        ("2026-13", "2026-13 is not a valid month"),
        ("2026-00", "2026-00 is not a valid month"),
        ("2026-02-30", "2026-02-30 is not a valid date"),
        ("2025-W53", "2025-W53 is not a valid ISO week"),
        ("2026-Q5", "2026-Q5 is not a valid quarter"),
        ("next tuesday", "“next tuesday” is not a period"),
        ("2026-11-09T00:00", "is not a period"),
    ],
)
def test_a_bad_period_is_explained_and_nothing_is_saved(client, owner, contract, slas, period, message):
    client.force_login(owner)
    response = client.get(url(contract), {"period": period})
    assert response.status_code == 400
    assert message in response.context["page"].error
    assert message.replace("“", "&ldquo;").replace("”", "&rdquo;") in response.text or message in response.text
    assert 'id="kpi-entry-form"' not in response.text
    response = client.post(url(contract), {"period": period, f"value_{slas['monthly'].pk}": "70"})
    assert response.status_code == 400
    assert not Measurement.objects.exists()


def test_a_coarser_frequency_than_the_period_is_refused(client, owner, contract, slas):
    client.force_login(owner)
    response = client.get(url(contract), {"period": "2026-W47", "frequency": "monthly"})
    assert response.status_code == 400
    assert "cannot be shown on a week page" in response.text
    assert client.get(url(contract), {"period": "2026-W47", "frequency": "hourly"}).status_code == 400


def test_the_entry_page_reads_a_constant_number_of_queries(client, owner, contract, django_assert_max_num_queries):
    for code in ("service_level", "csat", "accuracy", "average_handle_time", "quality_score"):
        sla = SLAFactory(contract=contract, kpi=KPI.objects.get(code=code), frequency="daily")
        MeasurementFactory(sla=sla, period_start=D(2026, 11, 18))
    client.force_login(owner)
    with django_assert_max_num_queries(8):
        response = client.get(url(contract), {"period": "2026-W47", "frequency": "daily"})
    assert len(response.context["rows"]) == 35


# --- links that open the period owed -------------------------------------------------------------
def test_sla_page_opens_the_oldest_open_missing_report(client, owner, contract, slas):
    weekly = slas["weekly"]
    for start in (D(2026, 11, 9), D(2026, 10, 26)):
        BreachFactory(sla=weekly, kind="missing_report", period_start=start, period_end=start + datetime.timedelta(6))
    client.force_login(owner)
    response = client.get(reverse("contracts:sla_detail", args=[weekly.pk]))
    assert response.context["entry_url"] == f"{url(contract)}?period=2026-W44"
    assert f'href="{url(contract)}?period=2026-W46"' in response.text  # each missing report has its link


def test_sla_page_without_missing_reports_opens_the_last_complete_period(client, owner, contract, slas):
    client.force_login(owner)
    for frequency, period in (("daily", "2026-11-24"), ("weekly", "2026-W47"), ("quarterly", "2026-Q3")):
        response = client.get(reverse("contracts:sla_detail", args=[slas[frequency].pk]))
        assert response.context["entry_url"] == f"{url(contract)}?period={period}"


def test_missing_report_breach_page_links_to_its_period(client, owner, contract, slas):
    breach = BreachFactory(
        sla=slas["weekly"], kind="missing_report", period_start=D(2026, 11, 16), period_end=D(2026, 11, 22)
    )
    client.force_login(owner)
    response = client.get(breach.get_absolute_url())
    assert f'href="{url(contract)}?period=2026-W47" data-testid="enter-figures"' in response.text


def test_dashboard_missing_reports_link_to_their_period(client, owner, contract, slas):
    client.force_login(owner)
    response = client.get(reverse("dashboard:home") + "?scope=mine")
    links = {m["sla"].frequency: m for m in response.context["missing"]}
    assert links["weekly"]["period_start"] == D(2026, 11, 16)
    assert f'href="{url(contract)}?period=2026-W47"' in response.text
    assert f'href="{url(contract)}?period=2026-11-24"' in response.text
