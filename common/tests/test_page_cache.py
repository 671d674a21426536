"""Cached page content is never stale: every committed write moves the data version the cache is keyed on."""

import re

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from common import data_version
from tests.factories import ContractFactory, VendorFactory
from vendors.models import Vendor

# Committed writes, as in production: each test's rows are flushed afterwards (and the seeded rows restored).
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def page(response):
    """The page without its CSRF tokens (a new one each request)."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def test_a_committed_write_moves_the_data_version():
    before = data_version.current()
    VendorFactory()
    after_orm = data_version.current()
    with connection.cursor() as cursor:  # raw SQL too, even when it changes no row
        cursor.execute("UPDATE vendors_vendor SET name = name WHERE id < 0")
    assert before < after_orm < data_version.current()


def test_a_transaction_that_wrote_reads_no_version_and_a_rolled_back_one_moves_nothing():
    before = data_version.current()
    with transaction.atomic():
        VendorFactory()
        assert data_version.current() is None  # its own rows are not in any cached page
    assert data_version.current() > before
    committed = data_version.current()
    with pytest.raises(RuntimeError), transaction.atomic():
        VendorFactory()
        raise RuntimeError
    assert data_version.current() == committed


def test_migrate_moves_the_version():
    """A deploy runs ``migrate``: pages rendered by the code before it are not served after it."""
    before = data_version.current()
    data_version.install_triggers()
    assert data_version.current() > before


def test_sign_in_sessions_do_not_move_the_version():
    before = data_version.current()
    SessionStore().create()
    assert data_version.current() == before


def test_the_dashboard_shows_a_change_made_after_it_was_cached(client, admin_user):
    vendor = VendorFactory(name="Acme Outsourcing")
    ContractFactory(vendor=vendor)
    client.force_login(admin_user)
    url = reverse("dashboard:home") + "?scope=all"
    first = client.get(url)
    with CaptureQueriesContext(connection) as rendered:
        client.get(reverse("dashboard:home") + "?scope=all&x=1")
    with CaptureQueriesContext(connection) as cached:
        second = client.get(url)
    assert "Acme Outsourcing" in first.content.decode()
    assert page(second) == page(first)
    assert len(cached) < len(rendered) - 5  # served without the dashboard's queries

    Vendor.objects.filter(pk=vendor.pk).update(name="Zenith Services")
    third = client.get(url).content.decode()
    assert "Zenith Services" in third and "Acme Outsourcing" not in third


def test_a_list_shows_a_row_added_after_it_was_cached(client, admin_user):
    ContractFactory(reference="FIRST-1")
    client.force_login(admin_user)
    url = reverse("contracts:contract_list")
    assert "FIRST-1" in client.get(url).content.decode()
    assert "FIRST-1" in client.get(url).content.decode()  # from the cache
    ContractFactory(reference="SECOND-2")
    assert "SECOND-2" in client.get(url).content.decode()


def test_each_user_gets_their_own_page(client, admin_user, owner, teammate):
    ContractFactory(owner=owner, reference="MINE-1")
    ContractFactory(owner=teammate, reference="THEIRS-1", vendor=VendorFactory(name="Theirs Vendor"))
    url = reverse("dashboard:home")  # a manager's default scope is their own contracts, an admin's all
    client.force_login(owner)
    assert "Theirs Vendor" not in client.get(url).content.decode()
    client.force_login(admin_user)
    assert "Theirs Vendor" in client.get(url).content.decode()
    client.force_login(owner)
    assert "Theirs Vendor" not in client.get(url).content.decode()


def test_downloads_are_not_cached(client, admin_user):
    ContractFactory(reference="FIRST-1")
    client.force_login(admin_user)
    url = reverse("contracts:contract_list") + "?_export=csv"
    client.get(url)
    response = client.get(url)
    assert response["Content-Type"].startswith("text/csv")
    assert "FIRST-1" in b"".join(response.streaming_content).decode()
