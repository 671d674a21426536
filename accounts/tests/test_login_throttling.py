"""Login throttling (django-axes): a user name, and separately a client address, is refused for 15 minutes
after 10 failed sign-ins, on the app's login page and the admin's, with the same words whether or not the
user exists; an admin lifts a lock from the admin site."""

import datetime
import re

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.utils import timezone

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN_PAGES = ["/accounts/login/", "/admin/login/"]
PASSWORD = "the-right-one-2026"
LOCKED = "Too many failed sign-in attempts"


@pytest.fixture
def admin(db):
    return UserFactory(username="admin", password=PASSWORD, is_superuser=True, is_staff=True)


def sign_in(client, page, username, password, ip="127.0.0.1"):
    return client.post(page, {"username": username, "password": password}, REMOTE_ADDR=ip)


def page_text(response):
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def signed_in(client):
    return "_auth_user_id" in client.session


def test_axes_is_on_in_the_suite():
    assert getattr(settings, "AXES_ENABLED", True)
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.AXES_FAILURE_LIMIT == 10
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60


@pytest.mark.parametrize("page", LOGIN_PAGES)
def test_thirty_wrong_passwords_then_the_right_one_is_refused(client, admin, page):
    statuses = [sign_in(client, page, "admin", f"guess-{n}").status_code for n in range(30)]
    assert statuses[:9] == [200] * 9  # the form again, with its error
    assert set(statuses[9:]) == {429}  # the 10th failure locks
    response = sign_in(client, page, "admin", PASSWORD)
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert not signed_in(client)
    assert client.get("/contracts/").status_code == 302  # still sent to the login page


def test_an_unknown_user_gets_the_same_answers(client, admin):
    known = [sign_in(client, "/accounts/login/", "admin", "x", ip="10.0.0.1") for _ in range(11)]
    unknown = [sign_in(client, "/accounts/login/", "ghost", "x", ip="10.0.0.2") for _ in range(11)]
    assert [r.status_code for r in known] == [r.status_code for r in unknown]
    assert page_text(known[0]).replace("admin", "ghost") == page_text(unknown[0])
    assert known[-1].content == unknown[-1].content  # the lockout page names neither
    assert LOCKED in unknown[-1].content.decode()


def test_an_address_is_locked_whatever_the_user_names(client, admin):
    for n in range(10):
        sign_in(client, "/accounts/login/", f"user{n}", "x", ip="10.0.0.9")
    assert sign_in(client, "/accounts/login/", "admin", PASSWORD, ip="10.0.0.9").status_code == 429
    assert not signed_in(client)
    assert sign_in(client, "/accounts/login/", "admin", PASSWORD, ip="10.0.0.10").status_code == 302
    assert signed_in(client)


def test_a_user_name_is_locked_whatever_the_address(client, admin):
    for n in range(10):
        sign_in(client, "/admin/login/", "admin", "x", ip=f"10.0.1.{n}")
    assert sign_in(client, "/accounts/login/", "admin", PASSWORD, ip="10.0.2.1").status_code == 429
    assert not signed_in(client)


def test_the_lock_lifts_after_fifteen_minutes(client, admin):
    for _ in range(10):
        sign_in(client, "/accounts/login/", "admin", "x")
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=14), tick=False):
        assert sign_in(client, "/accounts/login/", "admin", PASSWORD).status_code == 429
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=30), tick=False):
        assert sign_in(client, "/accounts/login/", "admin", PASSWORD).status_code == 302
        assert signed_in(client)


def test_a_successful_sign_in_clears_the_count(client, admin):
    for _ in range(2):
        for _ in range(9):
            sign_in(client, "/accounts/login/", "admin", "x")
        assert sign_in(client, "/accounts/login/", "admin", PASSWORD).status_code == 302
        client.logout()


def test_an_admin_lifts_a_lock_from_the_admin_site(client, admin):
    locked_out = UserFactory(username="maria", password=PASSWORD, role="manager")
    for _ in range(10):
        sign_in(client, "/accounts/login/", "maria", "x", ip="10.0.3.1")
    assert sign_in(client, "/accounts/login/", "maria", PASSWORD, ip="10.0.3.1").status_code == 429

    from django.test import Client

    admin_client = Client()
    admin_client.force_login(admin)
    listing = admin_client.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200 and "maria" in listing.content.decode()
    attempt = AccessAttempt.objects.get(username="maria")
    response = admin_client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302

    assert sign_in(client, "/accounts/login/", "maria", PASSWORD, ip="10.0.3.1").status_code == 302
    assert client.session["_auth_user_id"] == str(locked_out.pk)


def test_behind_a_proxy_the_forwarded_address_counts(client, admin, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(10):
        client.post(
            "/accounts/login/",
            {"username": f"user{n}", "password": "x"},
            REMOTE_ADDR="192.0.2.1",  # the proxy
            HTTP_X_FORWARDED_FOR=f"spoofed-{n}, 198.51.100.7",
        )
    # Another client behind the same proxy still signs in; the one that failed does not.
    ok = client.post(
        "/accounts/login/", {"username": "admin", "password": PASSWORD}, REMOTE_ADDR="192.0.2.1",
        HTTP_X_FORWARDED_FOR="198.51.100.8",
    )  # fmt: skip
    assert ok.status_code == 302
    client.logout()
    refused = client.post(
        "/accounts/login/", {"username": "admin", "password": PASSWORD}, REMOTE_ADDR="192.0.2.1",
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )  # fmt: skip
    assert refused.status_code == 429
