"""Keys: hashed, shown once, expire, are revoked, record their last use, are throttled; 401 without one."""

import datetime

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from api.models import ApiKey, hash_key

from .conftest import client_for

pytestmark = pytest.mark.django_db


def test_key_is_stored_as_a_hash_only(owner):
    key, raw = ApiKey.create_key(name="k", user=owner)
    key.refresh_from_db()
    assert raw.startswith("sla_") and len(raw) > 40
    assert key.hashed_key == hash_key(raw) and raw not in (key.hashed_key, key.prefix)
    assert raw.startswith(key.prefix)


@pytest.mark.parametrize("header", [None, "Bearer nope", "Bearer", "Token abc", "Bearer a b"])
def test_requests_without_a_valid_key_are_401_json(client, header, contract):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get("/api/v1/contracts/", **extra)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_expired_key_is_401(owner, contract):
    key, raw = ApiKey.create_key(name="k", user=owner, expires_at=timezone.now() - datetime.timedelta(seconds=1))
    response = client_for(raw).get("/api/v1/contracts/")
    assert response.status_code == 401
    assert response.json() == {"detail": "This API key has expired."}


def test_revoked_key_is_401(vendor, contract):
    key, raw = ApiKey.create_key(name="k", vendor=vendor)
    assert client_for(raw).get("/api/v1/contracts/").status_code == 200
    key.revoke()
    response = client_for(raw).get("/api/v1/contracts/")
    assert response.status_code == 401
    assert response.json() == {"detail": "This API key has been revoked."}


def test_key_of_an_inactive_user_is_401(owner, contract):
    _key, raw = ApiKey.create_key(name="k", user=owner)
    owner.is_active = False
    owner.save()
    assert client_for(raw).get("/api/v1/contracts/").status_code == 401


def test_last_use_is_recorded_at_most_once_a_minute(owner, contract, django_assert_num_queries):
    key, raw = ApiKey.create_key(name="k", user=owner)
    client = client_for(raw)
    client.get("/api/v1/contracts/")
    key.refresh_from_db()
    first = key.last_used_at
    assert first == timezone.now()
    with time_machine.travel(first + datetime.timedelta(seconds=30), tick=False):
        client.get("/api/v1/contracts/")
    key.refresh_from_db()
    assert key.last_used_at == first
    with time_machine.travel(first + datetime.timedelta(seconds=61), tick=False):
        client.get("/api/v1/contracts/")
    key.refresh_from_db()
    assert key.last_used_at == first + datetime.timedelta(seconds=61)


def test_requests_are_throttled_per_key_with_retry_after(settings, owner, vendor, contract):
    settings.API_THROTTLE_RATE = "3/min"
    _k, raw = ApiKey.create_key(name="a", user=owner)
    _k, other = ApiKey.create_key(name="b", vendor=vendor)
    client = client_for(raw)
    assert [client.get("/api/v1/contracts/").status_code for _ in range(3)] == [200, 200, 200]
    response = client.get("/api/v1/contracts/")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "detail" in response.json()
    assert client_for(other).get("/api/v1/contracts/").status_code == 200  # another key: its own budget


def test_create_api_key_prints_the_key_on_its_last_line(capsys, owner, vendor, contract):
    call_command("create_api_key", "--user", owner.username)
    personal = capsys.readouterr().out.strip().splitlines()[-1]
    call_command("create_api_key", "--vendor", str(vendor.pk), "--name", "Acme WFM")
    vendor_key = capsys.readouterr().out.strip().splitlines()[-1]
    assert ApiKey.objects.get(hashed_key=hash_key(personal)).user == owner
    assert ApiKey.objects.get(hashed_key=hash_key(vendor_key)).vendor == vendor
    assert client_for(vendor_key).get("/api/v1/contracts/").status_code == 200


def test_admin_creates_a_key_and_sees_it_once(client, admin_user, vendor):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:api_apikey_add"), {"name": "Acme push", "kind": "vendor", "vendor": vendor.pk}, follow=True
    )
    assert response.status_code == 200
    key = ApiKey.objects.get(name="Acme push")
    shown = [str(m) for m in response.context["messages"]]
    assert any(key.prefix in m for m in shown)
    assert key.created_by == admin_user and key.kind == "vendor"
    page = client.get(reverse("admin:api_apikey_change", args=[key.pk])).content.decode()
    assert key.hashed_key not in page


def test_admin_revokes_keys(client, admin_user, vendor):
    key, _raw = ApiKey.create_key(name="k", vendor=vendor)
    client.force_login(admin_user)
    client.post(reverse("admin:api_apikey_changelist"), {"action": "revoke_keys", "_selected_action": [key.pk]})
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_only_admins_manage_keys_in_the_admin(client, owner):
    owner.is_staff = True
    owner.save()
    client.force_login(owner)
    assert client.get(reverse("admin:api_apikey_changelist")).status_code == 403


def test_manager_creates_and_revokes_their_own_personal_key(client, owner, teammate, contract):
    client.force_login(owner)
    response = client.post("/accounts/keys/", {"name": "my script"})
    assert response.status_code == 200
    raw = response.context["new_key"]
    key = ApiKey.objects.get(hashed_key=hash_key(raw))
    assert key.user == owner and key.kind == "personal"
    assert client_for(raw).get("/api/v1/contracts/").status_code == 200
    assert raw not in client.get("/accounts/keys/").content.decode()  # shown once
    # Another manager cannot revoke it.
    other = client.__class__()
    other.force_login(teammate)
    assert other.post("/accounts/keys/", {"revoke": key.pk}).status_code == 404
    client.post("/accounts/keys/", {"revoke": key.pk})
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_viewer_has_no_key_page(client, viewer):
    client.force_login(viewer)
    assert client.get("/accounts/keys/").status_code == 403
