"""The weekly digest a batch at a time: the same e-mails as one by one, a fixed set of queries and one SMTP
connection per batch, and a failed send that neither stops the others for nothing nor goes out twice."""

import datetime
import smtplib

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Profile
from contracts.models import Contract
from governance.models import CorrectiveAction
from kpis import digest as digest_service
from kpis.models import DigestDelivery
from kpis.tests.test_digest import WEEK, breach, overdue_replacement, run_weekly, scenario  # noqa: F401  (fixtures)
from kpis.tests.test_digest_smtp import smtp_server  # noqa: F401  (fixture)
from tests.factories import ContractFactory, UserFactory, VendorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _monday_morning():
    with time_machine.travel(datetime.datetime(2026, 11, 23, 7, 0, tzinfo=datetime.UTC), tick=True):
        yield


def managers_with_news(count, prefix="mgr"):
    """``count`` managers, each with a contract of their own, a new breach and an overdue replacement on it."""
    vendor = VendorFactory(name=f"{prefix} vendor")
    users = []
    for n in range(count):
        user = UserFactory(username=f"{prefix}{n:02d}")
        contract = ContractFactory(owner=user, vendor=vendor, reference=f"{prefix.upper()}-{n:02d}")
        breach(contract, "major", f"{100 + n}.00")
        overdue_replacement(contract, name=f"Leaver {prefix} {n}")
        users.append(user)
    return users


def test_a_batch_builds_each_digest_exactly_as_it_is_built_alone(scenario, owner, teammate):  # noqa: F811
    """Owners, an all-vendors reader and a manager with nothing new, with overdue corrective actions: read
    together, nobody's digest gains or loses a line."""
    boss = UserFactory(username="boss")
    Profile.objects.create(user=boss, receives_all_vendors_digest=True)
    others = managers_with_news(3)
    CorrectiveAction.objects.create(
        contract=scenario["voice"],
        title="Retrain",
        action="Coach",
        owner_name="Lead",
        due_on=datetime.date(2026, 11, 1),
    )
    CorrectiveAction.objects.create(
        contract=Contract.objects.get(owner=others[0]),
        title="Staff up",
        action="Hire",
        owner_name="HR",
        due_on=datetime.date(2026, 11, 2),
    )
    recipients = [(owner, False), (teammate, False), (boss, True), *((user, False) for user in others)]
    together = digest_service.build_digests(recipients, WEEK)
    for user, everything in recipients:
        assert together[user.pk] == digest_service.build_digest(user, WEEK, everything), user.username
    assert together[teammate.pk] is None
    assert [c.reference for v in together[others[1].pk].vendors for c in v.contracts] == ["MGR-01"]
    assert [s.lines[0]["text"].split(": ")[1][:7] for s in together[owner.pk].sections] == ["Retrain"]
    assert together[others[1].pk].sections == []
    assert {line["text"][:6] for line in together[boss.pk].sections[0].lines} == {"ACME-V", "MGR-00"}
    assert together[boss.pk].breach_count == together[owner.pk].breach_count + 3


