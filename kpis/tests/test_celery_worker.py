"""End to end: a real Celery worker process (Redis broker, the test database) runs the checks."""

import datetime
import os
import signal
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection

from contracts.tasks import check_replacement_obligations
from kpis.models import Breach, Measurement
from kpis.tasks import detect_breaches
from tests.factories import ContractFactory, SLAFactory, StaffMemberFactory
from tests.processes import database_url

BASE_DIR = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.celery,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the worker shares the PostgreSQL test database"),
]


def redis_available(url):
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
        return True
    except Exception:  # noqa: BLE001
        return False


# This test's own Redis database (not the suite's default 15), shared by this process and the worker.
BROKER_URL = os.environ.get("SLA_ENGINE_E2E_BROKER_URL", "redis://127.0.0.1:6379/11")


@pytest.fixture
def worker(tmp_path):
    broker = BROKER_URL
    if not redis_available(broker):
        pytest.skip(f"Redis broker not reachable at {broker}")
    queue = f"e2e-{uuid.uuid4().hex[:8]}"  # our own queue: no other worker takes our tasks
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url(),  # the *test* database this test writes to
        "CELERY_BROKER_URL": broker,
        "DATA_DIR": str(tmp_path),
        "CONN_MAX_AGE": "0",
    }
    log = open(tmp_path / "worker.log", "w+")  # noqa: SIM115
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "config", "worker", "--pool", "solo", "-Q", queue,
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO"],
        cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        yield queue, process, log
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
        import redis

        client = redis.Redis.from_url(broker)
        client.delete(queue, *client.keys(f"*{queue}*"))


def wait_for(predicate, process, log, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if process.poll() is not None:
            break
        time.sleep(0.5)
    log.seek(0)
    pytest.fail("The worker did not produce the expected rows. Worker log:\n" + log.read()[-5000:])


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
