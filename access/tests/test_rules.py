"""The access policy (access/rules.py), as tables: every role against every kind of object."""

import datetime

import pytest

from access.permissions import can_add, can_change
from access.rules import contract_of
from common.policy import perm_name
from contracts.models import Contract, ExchangeRate, ReplacementObligation, StaffMember
from kpis.models import KPI, SLA, Breach, Measurement
from tests.factories import (
    BreachFactory,
    ContractFactory,
    DeliveryCenterFactory,
    MeasurementFactory,
    ReplacementObligationFactory,
    SLAFactory,
    StaffMemberFactory,
    UserFactory,
    VendorFactory,
)
from vendors.models import DeliveryCenter, Vendor

pytestmark = pytest.mark.django_db

WHO = ["admin_user", "owner", "teammate", "viewer"]


@pytest.fixture
def things(contract):
    sla = SLAFactory(contract=contract)
    member = StaffMemberFactory(contract=contract)
    return {
        "contract": contract,
        "sla": sla,
        "measurement": MeasurementFactory(sla=sla),
        "staff": member,
        "obligation": ReplacementObligationFactory(
            departed=StaffMemberFactory(contract=contract, left_on=datetime.date(2026, 3, 1), leave_reason="other")
        ),
        "breach": BreachFactory(sla=sla, contract=contract),
    }


@pytest.mark.parametrize("who, allowed", list(zip(WHO, [True, True, False, False], strict=True)))
@pytest.mark.parametrize("name", ["contract", "sla", "measurement", "staff", "obligation", "breach"])
def test_only_admin_and_owner_change_a_contract_and_what_hangs_off_it(request, things, who, allowed, name):
    user, obj = request.getfixturevalue(who), things[name]
    assert user.has_perm(perm_name(type(obj), "change"), obj) is allowed
    assert can_change(user, obj) is allowed
    assert (obj in type(obj).objects.restrict(user, "change")) is allowed


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("name", ["contract", "sla", "measurement", "staff", "obligation", "breach"])
def test_everyone_reads_and_only_admins_delete(request, things, who, name):
    user, obj = request.getfixturevalue(who), things[name]
    assert user.has_perm(perm_name(type(obj), "view"), obj)
    assert user.has_perm(perm_name(type(obj), "delete"), obj) is (who == "admin_user")
    assert (obj in type(obj).objects.restrict(user, "delete")) is (who == "admin_user")


@pytest.mark.parametrize("name", ["sla", "measurement", "obligation"])
def test_the_contract_an_object_hangs_off(things, name):
    assert contract_of(things[name]) == things["contract"]
    assert contract_of(VendorFactory()) is None


@pytest.mark.parametrize("who, allowed", list(zip(WHO, [True, True, True, False], strict=True)))
def test_managers_and_admins_create_contracts_and_vendors(request, who, allowed):
    user = request.getfixturevalue(who)
    assert can_add(user, Contract) is allowed
    assert can_add(user, Vendor) is allowed
    assert user.has_perm("contracts.add_staffmember") is allowed  # the form limits the contract offered


@pytest.mark.parametrize("who, allowed", list(zip(WHO, [True, True, False, False], strict=True)))
@pytest.mark.parametrize("model", [SLA, Measurement, StaffMember, ReplacementObligation])
def test_adding_under_a_contract_follows_its_owner(request, contract, who, allowed, model):
    assert can_add(request.getfixturevalue(who), model, contract) is allowed


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("model", [KPI, ExchangeRate, Breach])
def test_only_admins_write_reference_data_and_nobody_else_adds_breaches(request, who, model):
    user = request.getfixturevalue(who)
    assert user.has_perm(perm_name(model, "add")) is (who == "admin_user")
    assert user.has_perm(perm_name(model, "view")) is True


# --- vendors: DESIGN.md "a manager may add a vendor, and edit a vendor and its delivery centres only
# while they own a contract with it (or added it and no contract exists yet)" -----------------------
def _vendor_rights(user, vendor):
    centre = DeliveryCenterFactory(vendor=vendor)
    answers = {
        user.has_perm("vendors.change_vendor", vendor),
        user.has_perm("vendors.change_deliverycenter", centre),
        user.has_perm("vendors.add_deliverycenter", vendor),
        vendor in Vendor.objects.restrict(user, "change"),
        centre in DeliveryCenter.objects.restrict(user, "change"),
    }
    assert len(answers) == 1, "has_perm and restrict() disagree"
    return answers.pop()


def test_a_manager_edits_a_vendor_they_hold_a_contract_with(contract, owner, teammate, admin_user, viewer):
    vendor = contract.vendor
    assert _vendor_rights(owner, vendor) is True
    assert _vendor_rights(teammate, vendor) is False
    assert _vendor_rights(viewer, vendor) is False
    assert _vendor_rights(admin_user, vendor) is True


def test_a_manager_edits_the_vendor_they_added_until_someone_holds_a_contract_with_it(owner, teammate):
    vendor = VendorFactory(created_by=teammate)
    assert _vendor_rights(teammate, vendor) is True
    assert _vendor_rights(owner, vendor) is False
    ContractFactory(vendor=vendor, owner=owner)
    assert _vendor_rights(teammate, vendor) is False
    assert _vendor_rights(owner, vendor) is True


def test_nobody_but_admins_edits_a_vendor_nobody_added(teammate, admin_user):
    vendor = VendorFactory()
    assert _vendor_rights(teammate, vendor) is False
    assert _vendor_rights(admin_user, vendor) is True


def test_inactive_and_anonymous_users_have_no_rights(contract, owner):
    from django.contrib.auth.models import AnonymousUser

    owner.is_active = False
    assert not owner.has_perm("contracts.change_contract", contract)
    assert not AnonymousUser().has_perm("contracts.view_contract", contract)
    assert not Contract.objects.restrict(AnonymousUser(), "view").exists()


def test_a_staff_flag_gives_no_rights(contract):
    staff = UserFactory(username="staff_only", is_staff=True)
    assert not staff.has_perm("contracts.change_contract", contract)
    assert not staff.has_perm("contracts.change_contract")
    assert not staff.has_module_perms("contracts")


def test_login_and_logout(client, owner):
    response = client.post("/accounts/login/", {"username": "owner", "password": "pass"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_bad_login_shows_the_error(client, owner):
    response = client.post("/accounts/login/", {"username": "owner", "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.text