def _queries_to_send(users):
    DigestDelivery.objects.all().delete()
    digest_service.plan_weekly_digest(WEEK)
    batch = list(DigestDelivery.objects.filter(recipient__in=users).values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        report = digest_service.deliver_digests(batch)
    assert report.count("sent") == len(users)
    return len(queries)


def test_a_batch_reads_the_same_queries_whatever_its_size_plus_its_record_per_email():
    """Building costs a fixed set of queries per batch; each e-mail adds only the statements that record
    it sent (its UPDATE, in a transaction of its own)."""
    users = managers_with_news(14)
    two, four, fourteen = (_queries_to_send(users[:n]) for n in (2, 4, 14))
    per_email = (four - two) // 2
    assert four - two == 2 * per_email and fourteen - four == 10 * per_email
    assert per_email <= 4  # SAVEPOINT (inside the test's transaction), SET LOCAL, UPDATE, RELEASE
    assert two - 2 * per_email <= 12


def test_a_batch_goes_out_over_one_smtp_connection(smtp_server):  # noqa: F811
    inbox = smtp_server()
    users = managers_with_news(5)
    [batch] = digest_service.plan_weekly_batches(WEEK)
    digest_service.deliver_digests(batch)
    assert sorted(recipients[0] for recipients, _raw in inbox.messages) == sorted(u.email for u in users)
    assert len(inbox.connections) == 1


def test_all_vendors_digests_get_batches_of_their_own():
    managers_with_news(5)
    for n in range(3):
        Profile.objects.create(user=UserFactory(username=f"boss{n}"), receives_all_vendors_digest=True)
    batches = digest_service.plan_weekly_batches(WEEK, size=2)
    everything = set(DigestDelivery.objects.filter(all_vendors=True).values_list("pk", flat=True))
    assert [len(batch) for batch in batches] == [2, 2, 1, 2, 1]
    assert [set(batch) <= everything for batch in batches] == [False, False, False, True, True]


def flaky_send(monkeypatch, error, on_call):
    """Make the ``on_call``-th message sent raise ``error``."""
    calls = {"n": 0}
    real_send = mail.EmailMultiAlternatives.send

    def send(self, fail_silently=False):
        calls["n"] += 1
        if calls["n"] == on_call:
            raise error
        return real_send(self, fail_silently)

    monkeypatch.setattr(mail.EmailMultiAlternatives, "send", send)


def _statuses(batch):
    rows = {row.pk: row for row in DigestDelivery.objects.filter(pk__in=batch)}
    return [(rows[pk].status, rows[pk].attempts) for pk in batch]


def test_a_lost_connection_stops_the_batch_and_the_retry_sends_the_rest_once(monkeypatch):
    managers_with_news(4)
    flaky_send(monkeypatch, smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), on_call=2)
    [batch] = digest_service.plan_weekly_batches(WEEK)
    report = digest_service.deliver_digests(batch)
    assert [report.outcomes[pk] for pk in batch] == ["sent", "failed", "not attempted", "not attempted"]
    assert _statuses(batch) == [("sent", 1), ("failed", 1), ("failed", 0), ("failed", 0)]
    assert "Not attempted" in DigestDelivery.objects.get(pk=batch[3]).error
    with pytest.raises(smtplib.SMTPServerDisconnected):
        report.raise_first_error()  # what makes Celery retry the batch
    retry = digest_service.deliver_digests(batch)
    assert [retry.outcomes[pk] for pk in batch] == ["already sent", "sent", "sent", "sent"]
    assert _statuses(batch) == [("sent", 1), ("sent", 2), ("sent", 1), ("sent", 1)]
    assert len(mail.outbox) == 4 and len({m.to[0] for m in mail.outbox}) == 4


def test_a_refused_recipient_fails_alone_and_the_batch_goes_on(monkeypatch):
    managers_with_news(3)
    refused = smtplib.SMTPRecipientsRefused({"mgr01@example.com": (550, b"No such user")})
    flaky_send(monkeypatch, refused, on_call=2)
    [batch] = digest_service.plan_weekly_batches(WEEK)
    report = digest_service.deliver_digests(batch)
    assert [report.outcomes[pk] for pk in batch] == ["sent", "failed", "sent"]
    assert "SMTPRecipientsRefused" in DigestDelivery.objects.get(pk=batch[1]).error
    assert sorted(m.to[0] for m in mail.outbox) == ["mgr00@example.com", "mgr02@example.com"]


def test_a_batch_running_twice_at_once_sends_each_email_once():
    """A duplicate task that comes while the first holds its claims finds them claimed."""
    managers_with_news(3)
    [batch] = digest_service.plan_weekly_batches(WEEK)
    assert len(digest_service.claim_deliveries(batch[:2])) == 2  # the first worker, mid-batch
    report = digest_service.deliver_digests(batch)
    assert [report.outcomes[pk] for pk in batch] == ["claimed elsewhere", "claimed elsewhere", "sent"]
    assert len(mail.outbox) == 1


def test_the_weekly_task_sends_everyone_once_in_batches(run_weekly, monkeypatch):  # noqa: F811
    users = managers_with_news(5)
    monkeypatch.setattr(digest_service, "BATCH_SIZE", 2)
    queued = []
    deliver = digest_service.deliver_digests
    monkeypatch.setattr(digest_service, "deliver_digests", lambda ids: queued.append(ids) or deliver(ids))
    assert run_weekly(week=WEEK) == {"week": WEEK, "queued": 5}
    assert [len(ids) for ids in queued] == [2, 2, 1]
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in users)
    run_weekly(week=WEEK)
    assert len(mail.outbox) == 5


def test_the_batch_task_retries_smtp_errors_with_backoff_and_outlives_no_claim():
    from config.celery import app
    from kpis.tasks import send_breach_digest_batch

    assert smtplib.SMTPException in send_breach_digest_batch.autoretry_for
    assert send_breach_digest_batch.retry_backoff and send_breach_digest_batch.max_retries >= 3
    assert send_breach_digest_batch.acks_late
    # A claim outlives the task's hard limit, so a running batch is never taken over by another worker.
    assert datetime.timedelta(seconds=send_breach_digest_batch.time_limit) < digest_service.CLAIM_LEASE
    assert send_breach_digest_batch.name in app.tasks
