"""Breach alerts: only the contract's manager, only major breaches, at once, by e-mail, Slack or Teams;
the Alerts page (validation next to the field, a test alert) and the policy (a person's own alerts only)."""

import datetime
import json
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from kpis.breaches import detect_breaches
from kpis.models import KPI, Breach, Measurement
from kpis.replacements import check_replacement_obligations
from outbound import deliveries, events
from outbound.models import AlertSubscription, Delivery
from outbound.tests.conftest import OCTOBER, TODAY
from tests.factories import ContractFactory, SLAFactory, StaffMemberFactory, UserFactory

pytestmark = pytest.mark.django_db
TEAMS_HOSTS = (
    "A Microsoft Teams webhook URL is on <tenant>.webhook.office.com (incoming webhook) or "
    "….logic.azure.com (workflow)."
)
SLACK_URL = "https://hooks.slack.com/services/T000/B000/XXXX"
TEAMS_URL = "https://contoso.webhook.office.com/webhookb2/abc@def/IncomingWebhook/123/456"


def run_checks(today=TODAY):
    detect_breaches(today=today)
    return events.dispatch_events()


def send_all(summary):
    return [deliveries.deliver(pk).outcome for pk in summary["delivery_ids"]]


@pytest.fixture
def teammate_alerts(db):
    """Another manager, alerted by e-mail, owning a contract of their own."""
    teammate = UserFactory(username="sam", role="manager", email="sam@example.com")
    AlertSubscription.objects.create(user=teammate, channel="email")
    return teammate


def test_only_the_contracts_manager_is_told_and_only_of_major_breaches(monthly_sla, manager, teammate_alerts):
    AlertSubscription.objects.create(user=manager, channel="email")
    minor_sla = SLAFactory(contract=monthly_sla.contract, effective_from=OCTOBER, kpi=KPI.objects.get(code="csat"))
    events.dispatch_events()
    Measurement.objects.create(sla=monthly_sla, period_start=OCTOBER, value=Decimal("60"))  # below 75: major
    Measurement.objects.create(sla=minor_sla, period_start=OCTOBER, value=Decimal("77"))  # 75–80: minor
    summary = run_checks()

    major = Breach.objects.get(severity="major")
    assert Breach.objects.filter(severity="minor").exists()
    assert [(d.subscription.user, d.event.breach_id) for d in Delivery.objects.all()] == [(manager, major.pk)]
    assert send_all(summary) == ["delivered"]
    [message] = mail.outbox
    assert message.to == ["dana@example.com"]
    assert message.subject == "Major breach: Service level on CX-2026-001"
    text = message.body
    assert (
        "Service level on CX-2026-001 (" in text
        and "for 2026-10-01 – 2026-10-31: 60.00 %, below the minimum of 75.00 %" in text
    )
    assert "Service credit: USD\u00a02,000.00" in text
    assert f"Open the breach: http://testserver/breaches/{major.pk}/" in text
    html = message.alternatives[0][0]
    assert f'href="http://testserver/breaches/{major.pk}/"' in html and "Voice support" in html


def test_a_switched_off_alert_or_a_withdrawal_tells_nobody(monthly_sla, manager):
    subscription = AlertSubscription.objects.create(user=manager, channel="email", active=False)
    events.dispatch_events()
    Measurement.objects.create(sla=monthly_sla, period_start=OCTOBER, value=Decimal("60"))
    run_checks()
    assert not Delivery.objects.exists()  # switched off
    subscription.active = True
    subscription.save()
    Measurement.objects.filter(sla=monthly_sla).update(value=Decimal("95"))
    detect_breaches(sla_ids=[monthly_sla.pk], today=TODAY)  # withdrawn: not an alert
    assert events.dispatch_events()["deliveries"] == 0


