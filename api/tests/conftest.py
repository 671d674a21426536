import datetime

import pytest
import time_machine
from rest_framework.test import APIClient

from api.models import ApiKey
from tests.factories import ContractFactory, SLAFactory, VendorFactory

D = datetime.date


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 11, 30, 12, 0, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture(autouse=True)
def _no_throttle_carry_over(settings):
    from django.core.cache import cache

    cache.clear()
    settings.API_THROTTLE_RATE = "10000/min"


@pytest.fixture
def vendor(db):
    return VendorFactory(name="Acme BPO")


@pytest.fixture
def other_vendor(db):
    return VendorFactory(name="Other BPO")


@pytest.fixture
def contract(owner, vendor):
    return ContractFactory(
        owner=owner, vendor=vendor, reference="CX-1", start_date=D(2025, 1, 1), end_date=D(2028, 3, 31)
    )


@pytest.fixture
def other_contract(teammate, other_vendor):
    return ContractFactory(owner=teammate, vendor=other_vendor, reference="CX-2", start_date=D(2025, 1, 1))


@pytest.fixture
def sla(contract):
    return SLAFactory(contract=contract, effective_from=contract.start_date)


@pytest.fixture
def other_sla(other_contract):
    return SLAFactory(contract=other_contract, effective_from=other_contract.start_date)


def client_for(raw):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def vendor_client(vendor):
    _key, raw = ApiKey.create_key(name="Acme WFM", vendor=vendor)
    return client_for(raw)


@pytest.fixture
def key_client():
    """``key_client(user)``: an API client with a new personal key of ``user``."""

    def make(user, **kwargs):
        _key, raw = ApiKey.create_key(name="test", user=user, **kwargs)
        return client_for(raw)

    return make
