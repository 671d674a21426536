"""DESIGN.md rule 7: the weekly breach digest — recipients, content, sending once."""

import datetime
import os
import smtplib
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext

from accounts.models import Profile
from kpis import digest as digest_service
from kpis.models import Breach, DigestDelivery
from kpis.tasks import send_weekly_breach_digest
from tests.factories import (
    BreachFactory,
    ContractFactory,
    ExchangeRateFactory,
    ReplacementObligationFactory,
    SLAFactory,
    UserFactory,
    VendorFactory,
    kpi,
)

D = datetime.date
pytestmark = pytest.mark.django_db
WEEK = "2026-W47"  # Mon 16 – Sun 22 Nov 2026
IN_WEEK = datetime.datetime(2026, 11, 18, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture
def run_weekly(django_capture_on_commit_callbacks):
    """Run the beat task; the e-mail tasks it queues run in-process once its transaction commits."""
    from config.celery import app

    def run(**kwargs):
        saved = app.conf.task_always_eager, app.conf.task_eager_propagates
        app.conf.task_always_eager = app.conf.task_eager_propagates = True
        try:
            with django_capture_on_commit_callbacks(execute=True):
                result = send_weekly_breach_digest.apply(kwargs=kwargs).get()
        finally:
            app.conf.task_always_eager, app.conf.task_eager_propagates = saved
        return result

    return run


@pytest.fixture(autouse=True)
def _monday_morning():
    with time_machine.travel(datetime.datetime(2026, 11, 23, 7, 0, tzinfo=datetime.UTC), tick=False):
        yield


def breach(contract, severity="major", credit="2000.00", detected_at=IN_WEEK, code="service_level", **kwargs):
    sla = SLAFactory(contract=contract, kpi=kpi(code), effective_from=contract.start_date)
    return BreachFactory(
        sla=sla,
        contract=contract,
        severity=severity,
        service_credit=Decimal(credit),
        detected_at=detected_at,
        period_start=D(2026, 10, 1),
        period_end=D(2026, 10, 31),
        **kwargs,
    )


def overdue_replacement(contract, name="Maria Santos"):
    obligation = ReplacementObligationFactory(
        departed__contract=contract, departed__full_name=name, departed__left_on=D(2026, 9, 1)
    )
    return Breach.objects.create(
        kind="replacement",
        severity="major",
        contract=contract,
        obligation=obligation,
        period_start=D(2026, 9, 1),
        period_end=obligation.due_on,
        detected_at=datetime.datetime(2026, 10, 2, tzinfo=datetime.UTC),
    )


@pytest.fixture
def scenario(owner, teammate):
    """owner: 5 new breaches (2 major) on two vendors, 1 overdue replacement; teammate: nothing new."""
    acme, globex = VendorFactory(name="Acme BPO"), VendorFactory(name="Globex Services")
    voice = ContractFactory(owner=owner, vendor=acme, reference="ACME-VOICE", title="Voice support")
    chat = ContractFactory(owner=owner, vendor=acme, reference="ACME-CHAT", title="Chat support", currency="EUR")
    claims = ContractFactory(owner=owner, vendor=globex, reference="GLX-CLAIMS", title="Claims processing")
    breach(voice, "major", "2000.00")
    breach(voice, "minor", "0", code="csat")
    breach(chat, "major", "1500.00", code="quality_score")
    breach(claims, "minor", "0", code="accuracy")
    breach(claims, "minor", "0", kind="missing_report", code="turnaround_time", actual=None)
    breach(claims, "major", "999", detected_at=datetime.datetime(2026, 11, 9, tzinfo=datetime.UTC))  # last week
    breach(claims, "major", "999", code="backlog", status="withdrawn")  # withdrawn: not news
    overdue_replacement(claims)
    ContractFactory(owner=teammate, reference="TEAM-1")
    # A renewal due: notice deadline 2026-12-10 (end 2027-03-10 − 90 days).
    ContractFactory(owner=owner, vendor=globex, reference="GLX-RENEW", end_date=D(2027, 3, 10))
    return {"voice": voice, "chat": chat, "claims": claims}


@pytest.mark.parametrize("rated", [True, False])
def test_digest_totals_credits_in_the_reporting_currency_too(scenario, owner, rated):
    """USD 2 000 and EUR 1 500 (October breaches): listed per currency, and in USD at October's rate."""
    if rated:
        ExchangeRateFactory(currency="EUR", month=D(2026, 10, 1), rate=Decimal("1.10"))
    digest = digest_service.build_digest(owner, WEEK)
    assert [amount.replace("\xa0", " ") for _, amount in digest.credits] == ["EUR 1,500.00", "USD 2,000.00"]
    text = render_to_string("emails/breach_digest-body.txt", {"digest": digest}).replace("\xa0", " ")
    if rated:
        assert "USD 2,000.00 — in total USD 3,650.00\n" in text
    else:
        assert "— in total USD 2,000.00 (incomplete: no rate for EUR 2026-10)" in text


def test_owner_gets_one_digest_with_counts_in_the_subject(scenario, owner, teammate, run_weekly):
    result = run_weekly(week=WEEK)
    assert result == {"week": WEEK, "queued": 1}
    assert [m.to for m in mail.outbox] == [[owner.email]]
    message = mail.outbox[0]
    assert message.subject == "SLA digest 2026-W47: 5 new breaches (2 major), 1 overdue replacement"
    html = message.alternatives[0][0]
    assert message.alternatives[0][1] == "text/html"
    for body in (message.body, html):
        assert body.index("Acme BPO") < body.index("ACME-CHAT") < body.index("Globex Services")
        assert "USD\xa02,000.00" in body and "EUR\xa01,500.00" in body
        assert f"http://testserver/contracts/{scenario['voice'].pk}/" in body
        assert "http://testserver/breaches/" in body
        assert "Maria Santos" in body
        assert "GLX-RENEW" in body  # renewal due
        assert "80 %" in body and "75 %" in body and "70 %" in body  # expected / minimum / actual
    delivery = DigestDelivery.objects.get()
    assert (delivery.recipient, delivery.week, delivery.status, delivery.breach_count) == (owner, WEEK, "sent", 5)
    assert delivery.sent_at is not None and delivery.attempts == 1


def test_all_vendors_user_gets_everything_and_owners_only_their_own(scenario, owner, teammate, run_weekly):
    boss = UserFactory(username="boss")
    Profile.objects.create(user=boss, receives_all_vendors_digest=True)
    other_owner = UserFactory(username="other_owner")
    breach(ContractFactory(owner=other_owner, reference="OTHER-1"), "major", "100.00")
    UserFactory(username="no_profile")  # no profile row: ignored, no crash
    run_weekly(week=WEEK)
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert subjects == {
        owner.email: "SLA digest 2026-W47: 5 new breaches (2 major), 1 overdue replacement",
        other_owner.email: "SLA digest 2026-W47: 1 new breach (1 major), 0 overdue replacements",
        boss.email: "SLA digest 2026-W47: 6 new breaches (3 major), 1 overdue replacement",
    }
    assert teammate.email not in subjects
    assert DigestDelivery.objects.get(recipient=boss).all_vendors is True


def test_only_an_overdue_replacement_is_enough(owner, run_weekly):
    overdue_replacement(ContractFactory(owner=owner))
    run_weekly(week=WEEK)
    assert [m.subject for m in mail.outbox] == ["SLA digest 2026-W47: 0 new breaches (0 major), 1 overdue replacement"]


def test_nothing_to_report_sends_nothing(owner, run_weekly):
    breach(ContractFactory(owner=owner), detected_at=datetime.datetime(2026, 11, 9, tzinfo=datetime.UTC))
    Profile.objects.create(user=UserFactory(), receives_all_vendors_digest=True)
    run_weekly(week=WEEK)
    assert mail.outbox == [] and not DigestDelivery.objects.exists()


def test_default_week_is_the_previous_iso_week(scenario, run_weekly):
    assert run_weekly()["week"] == WEEK


def test_sending_a_week_twice_sends_nothing_the_second_time(scenario, run_weekly):
    run_weekly(week=WEEK)
    run_weekly(week=WEEK)
    call_command("send_breach_digest", week=WEEK)
    assert len(mail.outbox) == 1
    assert DigestDelivery.objects.count() == 1


def test_a_failed_send_is_retried_and_never_duplicated(scenario, owner, monkeypatch):
    calls = {"n": 0}
    real_send = mail.EmailMultiAlternatives.send

    def flaky_send(self, fail_silently=False):
        calls["n"] += 1
        if calls["n"] == 1:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return real_send(self, fail_silently)

    monkeypatch.setattr(mail.EmailMultiAlternatives, "send", flaky_send)
    [delivery_id] = digest_service.plan_weekly_digest(WEEK)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        digest_service.deliver_digest(delivery_id)
    delivery = DigestDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert "SMTPServerDisconnected" in delivery.error
    # The retry sends it; a duplicate task or a second planner run afterwards sends nothing.
    assert digest_service.deliver_digest(delivery_id) == "sent"
    assert digest_service.deliver_digest(delivery_id) == "already sent"
    assert digest_service.plan_weekly_digest(WEEK) == []
    assert len(mail.outbox) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.error) == ("sent", 2, "")


