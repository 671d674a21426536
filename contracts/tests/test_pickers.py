"""Pickers offer only what fits: the replacement for a departure, the KPI of an SLA, the delivery centre."""

import datetime
import re

import pytest
from django.urls import reverse

from contracts.forms import ContractForm, ObligationForm, SLAForm
from contracts.models import ReplacementObligation
from kpis.models import KPI, SLA
from tests.factories import ContractFactory, StaffMemberFactory, VendorFactory

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def departure(contract):
    """Ana left on 1 Mar 2026; who could replace her?"""
    ana = StaffMemberFactory(contract=contract, full_name="Ana Left", joined_on=D(2025, 1, 1), left_on=D(2026, 3, 1))
    obligation = ReplacementObligation.objects.create(departed=ana, due_on=D(2026, 3, 31))
    people = {
        "joined_after": StaffMemberFactory(contract=contract, full_name="Ben Newjoiner", joined_on=D(2026, 3, 9)),
        "joined_that_day": StaffMemberFactory(contract=contract, full_name="Cy Sameday", joined_on=D(2026, 3, 1)),
        "joined_before": StaffMemberFactory(contract=contract, full_name="Dee Veteran", joined_on=D(2025, 6, 1)),
        "left_too": StaffMemberFactory(
            contract=contract, full_name="Eve Gone", joined_on=D(2026, 3, 10), left_on=D(2026, 5, 1)
        ),
        "other_contract": StaffMemberFactory(full_name="Fay Elsewhere", joined_on=D(2026, 3, 10)),
    }
    return obligation, people


def offered(field):
    return [label for value, label in field.choices if value != ""]


def test_replacement_picker_offers_only_joiners_since_the_departure_still_on_the_contract(departure):
    obligation, _people = departure
    form = ObligationForm(instance=obligation)
    names = [label.split(" (")[0] for label in offered(form.fields["replacement"])]
    assert names == ["Cy Sameday", "Ben Newjoiner"]  # by joining date
    assert "joined on or after 2026-03-01 and have not left" in form.fields["replacement"].help_text


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("joined_before", "Dee Veteran joined on 2025-06-01, before Ana Left left on 2026-03-01"),
        ("left_too", "Eve Gone left on 2026-05-01: choose someone still on the contract."),
        ("other_contract", "Select a valid choice"),
    ],
)
def test_a_replacement_that_does_not_fit_is_refused_with_the_reason(client, owner, departure, who, message):
    obligation, people = departure
    client.force_login(owner)
    url = reverse("staff:obligation_edit", args=[obligation.departed_id])
    response = client.post(url, {"candidate_provided_on": "2026-03-20", "replacement": people[who].pk})
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["replacement"])
    obligation.refresh_from_db()
    assert obligation.replacement_id is None and obligation.candidate_provided_on is None


def test_a_fitting_replacement_is_recorded(client, owner, departure):
    obligation, people = departure
    client.force_login(owner)
    url = reverse("staff:obligation_edit", args=[obligation.departed_id])
    response = client.post(url, {"candidate_provided_on": "2026-03-05", "replacement": people["joined_after"].pk})
    assert response.status_code == 302
    obligation.refresh_from_db()
    assert obligation.replacement == people["joined_after"]


def test_a_replacement_recorded_earlier_stays_offered_after_they_leave(departure):
    obligation, people = departure
    ReplacementObligation.objects.filter(pk=obligation.pk).update(replacement=people["left_too"])
    obligation.refresh_from_db()
    form = ObligationForm(instance=obligation)
    assert offered(form.fields["replacement"])[0].startswith("Eve Gone")
    form = ObligationForm(
        {"replacement": people["left_too"].pk, "candidate_provided_on": "2026-03-05"}, instance=obligation
    )
    assert form.is_valid(), form.errors  # unchanged: not refused


def test_sla_form_offers_the_kpis_of_the_contracts_service_type_first(contract):
    contract.service_type = "back_office"
    form = SLAForm(instance=SLA(contract=contract))
    choices = form.fields["kpi"].choices
    assert choices[0][0] == ""
    (suited_label, suited), (other_label, others) = choices[1], choices[2]
    assert (suited_label, other_label) == ("Back office KPIs", "Other KPIs")
    suited_codes = set(KPI.objects.filter(pk__in=[pk for pk, _ in suited]).values_list("code", flat=True))
    other_codes = set(KPI.objects.filter(pk__in=[pk for pk, _ in others]).values_list("code", flat=True))
    assert {"accuracy", "backlog", "turnaround_time"} <= suited_codes
    assert {"average_handle_time", "service_level", "abandonment_rate"} <= other_codes
    assert not suited_codes & other_codes and len(suited_codes | other_codes) == KPI.objects.count()


def test_sla_page_renders_the_optgroups_and_accepts_an_other_kpi(client, owner, contract):
    client.force_login(owner)
    url = reverse("contracts:sla_add", args=[contract.pk])
    html = client.get(url).text
    assert re.search(r'<optgroup label="Front office KPIs">.*Service level.*</optgroup>', html, re.S)
    assert '<optgroup label="Other KPIs">' in html
    accuracy = KPI.objects.get(code="accuracy")  # back office: under "Other KPIs", still allowed
    response = client.post(
        url,
        {
            "kpi": accuracy.pk,
            "expected": "99",
            "minimum": "98",
            "frequency": "monthly",
            "credit_allocation_percent": "10",
            "effective_from": "2025-01-01",
            "active": "on",
        },
    )
    assert response.status_code == 302
    assert SLA.objects.get(contract=contract).kpi == accuracy


def test_delivery_centres_with_the_same_name_are_told_apart_by_vendor(admin_user):
    for vendor_name in ("Bayani Contact Solutions", "Visayas Outsourcing"):
        VendorFactory(name=vendor_name).delivery_centers.create(
            name="Cebu IT Park", city="Cebu City", country="PH", timezone="Asia/Manila", seats=100
        )
    form = ContractForm(instance=ContractFactory.build(), user=admin_user)
    labels = offered(form.fields["delivery_center"])
    assert "Bayani Contact Solutions · Cebu IT Park (Cebu City, PH)" in labels
    assert "Visayas Outsourcing · Cebu IT Park (Cebu City, PH)" in labels
    assert len(labels) == len(set(labels))


def test_contract_form_has_no_inline_script(client, owner):
    client.force_login(owner)
    html = client.get(reverse("contracts:contract_add")).text
    assert "js/contract_form.js" in html
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag  # data, not code: allowed by a CSP
