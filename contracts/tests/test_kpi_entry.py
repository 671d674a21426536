import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from kpis.models import KPI, Measurement, PendingCheck
from tests.factories import MeasurementFactory, SLAFactory

pytestmark = pytest.mark.django_db

OCTOBER = "2026-10"


@pytest.fixture
def slas(contract):
    return (
        SLAFactory(contract=contract, expected=Decimal("80"), minimum=Decimal("75")),
        SLAFactory(
            contract=contract,
            kpi=KPI.objects.get(code="average_handle_time"),
            expected=Decimal("300"),
            minimum=Decimal("360"),
        ),
        SLAFactory(contract=contract, kpi=KPI.objects.get(code="csat"), active=False),
    )


def url(contract):
    return reverse("contracts:kpi_entry", args=[contract.pk])


def test_bulk_form_lists_every_sla_due_with_its_levels(client, owner, contract, slas):
    client.force_login(owner)
    response = client.get(url(contract), {"period": OCTOBER})
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [r["sla"].kpi.code for r in rows] == ["average_handle_time", "service_level"]  # the inactive one is not due
    assert rows[0]["start"] == datetime.date(2026, 10, 1) and rows[0]["end"] == datetime.date(2026, 10, 31)
    assert "300.00 seconds" in response.text and "360.00 seconds" in response.text
    assert "80.00 %" in response.text and "75.00 %" in response.text


def test_bulk_form_saves_all_figures_and_queues_a_breach_check(client, owner, contract, slas):
    service_level, handle_time, _ = slas
    client.force_login(owner)
    response = client.post(
        url(contract),
        {
            "period": OCTOBER,
            f"value_{service_level.pk}": "70",
            f"value_{handle_time.pk}": "290",
            f"note_{handle_time.pk}": "from vendor report",
        },
    )
    assert response.status_code == 302
    saved = {m.sla_id: m for m in Measurement.objects.all()}
    assert saved[service_level.pk].value == Decimal("70")
    assert saved[service_level.pk].period_end == datetime.date(2026, 10, 31)
    assert saved[service_level.pk].recorded_by == owner
    assert saved[service_level.pk].source == "manual"
    assert saved[handle_time.pk].note == "from vendor report"
    october = datetime.date(2026, 10, 1)
    owed = PendingCheck.objects.filter(kind="figure").values_list("sla_id", "period_start")
    assert sorted(set(owed)) == sorted([(service_level.pk, october), (handle_time.pk, october)])


def test_bulk_form_corrects_an_existing_figure(client, owner, contract, slas):
    service_level = slas[0]
    MeasurementFactory(sla=service_level, period_start=datetime.date(2026, 10, 1), value=Decimal("70"))
    client.force_login(owner)
    response = client.get(url(contract), {"period": OCTOBER})
    assert response.context["form"][f"value_{service_level.pk}"].value() == Decimal("70.00")
    client.post(url(contract), {"period": OCTOBER, f"value_{service_level.pk}": "82"})
    assert Measurement.objects.get().value == Decimal("82")


def test_bulk_form_shows_errors_next_to_the_figure(client, owner, contract, slas):
    service_level, handle_time, _ = slas
    client.force_login(owner)
    response = client.post(
        url(contract), {"period": OCTOBER, f"value_{service_level.pk}": "120", f"value_{handle_time.pk}": "-3"}
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors[f"value_{service_level.pk}"] == [
        "Service level is a percentage: give a value between 0 and 100."
    ]
    assert form.errors[f"value_{handle_time.pk}"] == ["A KPI figure cannot be negative."]
    assert "is-invalid" in response.text
    assert not Measurement.objects.exists()


def test_empty_bulk_form_asks_for_a_figure(client, owner, contract, slas):
    client.force_login(owner)
    response = client.post(url(contract), {"period": OCTOBER})
    assert "Enter at least one figure." in response.text


def test_weekly_sla_uses_the_iso_week_of_the_period(client, owner, contract):
    weekly = SLAFactory(contract=contract, frequency="weekly")
    client.force_login(owner)
    client.post(url(contract), {"period": "2026-W41", f"value_{weekly.pk}": "90"})
    m = Measurement.objects.get()
    assert (m.period_start, m.period_end) == (datetime.date(2026, 10, 5), datetime.date(2026, 10, 11))


@pytest.mark.parametrize("who", ["teammate", "viewer"])
def test_others_get_403_and_nothing_is_saved(client, request, contract, slas, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(url(contract), {"period": OCTOBER}).status_code == 403
    response = client.post(url(contract), {"period": OCTOBER, f"value_{slas[0].pk}": "70"})
    assert response.status_code == 403
    assert not Measurement.objects.exists()


def test_admin_enters_figures_on_any_contract(client, admin_user, contract, slas):
    client.force_login(admin_user)
    assert client.post(url(contract), {"period": OCTOBER, f"value_{slas[0].pk}": "70"}).status_code == 302
    assert Measurement.objects.count() == 1


@pytest.mark.parametrize("rows", [5, 60])
def test_bulk_form_runs_a_constant_number_of_queries(client, owner, contract, django_assert_max_num_queries, rows):
    from kpis.models import SLA

    kpi = KPI.objects.get(code="service_level")
    SLA.objects.bulk_create(
        [
            SLA(
                contract=contract,
                kpi=kpi,
                expected=80,
                minimum=75,
                effective_from=datetime.date(2020, 1, 1) + datetime.timedelta(days=i),
            )
            for i in range(rows)
        ]
    )
    client.force_login(owner)
    with django_assert_max_num_queries(9):
        response = client.get(url(contract), {"period": OCTOBER})
    assert len(response.context["rows"]) == rows
    data = {"period": OCTOBER} | {row["value_name"]: "90" for row in response.context["rows"]}
    assert client.post(url(contract), data).status_code == 302
    assert Measurement.objects.count() == rows
