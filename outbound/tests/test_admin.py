"""The admin site: admins register endpoints (events as checkboxes, http(s) only) and read the delivery log,
each try of a delivery under it, in a fixed number of queries; "Try again now" queues one more try."""

import pytest
from django.urls import reverse
from django.utils import timezone

from outbound.models import Delivery, DeliveryAttempt, Event, WebhookEndpoint
from tests.factories import BreachFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", role="admin", is_staff=True))
    return client


def make_deliveries(count, endpoint):
    breach = BreachFactory()
    made = []
    for n in range(count):
        event = Event.objects.create(
            type="breach.recorded", breach=breach, contract=breach.contract, occurred_at=timezone.now()
        )
        delivery = Delivery.objects.create(event=event, endpoint=endpoint, status="failed", attempts=2)
        for number in (1, 2):
            DeliveryAttempt.objects.create(
                delivery=delivery,
                number=number,
                started_at=timezone.now(),
                status_code=500,
                response_ms=12 + n,
                error="no",
            )
        made.append(delivery)
    return made


def test_an_admin_registers_an_endpoint_with_its_events(admin_client):
    data = {"name": "ITSM", "url": "https://itsm.example.com/hooks/sla", "secret": "s3cret",
            "events": ["breach.recorded", "obligation.overdue"], "active": "on"}  # fmt: skip
    response = admin_client.post(reverse("admin:outbound_webhookendpoint_add"), data)
    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.url, endpoint.events, endpoint.active) == (data["url"], data["events"], True)


def test_a_non_http_endpoint_is_refused_in_the_admin(admin_client):
    data = {"name": "x", "url": "ftp://itsm.example.com/", "secret": "s", "events": ["breach.recorded"]}
    response = admin_client.post(reverse("admin:outbound_webhookendpoint_add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["url"] == ["Enter an http:// or https:// URL."]
    assert not WebhookEndpoint.objects.exists()


def test_the_delivery_log_reads_in_constant_queries_with_its_tries(admin_client, django_assert_max_num_queries):
    endpoint = WebhookEndpoint.objects.create(name="ITSM", url="https://itsm.example.com/", events=["breach.recorded"])
    make_deliveries(3, endpoint)
    url = reverse("admin:outbound_delivery_changelist")
    with django_assert_max_num_queries(12) as few:
        assert admin_client.get(url).status_code == 200
    make_deliveries(30, endpoint)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = admin_client.get(url)
    assert response.content.decode().count("ITSM") >= 30
    delivery = Delivery.objects.first()
    page = admin_client.get(reverse("admin:outbound_delivery_change", args=[delivery.pk])).content.decode()
    assert (
        page.count("500") >= 2 and f"{delivery.event_id}-{endpoint.pk}" in page
    )  # each try, and the X-SLA-Delivery key


def test_try_again_now_queues_one_more_try_of_a_failed_delivery(admin_client, django_capture_on_commit_callbacks):
    endpoint = WebhookEndpoint.objects.create(name="ITSM", url="https://itsm.example.com/", events=["breach.recorded"])
    [failed] = make_deliveries(1, endpoint)
    with django_capture_on_commit_callbacks() as queued:
        response = admin_client.post(
            reverse("admin:outbound_delivery_changelist"),
            {"action": "try_again_now", "_selected_action": [failed.pk]},
        )
    assert response.status_code == 302
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, len(queued)) == ("pending", 2, 1)
