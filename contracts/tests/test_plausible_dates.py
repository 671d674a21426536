"""Dates nobody can have meant (0026-01-01 for 2026, 9999-12-01) are refused next to their field in the
app's forms and the admin, and dates before 2000 by the database too."""

import datetime

import pytest
import time_machine
from django.contrib import admin
from django.db import IntegrityError, transaction
from django.test import RequestFactory
from django.urls import reverse

from common.validators import latest_plausible_date, plausible_date_error
from contracts.models import Contract, ReplacementObligation, StaffMember
from contracts.tests.test_slas import sla_data
from contracts.tests.test_views import contract_data
from kpis.models import SLA, Measurement
from tests.factories import MeasurementFactory, SLAFactory, StaffMemberFactory, VendorFactory

pytestmark = pytest.mark.django_db
D = datetime.date
TYPO = "0026-01-01"
TOO_LATE = "2036-12-01"  # today (frozen) is 2026-11-30: ten years on is 2036-11-30
EXPECTED_TYPO = "0026-01-01 is not a plausible date: enter one between 2000-01-01 and 2036-11-30 (check the year)."


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 11, 30, 12, 0, tzinfo=datetime.UTC), tick=False):
        yield


def test_the_window_runs_from_2000_to_ten_years_after_today():
    assert plausible_date_error(D(2000, 1, 1)) is None
    assert plausible_date_error(D(2036, 11, 30)) is None
    assert plausible_date_error(D(1999, 12, 31)) is not None
    assert plausible_date_error(D(2036, 12, 1)) is not None
    assert plausible_date_error(D(26, 1, 1)) == EXPECTED_TYPO
    assert latest_plausible_date(D(2028, 2, 29)) == D(2038, 2, 28)


@pytest.mark.parametrize(("field", "value"), [("start_date", TYPO), ("end_date", TOO_LATE)])
def test_contract_form_refuses_an_implausible_date_next_to_the_field(client, owner, field, value):
    client.force_login(owner)
    response = client.post(reverse("contracts:contract_add"), contract_data(VendorFactory(), **{field: value}))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert "is not a plausible date" in errors[field][0]
    assert "is-invalid" in response.text
    assert not Contract.objects.exists()


def test_the_typo_of_the_issue_gets_its_message(client, owner):
    client.force_login(owner)
    response = client.post(reverse("contracts:contract_add"), contract_data(VendorFactory(), start_date=TYPO))
    assert response.context["form"].errors["start_date"] == [EXPECTED_TYPO]


@pytest.mark.parametrize(("field", "value"), [("effective_from", TYPO), ("effective_to", "9999-12-31")])
def test_sla_form_refuses_an_implausible_date(client, owner, contract, field, value):
    client.force_login(owner)
    response = client.post(reverse("contracts:sla_add", args=[contract.pk]), sla_data(**{field: value}))
    assert response.status_code == 200
    assert "is not a plausible date" in response.context["form"].errors[field][0]
    assert not SLA.objects.exists()


def test_staff_joined_and_left_dates_are_checked(client, owner, contract):
    client.force_login(owner)
    response = client.post(
        reverse("staff:staff_add"),
        {"contract": contract.pk, "employee_ref": "E1", "full_name": "Ana Reyes", "joined_on": "1926-01-05"},
    )
    assert "is not a plausible date" in response.context["form"].errors["joined_on"][0]
    assert not StaffMember.objects.exists()
    member = StaffMemberFactory(contract=contract, joined_on=D(2025, 1, 1))
    response = client.post(
        reverse("staff:staff_departure", args=[member.pk]), {"left_on": "20260-03-10", "leave_reason": "voluntary"}
    )
    assert response.status_code == 200
    assert "left_on" in response.context["form"].errors
    response = client.post(
        reverse("staff:staff_departure", args=[member.pk]), {"left_on": "2206-03-10", "leave_reason": "voluntary"}
    )
    assert "is not a plausible date" in response.context["form"].errors["left_on"][0]
    member.refresh_from_db()
    assert member.left_on is None
    assert not ReplacementObligation.objects.exists()


def test_replacement_dates_are_checked(client, owner, contract):
    member = StaffMemberFactory(contract=contract, left_on=D(2026, 3, 1), leave_reason="voluntary")
    ReplacementObligation.objects.create(departed=member, due_on=D(2026, 3, 31))
    client.force_login(owner)
    response = client.post(reverse("staff:obligation_edit", args=[member.pk]), {"candidate_provided_on": "9026-03-20"})
    assert "is not a plausible date" in response.context["form"].errors["candidate_provided_on"][0]
    assert ReplacementObligation.objects.get().candidate_provided_on is None


def admin_form(model, user):
    request = RequestFactory().get("/")
    request.user = user
    return admin.site._registry[model].get_form(request)


def test_admin_contract_form_refuses_the_typo(admin_user, owner):
    data = contract_data(VendorFactory(), start_date=TYPO, owner=owner.pk)
    form = admin_form(Contract, admin_user)(data=data)
    assert not form.is_valid()
    assert form.errors["start_date"] == [EXPECTED_TYPO]


def test_admin_measurement_form_refuses_a_period_in_year_9999(admin_user, contract):
    weekly = SLAFactory(contract=contract, frequency="weekly")
    form = admin_form(Measurement, admin_user)(
        data={"sla": weekly.pk, "period_start": "9999-12-27", "value": "90", "source": "manual"}
    )
    assert not form.is_valid()  # and no OverflowError working out the week's end in 10000
    assert "is not a plausible date" in form.errors["period_start"][0]


@pytest.mark.parametrize(
    ("factory", "field"),
    [
        (lambda contract: contract, "start_date"),
        (lambda contract: SLAFactory(contract=contract), "effective_from"),
        (lambda contract: StaffMemberFactory(contract=contract), "joined_on"),
        (
            lambda contract: MeasurementFactory(sla=SLAFactory(contract=contract), period_start=D(2026, 1, 1)),
            "period_start",
        ),
    ],
)
def test_the_database_refuses_dates_before_2000(contract, factory, field):
    row = factory(contract)
    with pytest.raises(IntegrityError), transaction.atomic():
        type(row).objects.filter(pk=row.pk).update(**{field: D(26, 1, 1)})
