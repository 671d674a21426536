"""End to end through a real Celery worker (Redis, the test database) and a local HTTP receiver: the engine
records a breach, its signal queues the dispatch, the delivery fails twice and lands on the third try —
three logged tries, one delivery — and running everything again sends nothing."""

import datetime
import os
import re
from decimal import Decimal

import pytest
from django.db import connection

from kpis.models import Measurement
from outbound import events
from outbound.models import Delivery, WebhookEndpoint
from outbound.tasks import deliver, dispatch_events
from tests.factories import ContractFactory, SLAFactory
from tests.workers import celery_worker, redis_available, wait_for

# This test's own Redis database, shared by this process and the worker.
BROKER_URL = os.environ.get("OUTBOUND_E2E_BROKER_URL", "redis://127.0.0.1:6379/2")
pytestmark = [
    pytest.mark.celery,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the worker shares the PostgreSQL test database"),
]


@pytest.fixture
def worker(tmp_path):
    if not redis_available(BROKER_URL):
        pytest.fail(f"Redis broker not reachable at {BROKER_URL}")
    # Every task the worker queues (the dispatch, each delivery, its retries) goes to its own queue; retries
    # wait 1 s, 2 s instead of 30 s, 60 s.
    env = {"CELERY_TASK_DEFAULT_QUEUE": "{queue}", "OUTBOUND_RETRY_BACKOFF_SECONDS": "1"}
    with celery_worker(BROKER_URL, tmp_path, prefix="outbound-e2e", **env) as running:
        yield running


def finished(log, task, result=""):
    """How many runs of ``outbound.tasks.<task>`` the worker logged as succeeded (with ``result``)."""
    log.seek(0)
    return len(re.findall(rf"outbound\.tasks\.{task}\[[\w-]+\] succeeded in [\d.]+s: {re.escape(result)}", log.read()))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_receiver_failing_twice_gets_exactly_one_delivery_after_three_logged_tries(worker, receiver):
    from config.celery import app
    from kpis.tasks import detect_breaches

    queue, process, log = worker
    receiver.plan = [500, 502]
    endpoint = WebhookEndpoint.objects.create(name="ITSM", url=receiver.url, events=["breach.recorded"])
    events.dispatch_events()  # the feed starts here
    contract = ContractFactory(start_date=datetime.date(2026, 10, 1))
    sla = SLAFactory(contract=contract, effective_from=contract.start_date)
    Measurement.objects.create(sla=sla, period_start=contract.start_date, value=Decimal("60"))

    with app.connection_for_write(BROKER_URL) as broker:  # the engine's check; the rest follows in the worker
        detect_breaches.apply_async(kwargs={"sla_ids": [sla.pk], "today": "2026-11-20"}, queue=queue, connection=broker)

    wait_for(lambda: Delivery.objects.filter(status="delivered").exists(), process, log)
    delivery = Delivery.objects.get()
    tries = list(delivery.attempt_log.values_list("number", "succeeded", "status_code"))
    assert tries == [(1, False, 500), (2, False, 502), (3, True, 200)]
    assert (delivery.attempts, delivery.endpoint_id) == (3, endpoint.pk)
    assert len(receiver.requests) == 3
    assert all(receiver.verify(request, endpoint.secret) for request in receiver.requests)
    assert {request.headers["X-SLA-Delivery"] for request in receiver.requests} == {delivery.idempotency_key}

    # Everything again: the feed has nothing new, the delivery is done.
    with app.connection_for_write(BROKER_URL) as broker:
        dispatch_events.apply_async(queue=queue, connection=broker)
        deliver.apply_async(args=[delivery.pk], queue=queue, connection=broker)
    wait_for(
        lambda: finished(log, "dispatch_events") == 2 and finished(log, "deliver", "'nothing to do'") == 1, process, log
    )
    assert (Delivery.objects.count(), delivery.attempt_log.count(), len(receiver.requests)) == (1, 3, 3)
