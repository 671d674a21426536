"""Free text people type has a cap (2 MB notes were saved): checked next to the field in the app's forms
and the admin, and by the database where the table allows it."""

import datetime

import pytest
from django.contrib import admin
from django.db import IntegrityError, transaction
from django.test import RequestFactory
from django.urls import reverse

from common.validators import LONG_TEXT_MAX_LENGTH, SHORT_TEXT_MAX_LENGTH
from contracts.models import Contract
from contracts.tests.test_views import contract_data
from kpis.models import KPI, Breach, Measurement
from tests.factories import BreachFactory, MeasurementFactory, SLAFactory, VendorFactory
from vendors.models import Vendor

pytestmark = pytest.mark.django_db
TOO_LONG = "x" * (LONG_TEXT_MAX_LENGTH + 1)


def test_contract_notes_over_the_cap_are_refused_next_to_the_field(client, owner):
    client.force_login(owner)
    response = client.post(reverse("contracts:contract_add"), contract_data(VendorFactory(), notes=TOO_LONG))
    assert response.status_code == 200
    assert response.context["form"].errors["notes"] == [
        "Ensure this value has at most 10000 characters (it has 10001)."
    ]
    assert not Contract.objects.exists()
    response = client.post(
        reverse("contracts:contract_add"), contract_data(VendorFactory(), notes="y" * LONG_TEXT_MAX_LENGTH)
    )
    assert response.status_code == 302


def test_vendor_notes_over_the_cap_are_refused(client, owner):
    client.force_login(owner)
    data = {"name": "Nearshore Co", "country": "MX", "status": "active", "risk_tier": "low", "notes": TOO_LONG}
    response = client.post(reverse("vendors:vendor_add"), data)
    assert "notes" in response.context["form"].errors
    assert not Vendor.objects.exists()


def test_the_note_on_a_figure_is_capped_in_the_entry_form(client, owner, contract):
    sla = SLAFactory(contract=contract)
    client.force_login(owner)
    response = client.post(
        reverse("contracts:kpi_entry", args=[contract.pk]),
        {"period": "2026-01", f"value_{sla.pk}": "90", f"note_{sla.pk}": "n" * (SHORT_TEXT_MAX_LENGTH + 1)},
    )
    assert response.status_code == 200
    assert "at most 2000 characters" in response.context["form"].errors[f"note_{sla.pk}"][0]
    assert not Measurement.objects.exists()


def test_breach_notes_and_reason_are_capped(client, owner, contract):
    breach = BreachFactory(sla=SLAFactory(contract=contract), notes="")
    client.force_login(owner)
    url = reverse("kpis:breach_edit", args=[breach.pk])
    response = client.post(url, {"status": "open", "notes": TOO_LONG})
    assert "at most 10000 characters" in response.context["form"].errors["notes"][0]
    response = client.post(url, {"status": "waived", "notes": "n" * 9_990, "reason": "agreed in the QBR"})
    assert response.context["form"].errors["reason"] == [
        "With this reason the notes would pass 10,000 characters: shorten the reason or the notes."
    ]
    breach.refresh_from_db()
    assert (breach.status, breach.notes) == ("open", "")


def test_the_admin_caps_the_kpi_description(admin_user):
    request = RequestFactory().get("/")
    request.user = admin_user
    kpi = KPI.objects.get(code="csat")
    form_class = admin.site._registry[KPI].get_form(request, kpi)
    data = {
        "code": kpi.code,
        "name": kpi.name,
        "unit": kpi.unit,
        "direction": kpi.direction,
        "description": TOO_LONG,
        "service_types": "[]",
    }
    form = form_class(data=data, instance=kpi)
    assert not form.is_valid()
    assert "description" in form.errors


@pytest.mark.parametrize(
    ("make", "field", "length"),
    [
        (lambda contract: contract, "notes", LONG_TEXT_MAX_LENGTH),
        (lambda contract: contract.vendor, "notes", LONG_TEXT_MAX_LENGTH),
        (lambda contract: KPI.objects.get(code="csat"), "description", LONG_TEXT_MAX_LENGTH),
        (
            lambda contract: MeasurementFactory(
                sla=SLAFactory(contract=contract), period_start=datetime.date(2026, 1, 1)
            ),
            "note",
            SHORT_TEXT_MAX_LENGTH,
        ),
    ],
)
def test_the_database_refuses_text_over_the_cap(contract, make, field, length):
    row = make(contract)
    type(row).objects.filter(pk=row.pk).update(**{field: "z" * length})  # at the cap: fine
    with pytest.raises(IntegrityError), transaction.atomic():
        type(row).objects.filter(pk=row.pk).update(**{field: "z" * (length + 1)})


def test_breach_notes_have_no_database_cap_the_engine_would_meet():
    assert not [c for c in Breach._meta.constraints if "notes" in c.name]
