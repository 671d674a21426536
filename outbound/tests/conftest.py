import datetime
from decimal import Decimal

import pytest

from outbound.tests.receiver import start_receiver
from tests.factories import ContractFactory, SLAFactory, UserFactory

TODAY = datetime.date(2026, 11, 20)
OCTOBER = datetime.date(2026, 10, 1)


@pytest.fixture
def receiver():
    receiver, server = start_receiver()
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def manager(db):
    return UserFactory(username="dana", role="manager", email="dana@example.com")


@pytest.fixture
def monthly_sla(manager):
    """Service level ≥ 80 expected, 75 minimum, on a contract that started in October 2026 (fee 100,000, 10 %
    at risk, 20 % of it on this SLA: a major breach owes USD 2,000.00)."""
    contract = ContractFactory(owner=manager, start_date=OCTOBER, reference="CX-2026-001", title="Voice support")
    return SLAFactory(contract=contract, effective_from=OCTOBER, expected=Decimal("80"), minimum=Decimal("75"))
