"""The one role check of the web app (common.permissions), as a table."""

import datetime

import pytest

from common.permissions import can_add, can_change, editable_contracts
from contracts.models import Contract, ReplacementObligation, StaffMember
from kpis.models import SLA, Measurement
from tests.factories import (
    BreachFactory,
    MeasurementFactory,
    ReplacementObligationFactory,
    SLAFactory,
    StaffMemberFactory,
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
    assert can_change(request.getfixturevalue(who), things[name]) is allowed


@pytest.mark.parametrize("who, allowed", list(zip(WHO, [True, True, True, False], strict=True)))
def test_managers_and_admins_create_contracts_and_vendors(request, who, allowed):
    user = request.getfixturevalue(who)
    assert can_add(user, Contract) is allowed
    assert can_add(user, Vendor) is allowed
    assert can_add(user, DeliveryCenter, VendorFactory()) is allowed
    assert can_change(user, VendorFactory()) is allowed


@pytest.mark.parametrize("who, allowed", list(zip(WHO, [True, True, False, False], strict=True)))
@pytest.mark.parametrize("model", [SLA, Measurement, StaffMember, ReplacementObligation])
def test_adding_under_a_contract_follows_its_owner(request, contract, who, allowed, model):
    assert can_add(request.getfixturevalue(who), model, contract) is allowed


def test_editable_contracts(owner, teammate, viewer, admin_user, contract):
    assert list(editable_contracts(owner)) == [contract]
    assert list(editable_contracts(teammate)) == []
    assert list(editable_contracts(viewer)) == []
    assert list(editable_contracts(admin_user)) == [contract]


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
