"""The event feed, read from real engine runs: a figure that misses records a breach, its correction
withdraws it, a miss again brings it back; a replacement overdue; a digest sent. Set-based, from a
high-water mark, only for the types someone listens to, and never twice."""

import datetime
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from kpis.breaches import detect_breaches
from kpis.models import Breach, DigestDelivery, Measurement
from kpis.replacements import check_replacement_obligations
from outbound import deliveries, events
from outbound.models import AlertSubscription, Delivery, Event, FeedPosition, WebhookEndpoint
from outbound.tests.conftest import OCTOBER, TODAY
from tests.factories import StaffMemberFactory

pytestmark = pytest.mark.django_db
ALL_TYPES = ["breach.recorded", "breach.withdrawn", "obligation.overdue", "digest.sent"]


def record(sla, value):
    figure, _ = Measurement.objects.update_or_create(
        sla=sla, period_start=OCTOBER, defaults={"value": Decimal(value), "period_end": datetime.date(2026, 10, 31)}
    )
    return figure


def check():
    return detect_breaches(today=TODAY)


def history_top():
    return Breach.history.model.objects.order_by("-history_id").values_list("history_id", flat=True).first()


def test_without_listeners_the_feed_only_moves_its_mark(monthly_sla):
    record(monthly_sla, "60")
    check()
    summary = events.dispatch_events()
    assert (summary["events"], summary["deliveries"], summary["delivery_ids"]) == (0, 0, [])
    assert FeedPosition.objects.get().breach_history_id == history_top()
    # Someone subscribes later: only what happens from then on is sent.
    WebhookEndpoint.objects.create(name="ITSM", url="http://127.0.0.1:8120/", events=ALL_TYPES)
    assert events.dispatch_events()["events"] == 0
    assert not Event.objects.exists()


def test_a_miss_its_correction_and_a_miss_again_are_recorded_withdrawn_recorded(monthly_sla, receiver):
    endpoint = WebhookEndpoint.objects.create(name="ITSM", url=receiver.url, events=ALL_TYPES)
    events.dispatch_events()  # the mark starts here

    record(monthly_sla, "60")
    check()
    first = events.dispatch_events()
    record(monthly_sla, "95")  # corrected: meets the SLA
    check()
    second = events.dispatch_events()
    record(monthly_sla, "70")  # wrong after all
    check()
    third = events.dispatch_events()

    breach = Breach.objects.get()
    assert [(e.type, e.breach_id, e.status) for e in Event.objects.order_by("id")] == [
        ("breach.recorded", breach.pk, "open"),
        ("breach.withdrawn", breach.pk, "withdrawn"),
        ("breach.recorded", breach.pk, "open"),
    ]
    assert (first["deliveries"], second["deliveries"], third["deliveries"]) == (1, 1, 1)

    for delivery_id in first["delivery_ids"] + second["delivery_ids"] + third["delivery_ids"]:
        assert deliveries.deliver(delivery_id).outcome == "delivered"
    bodies = [json.loads(request.body) for request in receiver.requests]
    assert [(b["type"], b["breach"]["status"], b["breach"]["actual"]) for b in bodies] == [
        ("breach.recorded", "open", "60.00"),
        ("breach.withdrawn", "withdrawn", "95.00"),
        ("breach.recorded", "open", "70.00"),
    ]
    assert bodies[0]["breach"]["service_credit"] == "2000.00" and bodies[1]["breach"]["service_credit"] == "0.00"
    assert bodies[0]["contract"]["reference"] == "CX-2026-001" and bodies[0]["kpi"]["code"] == "service_level"
    assert bodies[0]["breach"]["url"] == f"http://testserver/breaches/{breach.pk}/"
    assert all(receiver.verify(request, endpoint.secret) for request in receiver.requests)


def test_running_the_feed_and_the_deliveries_again_creates_and_sends_nothing(monthly_sla, receiver):
    WebhookEndpoint.objects.create(name="ITSM", url=receiver.url, events=["breach.recorded"])
    events.dispatch_events()
    record(monthly_sla, "60")
    check()
    [delivery_id] = events.dispatch_events()["delivery_ids"]
    assert deliveries.deliver(delivery_id).outcome == "delivered"

    check()  # the engine's second run writes nothing
    again = events.dispatch_events()
    assert (again["events"], again["deliveries"], again["delivery_ids"]) == (0, 0, [])
    assert deliveries.deliver(delivery_id).outcome == "nothing to do"
    assert (Event.objects.count(), Delivery.objects.count(), len(receiver.requests)) == (1, 1, 1)


