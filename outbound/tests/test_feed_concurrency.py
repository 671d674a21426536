"""A breach check still running when the feed reads must not be skipped (PostgreSQL, real connections).

History ids are handed out before commit: a check that started first (lower ids) may commit after a
shorter one (higher ids). Reading then and moving the mark past the higher ids would lose the first
check's breaches for good; the feed waits for the engine's job locks instead."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction

from kpis.breaches import detect_breaches
from kpis.models import Breach, Measurement
from kpis.replacements import check_replacement_obligations
from outbound import events
from outbound.models import Event, WebhookEndpoint
from outbound.tests.conftest import OCTOBER, TODAY
from tests.concurrency import in_another_connection, wait_until_a_backend_waits_on_a_lock
from tests.factories import StaffMemberFactory

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="two transactions at once")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_feed_waits_for_a_check_in_flight_and_misses_none_of_its_breaches(monthly_sla):
    WebhookEndpoint.objects.create(name="ITSM", url="http://127.0.0.1:8120/", events=["breach.recorded"])
    events.dispatch_events()
    Measurement.objects.create(sla=monthly_sla, period_start=OCTOBER, value=Decimal("60"))
    StaffMemberFactory(contract=monthly_sla.contract, left_on=datetime.date(2026, 10, 1), leave_reason="voluntary")

    # A breach check writes its history rows (the lower ids) and is still running.
    written, finish = threading.Event(), threading.Event()

    def slow_check():
        with transaction.atomic():
            detect_breaches(today=TODAY)
            written.set()
            finish.wait(30)

    slow_thread, slow = in_another_connection(slow_check)
    assert written.wait(30), slow
    # Meanwhile the replacement check commits its breach (a higher history id).
    check_replacement_obligations(today=TODAY)
    assert Breach.objects.filter(kind="replacement").exists() and not Breach.objects.filter(kind="performance").exists()

    feed_thread, feed = in_another_connection(events.dispatch_events)
    wait_until_a_backend_waits_on_a_lock()
    assert feed_thread.is_alive()  # the feed waits for the check in flight
    finish.set()
    slow_thread.join(30)
    feed_thread.join(30)
    assert "error" not in slow and "error" not in feed, (slow, feed)

    assert sorted(Event.objects.values_list("breach__kind", flat=True)) == ["performance", "replacement"]
    assert events.dispatch_events()["events"] == 0
