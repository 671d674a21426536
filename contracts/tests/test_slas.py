import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from kpis.models import KPI, SLA
from tests.factories import MeasurementFactory, SLAFactory

pytestmark = pytest.mark.django_db


def sla_data(kpi_code="service_level", **overrides):
    data = {
        "kpi": KPI.objects.get(code=kpi_code).pk,
        "expected": "80",
        "minimum": "75",
        "frequency": "monthly",
        "credit_allocation_percent": "25",
        "effective_from": "2025-01-01",
        "effective_to": "",
        "active": "on",
    }
    data.update(overrides)
    return data


def test_owner_adds_an_sla_from_the_catalogue(client, owner, contract):
    client.force_login(owner)
    response = client.get(reverse("contracts:sla_add", args=[contract.pk]))
    assert response.status_code == 200
    assert "Average handle time (seconds, lower is better)" in response.text
    response = client.post(reverse("contracts:sla_add", args=[contract.pk]), sla_data())
    sla = SLA.objects.get()
    assert response.status_code == 302
    assert response["Location"] == sla.get_absolute_url() == reverse("contracts:sla_detail", args=[sla.pk])
    assert sla.contract == contract
    assert sla.credit_allocation_percent == Decimal("25")


def test_minimum_validated_against_kpi_direction(client, owner, contract):
    client.force_login(owner)
    url = reverse("contracts:sla_add", args=[contract.pk])
    response = client.post(url, sla_data(expected="80", minimum="85"))
    assert response.status_code == 200
    assert response.context["form"].errors["minimum"] == [
        "For Service level higher is better, so the minimum (85) cannot be above the expected level (80)."
    ]
    response = client.post(url, sla_data("average_handle_time", expected="300", minimum="250"))
    assert "cannot be below the expected level" in response.context["form"].errors["minimum"][0]
    response = client.post(url, sla_data(expected="120", minimum="75"))
    assert response.context["form"].errors["expected"] == [
        "Service level is a percentage: give a value between 0 and 100."
    ]
    assert not SLA.objects.exists()


def test_duplicate_sla_is_reported_on_the_kpi_field(client, owner, contract):
    SLAFactory(contract=contract, effective_from=datetime.date(2025, 1, 1))
    client.force_login(owner)
    response = client.post(reverse("contracts:sla_add", args=[contract.pk]), sla_data())
    assert response.status_code == 200
    assert "already has an SLA for this KPI" in response.context["form"].errors["kpi"][0]


def test_owner_edits_an_sla(client, owner, contract):
    sla = SLAFactory(contract=contract)
    client.force_login(owner)
    response = client.post(reverse("contracts:sla_edit", args=[contract.pk, sla.pk]), sla_data(expected="85"))
    assert response.status_code == 302
    sla.refresh_from_db()
    assert sla.expected == Decimal("85")


@pytest.mark.parametrize("who", ["teammate", "viewer"])
def test_others_get_403_on_sla_writes_and_nothing_changes(client, request, contract, who):
    sla = SLAFactory(contract=contract)
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("contracts:sla_add", args=[contract.pk])).status_code == 403
    assert client.post(reverse("contracts:sla_add", args=[contract.pk]), sla_data("csat")).status_code == 403
    edit = reverse("contracts:sla_edit", args=[contract.pk, sla.pk])
    assert client.post(edit, sla_data(expected="99")).status_code == 403
    sla.refresh_from_db()
    assert sla.expected == Decimal("80")
    assert SLA.objects.count() == 1


def test_sla_of_another_contract_is_not_reachable_through_this_one(client, owner, contract):
    other = SLAFactory()
    client.force_login(owner)
    assert client.get(reverse("contracts:sla_edit", args=[contract.pk, other.pk])).status_code == 404


def test_sla_detail_shows_history_with_outcomes(client, viewer, contract):
    sla = SLAFactory(contract=contract)
    MeasurementFactory(sla=sla, period_start=datetime.date(2026, 1, 1), value=Decimal("85"))
    MeasurementFactory(sla=sla, period_start=datetime.date(2026, 2, 1), value=Decimal("70"))
    client.force_login(viewer)
    response = client.get(sla.get_absolute_url())
    assert response.status_code == 200
    assert [m.outcome for m in response.context["measurements"]] == ["major", "met"]
    assert response.context["chart"]["data"]["labels"] == ["Jan 2026", "Feb 2026"]
    assert 'data-testid="edit-button"' not in response.text


@pytest.mark.parametrize("rows", [5, 120])
def test_sla_detail_runs_a_constant_number_of_queries(client, viewer, contract, django_assert_max_num_queries, rows):
    sla = SLAFactory(contract=contract)
    from kpis.models import Measurement

    Measurement.objects.bulk_create(
        [
            Measurement(
                sla=sla,
                period_start=datetime.date(2010 + i // 12, i % 12 + 1, 1),
                period_end=datetime.date(2010 + i // 12, i % 12 + 1, 28),
                value=Decimal("70") + i % 20,
            )
            for i in range(rows)
        ]
    )
    client.force_login(viewer)
    with django_assert_max_num_queries(9):
        assert client.get(sla.get_absolute_url()).status_code == 200
