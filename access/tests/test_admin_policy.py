"""The admin site asks the policy: bulk actions act only on the rows the user may change, a save may not
move an object outside what the user may change, inlines follow the parent, created_by is recorded."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from kpis.models import Breach
from tests.factories import BreachFactory, ContractFactory, SLAFactory, UserFactory
from vendors.models import Vendor

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_owner(owner):
    owner.is_staff = True
    owner.save(update_fields=["is_staff"])
    return owner


def test_a_bulk_action_skips_the_rows_the_user_may_not_change(client, staff_owner, contract):
    mine = BreachFactory(sla=SLAFactory(contract=contract))
    theirs = BreachFactory(sla=SLAFactory(contract=ContractFactory(owner=UserFactory(role="manager"))))
    client.force_login(staff_owner)
    response = client.post(
        reverse("admin:kpis_breach_changelist"),
        {"action": "acknowledge", ACTION_CHECKBOX_NAME: [mine.pk, theirs.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert Breach.objects.get(pk=mine.pk).status == "acknowledged"
    assert Breach.objects.get(pk=theirs.pk).status == "open"
    text = response.content.decode()
    assert "1 of the selected breaches skipped: you may not change them." in text
    assert "Acknowledged 1 breach(es)." in text


def test_a_manager_may_not_hand_their_sla_to_someone_elses_contract(client, staff_owner, contract):
    sla = SLAFactory(contract=contract)
    other = ContractFactory(owner=UserFactory(role="manager"))
    client.force_login(staff_owner)
    url = reverse("admin:kpis_sla_change", args=[sla.pk])
    form = client.get(url).context["adminform"].form
    assert other not in form.fields["contract"].queryset and contract in form.fields["contract"].queryset


def test_a_manager_may_not_create_a_contract_for_someone_else_in_the_admin(client, staff_owner, contract):
    """The contract form's owner field is open in the admin; a save that leaves the contract outside
    what the manager may change is refused and rolled back."""
    from contracts.admin import ContractAdmin
    from contracts.models import Contract

    client.force_login(staff_owner)
    assert client.get(reverse("admin:contracts_contract_add")).status_code == 200
    someone = UserFactory(role="manager")
    request = type("R", (), {"user": staff_owner})()
    model_admin = ContractAdmin(Contract, None)
    contract.owner = someone
    with pytest.raises(PermissionDenied, match="outside what you may change"):
        model_admin.save_related(request, type("F", (), {"instance": contract})(), [], True)


def test_the_admin_records_who_added_a_vendor(client, staff_owner):
    client.force_login(staff_owner)
    response = client.post(
        reverse("admin:vendors_vendor_add"),
        {
            "name": "Added in admin",
            "country": "PH",
            "status": "active",
            "risk_tier": "low",
            "delivery_centers-TOTAL_FORMS": "0",
            "delivery_centers-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    vendor = Vendor.objects.get(name="Added in admin")
    assert vendor.created_by == staff_owner
    # They added it and no contract exists yet: they may change it in the admin too.
    url = reverse("admin:vendors_vendor_change", args=[vendor.pk])
    assert client.get(url).context["has_change_permission"]


def test_inline_rows_follow_the_parent_contract(client, staff_owner, contract):
    theirs = ContractFactory(owner=UserFactory(role="manager"))
    client.force_login(staff_owner)
    mine_page = client.get(reverse("admin:contracts_contract_change", args=[contract.pk]))
    their_page = client.get(reverse("admin:contracts_contract_change", args=[theirs.pk]))
    assert mine_page.context["has_change_permission"] is True
    assert their_page.context["has_change_permission"] is False
    assert all(not f.has_change_permission for f in their_page.context["inline_admin_formsets"])
    assert all(f.has_change_permission for f in mine_page.context["inline_admin_formsets"])