def test_each_endpoint_gets_only_the_types_it_subscribed_to(monthly_sla):
    withdrawals = WebhookEndpoint.objects.create(name="W", url="http://127.0.0.1:8120/", events=["breach.withdrawn"])
    WebhookEndpoint.objects.create(name="Off", url="http://127.0.0.1:8120/", events=ALL_TYPES, active=False)
    events.dispatch_events()
    record(monthly_sla, "60")
    check()
    assert events.dispatch_events()["events"] == 0  # nobody listens to breach.recorded
    record(monthly_sla, "90")
    check()
    events.dispatch_events()
    assert [(d.event.type, d.endpoint_id) for d in Delivery.objects.select_related("event")] == [
        ("breach.withdrawn", withdrawals.pk)
    ]


def test_an_overdue_replacement_is_a_breach_recorded_and_an_obligation_overdue(monthly_sla):
    WebhookEndpoint.objects.create(name="HR", url="http://127.0.0.1:8120/", events=ALL_TYPES)
    events.dispatch_events()
    StaffMemberFactory(contract=monthly_sla.contract, left_on=datetime.date(2026, 10, 1), leave_reason="voluntary")
    check_replacement_obligations(today=TODAY)  # due 30 days after leaving: overdue on the 20th of November
    events.dispatch_events()
    breach = Breach.objects.get(kind="replacement")
    assert sorted(Event.objects.values_list("type", "breach_id")) == [
        ("breach.recorded", breach.pk),
        ("obligation.overdue", breach.pk),
    ]


def test_a_digest_marked_sent_is_a_digest_sent_event_once(manager):
    WebhookEndpoint.objects.create(name="Audit", url="http://127.0.0.1:8120/", events=["digest.sent"])
    events.dispatch_events()
    delivery = DigestDelivery.objects.create(
        recipient=manager, week="2026-W46", status="sent", sent_at=timezone.now(), subject="3 breaches", breach_count=3
    )
    DigestDelivery.objects.create(recipient=manager, week="2026-W45", status="pending")  # not sent: no event
    events.dispatch_events()
    events.dispatch_events()  # within the look-back: read again, recorded once
    [event] = Event.objects.all()
    assert (event.type, event.digest_delivery_id) == ("digest.sent", delivery.pk)
    payload = json.loads(deliveries.payloads.to_json(deliveries.payloads.event_payload(event)))
    assert payload["digest"] == {
        "week": "2026-W46",
        "recipient": "dana",
        "all_vendors": False,
        "subject": "3 breaches",
        "breach_count": 3,
        "sent_at": payload["digest"]["sent_at"],
    }


def test_the_feed_reads_in_batches(monthly_sla):
    WebhookEndpoint.objects.create(name="ITSM", url="http://127.0.0.1:8120/", events=["breach.recorded"])
    events.dispatch_events()
    for month in (10, 11):
        Measurement.objects.create(sla=monthly_sla, period_start=datetime.date(2026, month, 1), value=Decimal("60"))
    detect_breaches(today=datetime.date(2026, 12, 10))
    summary = events.dispatch_events(batch_size=1)
    assert summary["batches"] > 1 and (summary["events"], summary["deliveries"]) == (2, 2)
    assert FeedPosition.objects.get().breach_history_id == history_top()


def test_a_history_emptied_and_restarted_does_not_stall_the_feed(monthly_sla):
    AlertSubscription.objects.create(user=monthly_sla.contract.owner, channel="email")
    FeedPosition.objects.create(pk=1, breach_history_id=10**9)  # far above anything the history holds
    record(monthly_sla, "60")
    check()
    events.dispatch_events()
    assert FeedPosition.objects.get().breach_history_id == history_top()
    record(monthly_sla, "95")
    check()
    record(monthly_sla, "60")
    check()
    events.dispatch_events()
    assert [e.type for e in Event.objects.all()] == ["breach.recorded"]  # the breach back: its owner is told