def test_a_slack_alert_is_a_text_message_with_the_facts_and_the_link(monthly_sla, manager, receiver):
    # The URL of a real Slack hook is outside this machine: the local receiver stands in for hooks.slack.com.
    AlertSubscription.objects.create(user=manager, channel="slack", webhook_url=receiver.url)
    events.dispatch_events()
    Measurement.objects.create(sla=monthly_sla, period_start=OCTOBER, value=Decimal("60"))
    assert send_all(run_checks()) == ["delivered"]
    [request] = receiver.requests
    payload = json.loads(request.body)
    breach = Breach.objects.get()
    assert list(payload) == ["text"]
    lines = payload["text"].splitlines()
    assert lines[0] == "*Major breach: Service level on CX-2026-001*"
    assert "Figure: 60.00 %" in lines and "Minimum: 75.00 %" in lines and "Period: 2026-10-01 – 2026-10-31" in lines
    assert lines[-1] == f"<http://testserver/breaches/{breach.pk}/|Open the breach>"
    assert "X-SLA-Signature" not in request.headers  # Slack does not check signatures: the URL is the secret


def test_a_teams_alert_is_an_adaptive_card(monthly_sla, manager, receiver):
    AlertSubscription.objects.create(user=manager, channel="teams", webhook_url=receiver.url)
    events.dispatch_events()
    Measurement.objects.create(sla=monthly_sla, period_start=OCTOBER, value=Decimal("60"))
    assert send_all(run_checks()) == ["delivered"]
    payload = json.loads(receiver.requests[0].body)
    assert payload["type"] == "message"
    [attachment] = payload["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    assert card["body"][0]["text"] == "Major breach: Service level on CX-2026-001"
    facts = {fact["title"]: fact["value"] for fact in card["body"][2]["facts"]}
    assert (facts["KPI"], facts["Figure"], facts["Minimum"], facts["Expected"]) == (
        "Service level", "60.00 %", "75.00 %", "80.00 %"
    )  # fmt: skip
    assert card["actions"] == [
        {
            "type": "Action.OpenUrl",
            "title": "Open the breach",
            "url": f"http://testserver/breaches/{Breach.objects.get().pk}/",
        }
    ]


def test_a_missing_report_and_an_overdue_replacement_are_told_in_words(monthly_sla, manager):
    AlertSubscription.objects.create(user=manager, channel="email")
    events.dispatch_events()
    leaver = StaffMemberFactory(
        contract=monthly_sla.contract,
        full_name="Ana Reyes",
        left_on=datetime.date(2026, 10, 1),
        leave_reason="voluntary",
    )
    check_replacement_obligations(today=TODAY)
    send_all(run_checks())  # October's figure is missing, six days after its grace
    bodies = sorted(message.body for message in mail.outbox)
    assert len(bodies) == 2
    assert any(
        f"The replacement of Ana Reyes on CX-2026-001 ({monthly_sla.contract.vendor.name}) was due on 2026-10-31."
        in body
        for body in bodies
    )
    assert any("No Service level figure was reported for 2026-10-01 – 2026-10-31" in body for body in bodies)
    assert leaver.replacement_obligation.due_on == datetime.date(2026, 10, 31)


# --- the Alerts page ---------------------------------------------------------------------------------
def alerts_page(client, user, data=None):
    client.force_login(user)
    url = reverse("outbound:alerts")
    return client.post(url, data) if data is not None else client.get(url)


@pytest.mark.parametrize(
    "channel, url, message",
    [
        ("slack", "http://hooks.slack.com/services/T/B/X", "The URL must start with https://."),
        ("slack", "https://hooks.example.com/services/T/B/X", "A Slack incoming-webhook URL starts with https://hooks.slack.com/."),
        ("slack", "", "Paste the incoming-webhook URL Slack gave you."),
        ("teams", "https://outlook.office.com/webhook/x", TEAMS_HOSTS),
        ("teams", "https://contoso.webhook.office.com.evil.com/x", TEAMS_HOSTS),
        ("teams", "https://contoso.webhook.office.com:8443/x", "The URL may not name a port or a user."),
    ],
)  # fmt: skip
def test_a_chat_url_off_its_service_is_refused_next_to_the_field(client, manager, channel, url, message):
    response = alerts_page(client, manager, {"channel": channel, "webhook_url": url, "active": "on"})
    assert response.status_code == 200
    assert response.context["form"].errors == {"webhook_url": [message]}
    assert message.replace("<", "&lt;").replace(">", "&gt;") in response.content.decode()
    assert not AlertSubscription.objects.exists()


@pytest.mark.parametrize(
    "channel, url",
    [("slack", SLACK_URL), ("teams", TEAMS_URL), ("teams", "https://prod-01.westeurope.logic.azure.com/workflows/x")],
)
def test_a_chat_url_of_its_service_is_saved(client, manager, channel, url):
    response = alerts_page(client, manager, {"channel": channel, "webhook_url": url, "active": "on"})
    assert response.status_code == 302
    assert AlertSubscription.objects.filter(user=manager, channel=channel, webhook_url=url, active=True).exists()


def test_email_alerts_need_an_address(client, manager):
    manager.email = ""
    manager.save()
    response = alerts_page(client, manager, {"channel": "email", "active": "on"})
    assert response.status_code == 200 and "channel" in response.context["form"].errors


def test_a_test_alert_goes_by_the_chosen_channel_and_saves_nothing(client, manager):
    response = alerts_page(client, manager, {"channel": "email", "active": "on", "send_test": ""})
    assert response.status_code == 200
    assert "Test alert sent by E-mail." in response.content.decode()
    [message] = mail.outbox
    assert (message.to, message.subject) == (["dana@example.com"], "Test alert from the SLA tracker")
    assert not AlertSubscription.objects.exists()


def test_a_failed_test_alert_says_why(manager, receiver):
    receiver.plan = [403]  # standing in for a Slack hook that was removed
    outcome = deliveries.send_test_alert(AlertSubscription(user=manager, channel="slack", webhook_url=receiver.url))
    assert (outcome.succeeded, outcome.status_code, outcome.error) == (False, 403, "receiver says no")
    assert json.loads(receiver.requests[0].body)["text"].startswith("*Test alert from the SLA tracker*")
    assert not Delivery.objects.exists() and not AlertSubscription.objects.exists()


def test_the_page_is_a_managers_own_and_reads_in_constant_queries(
    client, manager, monthly_sla, teammate_alerts, django_assert_max_num_queries
):
    subscription = AlertSubscription.objects.create(user=manager, channel="email")
    events.dispatch_events()
    for n in range(1, 11):
        sla = SLAFactory(contract=ContractFactory(owner=manager, start_date=OCTOBER), effective_from=OCTOBER)
        Measurement.objects.create(sla=sla, period_start=OCTOBER, value=Decimal(50 + n))
    run_checks()
    # Ten misses and the missing report of the first SLA; the other manager is told of none of them.
    assert subscription.deliveries.count() == 11 and not teammate_alerts.breach_alerts.deliveries.exists()
    client.force_login(manager)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("outbound:alerts"))
    assert len(response.context["recent"]) == 10
    assert 'data-testid="recent-alerts"' in response.content.decode()


def test_nobody_changes_another_persons_alerts(manager, teammate_alerts):
    admin = UserFactory(username="root", role="admin")
    viewer = UserFactory(username="val", role="viewer")
    theirs = teammate_alerts.breach_alerts
    assert teammate_alerts.has_perm("outbound.change_alertsubscription", theirs)
    for user in (manager, admin, viewer):
        assert not user.has_perm("outbound.change_alertsubscription", theirs), user
    assert admin.has_perm("outbound.view_alertsubscription", theirs) and not manager.has_perm(
        "outbound.view_alertsubscription", theirs
    )
    assert list(AlertSubscription.objects.all().restrict(manager, "change")) == []
    assert list(AlertSubscription.objects.all().restrict(teammate_alerts, "change")) == [theirs]


def test_a_viewer_has_no_alerts_page(client):
    viewer = UserFactory(username="val", role="viewer")
    assert alerts_page(client, viewer).status_code == 403
