"""The digest through Django's SMTP backend to a real (local) SMTP server, aiosmtpd."""

import datetime
import email
import email.policy
import re
import smtplib

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.core.management import call_command

from kpis import digest as digest_service
from kpis.models import DigestDelivery
from kpis.tests.test_digest import WEEK, breach, overdue_replacement
from tests.factories import ContractFactory, VendorFactory
from tests.workers import free_port

pytestmark = pytest.mark.django_db


class Inbox:
    """An aiosmtpd handler that keeps what it receives; can refuse the first ``refuse`` messages."""

    def __init__(self, refuse=0):
        self.messages = []
        self.refuse = refuse
        self.connections = set()  # the client's (address, port) of each SMTP connection a message came over

    async def handle_DATA(self, server, session, envelope):
        self.connections.add(session.peer)
        if self.refuse:
            self.refuse -= 1
            return "451 Requested action aborted: try again later"
        self.messages.append((envelope.rcpt_tos, envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings):
    def start(refuse=0):
        inbox = Inbox(refuse)
        controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
        controller.start()
        servers.append(controller)
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_TIMEOUT = 10
        return inbox

    servers = []
    yield start
    for controller in servers:
        controller.stop()


@pytest.fixture(autouse=True)
def _monday_morning():
    with time_machine.travel(datetime.datetime(2026, 11, 23, 7, 0, tzinfo=datetime.UTC), tick=True):
        yield


@pytest.fixture
def owner_with_breaches(owner):
    contract = ContractFactory(owner=owner, vendor=VendorFactory(name="Acme BPO"), reference="ACME-1")
    breach(contract, "major", "2000.00")
    breach(contract, "minor", "0", code="csat")
    breach(contract, "major", "500.00", code="accuracy")
    overdue_replacement(contract)
    return owner


def test_digest_arrives_over_smtp_with_both_parts_and_absolute_links(smtp_server, owner_with_breaches):
    inbox = smtp_server()
    call_command("send_breach_digest", week=WEEK)
    [(recipients, raw)] = inbox.messages
    assert recipients == [owner_with_breaches.email]
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Subject"] == "SLA digest 2026-W47: 3 new breaches (2 major), 1 overdue replacement"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "ACME-1" in text and "ACME-1" in html
    assert "USD\xa02,500.00" in text and "USD\xa02,500.00" in html
    links = re.findall(r'href="([^"]+)"', html)
    assert links and all(link.startswith("http://testserver/") for link in links)
    assert any(re.fullmatch(r"http://testserver/breaches/\d+/", link) for link in links)
    assert any(re.fullmatch(r"http://testserver/contracts/\d+/", link) for link in links)
    text_links = re.findall(r"https?://\S+", text)
    assert text_links and all(link.startswith("http://testserver/") for link in text_links)
    assert DigestDelivery.objects.get().status == "sent"
    # Sending the week again sends nothing.
    call_command("send_breach_digest", week=WEEK)
    assert len(inbox.messages) == 1


def test_a_refused_send_is_recorded_then_retried_once(smtp_server, owner_with_breaches):
    inbox = smtp_server(refuse=1)
    [delivery_id] = digest_service.plan_weekly_digest(WEEK)
    with pytest.raises(smtplib.SMTPDataError):
        digest_service.deliver_digest(delivery_id)
    delivery = DigestDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert inbox.messages == []
    assert digest_service.deliver_digest(delivery_id) == "sent"  # what Celery's retry does
    assert digest_service.deliver_digest(delivery_id) == "already sent"
    assert len(inbox.messages) == 1


def test_last_weeks_demo_digest_is_a_typical_email_under_gmails_clipping(smtp_server, settings):
    """The demo data as ``make demo-data`` builds it (seed, checks, detections dated), last week's digest
    sent to a real SMTP server: every recipient gets a readable e-mail, the HTML part under 100 KB."""
    from io import StringIO

    settings.HOME_COUNTRY = "US"
    for command in ("seed_demo", "run_sla_checks", "date_demo_detections"):
        call_command(command, stdout=StringIO())
    expected = {d.recipient_email: d for d in digest_service.preview_weekly_digest(WEEK)}
    assert expected, "the demo has news last week"
    inbox = smtp_server()
    call_command("send_breach_digest", stdout=StringIO())  # default: last week, 2026-W47
    assert len(inbox.messages) == len(expected)
    for ((recipients, raw),) in zip(inbox.messages):
        message = email.message_from_bytes(raw, policy=email.policy.default)
        digest = expected[recipients[0]]
        subject = message["Subject"]
        assert subject == digest.subject
        counts = re.fullmatch(
            r"SLA digest 2026-W47: (\d+) new breach(?:es)? \((\d+) major\), (\d+) overdue .*", subject
        )
        assert counts and tuple(map(int, counts.groups())) == (
            digest.breach_count,
            digest.major_count,
            digest.overdue_count,
        )
        html = message.get_body(("html",)).get_content()
        text = message.get_body(("plain",)).get_content()
        assert len(html.encode()) < 100_000, (recipients, len(html.encode()))
        assert digest.breach_count < 60  # a week's news, not the whole history
        assert "Hello " in text and "2026-W47 (16 Nov 2026 – 22 Nov 2026)" in text
    # The weeks before have news too (the detections are spread as if the checks had run all along).
    assert any(digest_service.preview_weekly_digest(f"2026-W{week}") for week in range(40, 47))
