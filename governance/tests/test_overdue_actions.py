"""Overdue corrective actions on the dashboard and in the weekly digest (issue 16), the digest sent over SMTP to
a local server: late ones listed with their link, others (not late, done, cancelled, someone else's) not."""

import datetime
import email
import email.policy

import pytest
import time_machine
from django.core.management import call_command

from governance.choices import ActionStatus
from governance.models import CorrectiveAction
from kpis.tests.test_digest import WEEK, breach
from kpis.tests.test_digest_smtp import smtp_server  # noqa: F401  (fixture)
from tests.factories import ContractFactory, VendorFactory

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture(autouse=True)
def _monday_morning():
    with time_machine.travel(datetime.datetime(2026, 11, 23, 7, 0, tzinfo=datetime.UTC), tick=True):
        yield


@pytest.fixture
def actions_of(owner, teammate):
    mine = ContractFactory(owner=owner, vendor=VendorFactory(name="Acme BPO"), reference="ACME-1")
    theirs = ContractFactory(owner=teammate, reference="TEAM-1")
    breach(mine, "major", "2000.00")

    def make(contract, title, due_on, status=ActionStatus.OPEN, **kwargs):
        return CorrectiveAction.objects.create(
            contract=contract, title=title, action="x", owner_name="Team lead", due_on=due_on, status=status, **kwargs
        )

    late = make(mine, "Retrain the evening shift", D(2026, 11, 2), ActionStatus.IN_PROGRESS)
    make(mine, "Not due yet", D(2026, 12, 1))
    make(mine, "Cancelled late one", D(2026, 11, 1), ActionStatus.CANCELLED)
    make(mine, "Done late one", D(2026, 11, 1), ActionStatus.DONE, done_by=owner, done_on=D(2026, 11, 5))
    make(theirs, "Someone else's late one", D(2026, 11, 1))
    return late


def _messages(inbox):
    return {
        recipient: email.message_from_bytes(raw, policy=email.policy.default)
        for recipients, raw in inbox.messages
        for recipient in recipients
    }


def test_overdue_actions_are_in_the_digest_email(smtp_server, owner, teammate, actions_of):  # noqa: F811
    inbox = smtp_server()
    call_command("send_breach_digest", week=WEEK)
    messages = _messages(inbox)
    assert set(messages) == {owner.email, teammate.email} and len(inbox.messages) == 2
    message = messages[owner.email]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for part in (text, html):
        section = part.split("Overdue corrective actions")[1]
        assert "ACME-1 (Acme BPO): Retrain the evening shift — Vendor Team lead, due 2 Nov 2026 (21 days late)" in (
            section
        )
        assert f"http://testserver/actions/{actions_of.pk}/" in section
        for other in ("Not due yet", "Cancelled late one", "Done late one", "Someone else's late one"):
            assert other not in part


def test_overdue_actions_are_on_the_owners_dashboard(client, owner, actions_of):
    client.force_login(owner)
    page = client.get("/").content.decode()
    panel = page.split('data-testid="overdue-actions"')[1].split('<div class="card shadow-sm')[0]
    assert "Retrain the evening shift" in panel and "(1)" in panel
    for other in ("Not due yet", "Cancelled late one", "Done late one"):
        assert other not in panel


def test_an_owner_whose_only_news_is_a_late_action_gets_a_digest_of_it(smtp_server, owner, teammate, actions_of):  # noqa: F811
    """No breach on the teammate's contracts this week: their digest still comes, with their late action only."""
    inbox = smtp_server()
    call_command("send_breach_digest", week=WEEK)
    message = _messages(inbox)[teammate.email]
    assert "0 new breaches" in message["Subject"]
    for part in (message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()):
        section = part.split("Overdue corrective actions")[1]
        assert "TEAM-1" in section and "Someone else" in section  # the HTML part escapes the apostrophe
        assert "Retrain the evening shift" not in part
    call_command("send_breach_digest", week=WEEK)  # a second run sends nothing more
    assert len(inbox.messages) == 2


def test_no_digest_for_an_owner_with_neither_breaches_nor_late_actions(smtp_server, owner, teammate):  # noqa: F811
    contract = ContractFactory(owner=teammate)
    CorrectiveAction.objects.create(
        contract=contract, title="On time", action="x", owner_name="Lead", due_on=D(2026, 12, 7)
    )
    inbox = smtp_server()
    call_command("send_breach_digest", week=WEEK)
    assert inbox.messages == []