def test_the_email_task_retries_smtp_errors_with_backoff():
    from kpis.tasks import send_breach_digest_email

    assert smtplib.SMTPException in send_breach_digest_email.autoretry_for
    assert send_breach_digest_email.retry_backoff and send_breach_digest_email.max_retries >= 3
    assert send_breach_digest_email.acks_late


def test_failed_planner_rows_are_offered_again(scenario, owner):
    [delivery_id] = digest_service.plan_weekly_digest(WEEK)
    DigestDelivery.objects.filter(pk=delivery_id).update(status="failed")
    assert digest_service.plan_weekly_digest(WEEK) == [delivery_id]


def test_dry_run_prints_and_sends_nothing(scenario, owner, capsys):
    call_command("send_breach_digest", week=WEEK, dry_run=True)
    out = capsys.readouterr().out
    assert f"{owner.email} (own contracts): SLA digest 2026-W47: 5 new breaches (2 major), 1 overdue replacement" in out
    assert "nothing was sent" in out
    assert mail.outbox == [] and not DigestDelivery.objects.exists()


def test_command_rejects_a_bad_week():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="write it like 2026-W47"):
        call_command("send_breach_digest", week="2026-47")


def _queries_for_one_digest(owner):
    [delivery_id] = digest_service.plan_weekly_digest(WEEK)
    with CaptureQueriesContext(connection) as queries:
        digest_service.deliver_digest(delivery_id)
    return len(queries)


