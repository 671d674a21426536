"""Who may use the admin site (DESIGN: admins — superusers or the “SLA admins” group)."""

from django.urls import reverse

from tests.factories import UserFactory


def test_sla_admins_group_member_uses_the_admin_site_without_staff_flag(client, db):
    user = UserFactory(username="group-admin", role="admin")
    assert not user.is_staff
    client.force_login(user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert reverse("reports:index") in response.content.decode()
    assert client.get(reverse("admin:contracts_contract_changelist")).status_code == 200


def test_sla_admin_can_sign_in_on_the_admin_login_page(client, db):
    UserFactory(username="group-admin", role="admin")
    response = client.post(
        reverse("admin:login"), {"username": "group-admin", "password": "pass", "next": reverse("admin:index")}
    )
    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def test_viewer_and_manager_are_kept_out_of_the_admin_site(client, db):
    for role in ("viewer", "manager"):
        client.force_login(UserFactory(username=f"{role}-x", role=role))
        response = client.get(reverse("admin:index"))
        assert response.status_code == 302 and reverse("admin:login") in response["Location"]
