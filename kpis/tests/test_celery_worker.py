"""End to end: a real Celery worker process (Redis broker, the test database) runs the checks."""

import datetime
import os
from decimal import Decimal

import pytest
from django.db import connection

from contracts.tasks import check_replacement_obligations
from kpis.models import Breach, Measurement
from kpis.tasks import detect_breaches
from tests.factories import ContractFactory, SLAFactory, StaffMemberFactory
from tests.workers import celery_worker, redis_available, wait_for

pytestmark = [
    pytest.mark.celery,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the worker shares the PostgreSQL test database"),
]


# This test's own Redis database (not the suite's default 15), shared by this process and the worker.
BROKER_URL = os.environ.get("SLA_ENGINE_E2E_BROKER_URL", "redis://127.0.0.1:6379/11")


@pytest.fixture
def worker(tmp_path):
    if not redis_available(BROKER_URL):
        pytest.skip(f"Redis broker not reachable at {BROKER_URL}")
    with celery_worker(BROKER_URL, tmp_path) as running:
        yield running


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_runs_the_checks_and_records_breaches(worker):
    queue, process, log = worker
    contract = ContractFactory(start_date=datetime.date(2026, 1, 1))
    sla = SLAFactory(contract=contract, effective_from=contract.start_date)
    figure = Measurement.objects.create(sla=sla, period_start=contract.start_date, value=Decimal("60"))
    StaffMemberFactory(
        contract=contract, left_on=datetime.date(2026, 3, 2), leave_reason="voluntary"
    )  # replacement long overdue

    from config.celery import app

    with app.connection_for_write(BROKER_URL) as broker:
        detect_breaches.apply_async(kwargs={"sla_ids": [sla.pk]}, queue=queue, connection=broker)
        check_replacement_obligations.apply_async(queue=queue, connection=broker)

    wait_for(
        lambda: (
            Breach.objects.filter(kind="performance").exists() and Breach.objects.filter(kind="replacement").exists()
        ),
        process,
        log,
    )
    breach = Breach.objects.get(kind="performance")
    assert (breach.measurement_id, breach.severity, breach.service_credit) == (figure.pk, "major", Decimal("2000.00"))
    assert Breach.objects.get(kind="replacement").status == "open"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_runs_the_checks_owed_after_a_change(worker):
    """A figure saved writes its check to the outbox in its own transaction; the worker's
    ``run_pending_checks`` (queued after commit, or by the every-minute sweep) records the breach and
    empties the outbox; the report summaries of the contract follow."""
    from config.celery import app
    from kpis.models import PendingCheck
    from kpis.tasks import run_pending_checks
    from reports.models import ContractMonth

    queue, process, log = worker
    contract = ContractFactory(start_date=datetime.date(2026, 1, 1))
    sla = SLAFactory(contract=contract, effective_from=contract.start_date)
    PendingCheck.objects.all().delete()
    Measurement.objects.create(sla=sla, period_start=contract.start_date, value=Decimal("60"))
    assert list(PendingCheck.objects.values_list("kind", "sla_id")) == [("figure", sla.pk)]

    with app.connection_for_write(BROKER_URL) as broker:
        run_pending_checks.apply_async(queue=queue, connection=broker)

    wait_for(lambda: Breach.objects.filter(kind="performance").exists(), process, log)
    wait_for(lambda: not PendingCheck.objects.exists(), process, log)
    assert Breach.objects.get(kind="performance").service_credit == Decimal("2000.00")
    wait_for(lambda: ContractMonth.objects.filter(contract=contract, breaches__gt=0).exists(), process, log)