def test_queries_per_email_do_not_grow_with_the_breaches(owner):
    contract = ContractFactory(owner=owner)
    breach(contract)
    few = _queries_for_one_digest(owner)
    DigestDelivery.objects.all().delete()
    for index in range(12):
        vendor_contract = ContractFactory(owner=owner, reference=f"MANY-{index}")
        breach(vendor_contract, code=["csat", "accuracy", "backlog"][index % 3])
        overdue_replacement(vendor_contract, name=f"Leaver {index}")
    many = _queries_for_one_digest(owner)
    assert few == many
    assert len(mail.outbox) == 2


def test_render_html_digest_for_a_screenshot(scenario, owner):
    """Writes the HTML part to $DIGEST_HTML_OUT when set (used to look at it in Chromium)."""
    digest = digest_service.build_digest(owner, WEEK)
    from kpis.emails import breach_digest_message

    html = breach_digest_message(digest).alternatives[0][0]
    assert html.startswith("<!doctype html>") and "SLA digest · 2026-W47" in html
    if os.environ.get("DIGEST_HTML_OUT"):
        with open(os.environ["DIGEST_HTML_OUT"], "w") as handle:
            handle.write(html)


def test_a_send_in_progress_is_not_taken_over_until_its_lease_runs_out(scenario, owner):
    [delivery_id] = digest_service.plan_weekly_digest(WEEK)
    assert digest_service.claim_delivery(delivery_id) is True  # a worker is sending it right now
    assert digest_service.claim_delivery(delivery_id) is False
    assert digest_service.deliver_digest(delivery_id) == "claimed elsewhere"
    assert mail.outbox == []
    with time_machine.travel(datetime.datetime(2026, 11, 23, 7, 20, tzinfo=datetime.UTC), tick=False):
        assert digest_service.deliver_digest(delivery_id) == "sent"  # that worker died: taken over
    assert len(mail.outbox) == 1
    assert DigestDelivery.objects.get().attempts == 2
