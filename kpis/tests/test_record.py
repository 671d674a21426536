"""Rule 5 as rewritten: a record you can settle money on.

* A status a person saves while a check runs is never overwritten (two real PostgreSQL connections).
* A breach that no longer holds is withdrawn whatever its status, and returns with it.
* Every engine change is in the breach's history, with who and why.
* Whatever changes what is owed asks for the checks it needs in its own transaction (``kpis.pending``).
"""

import datetime
import socket
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.urls import reverse

from common.money import format_money
from contracts.models import ReplacementObligation
from kpis import pending
from kpis.breaches import ENGINE, detect_breaches
from kpis.catalogue import seed_catalogue
from kpis.forms import BreachEditForm
from kpis.history import breach_history
from kpis.models import KPI, SLA, Breach, PendingCheck
from kpis.replacements import check_replacement_obligations
from tests.concurrency import connect, in_another_connection, wait_until_a_backend_waits_on_a_lock
from tests.factories import MeasurementFactory, SLAFactory, StaffMemberFactory, kpi

from .test_rules import fill_months, make_sla, performance, record

D = datetime.date
MARCH = D(2026, 3, 1)
BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(datetime.datetime(2026, 6, 20, 9, 0, tzinfo=datetime.UTC), tick=False):
        yield


# --- a person and the engine writing the same breach at once (PostgreSQL) --------------------------
def _person_sets_status_while_the_engine_runs(breach, status, notes, figure_value):
    """The person's UPDATE holds the row lock; the engine's check starts and blocks on it; the person
    commits; the engine finishes."""
    figure = breach.measurement
    figure.value = Decimal(figure_value)
    figure.save()
    with connect() as person:
        person.execute(
            f"UPDATE {Breach._meta.db_table} SET status = %s, notes = %s WHERE id = %s", [status, notes, breach.pk]
        )
        thread, outcome = in_another_connection(lambda: detect_breaches(figures=[(breach.sla_id, breach.period_start)]))
        wait_until_a_backend_waits_on_a_lock("the engine never waited for the person's row lock")
        person.commit()
    thread.join(30)
    assert "error" not in outcome, outcome
    breach.refresh_from_db()
    return breach


@pytest.fixture
def committed_breach(transactional_db):
    seed_catalogue(KPI)  # a transactional test before this one may have flushed the catalogue
    sla = make_sla()
    fill_months(sla, skip=[MARCH])
    record(sla, MARCH, "60")
    detect_breaches()
    breach = performance(sla)
    assert (breach.status, breach.service_credit) == ("open", Decimal("2000.00"))
    return breach


pg_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks between two connections")


@pg_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_status_saved_while_the_check_updates_the_breach_is_kept(committed_breach):
    breach = _person_sets_status_while_the_engine_runs(committed_breach, "acknowledged", "Called them", "70")
    assert (breach.status, breach.notes) == ("acknowledged", "Called them")
    assert (breach.actual, breach.service_credit) == (Decimal("70"), Decimal("2000.00"))


@pg_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_waiver_saved_while_the_check_runs_is_kept_and_owes_nothing(committed_breach):
    breach = _person_sets_status_while_the_engine_runs(committed_breach, "waived", "Goodwill", "70")
    assert (breach.status, breach.notes, breach.actual) == ("waived", "Goodwill", Decimal("70"))
    assert breach.service_credit == 0


@pg_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_status_saved_while_the_check_withdraws_the_breach_comes_back_with_it(committed_breach):
    breach = _person_sets_status_while_the_engine_runs(committed_breach, "acknowledged", "Called them", "95")
    assert (breach.status, breach.status_before_withdrawal, breach.service_credit) == ("withdrawn", "acknowledged", 0)
    figure = breach.measurement
    figure.value = Decimal("60")
    figure.save()
    detect_breaches(figures=[(breach.sla_id, breach.period_start)])
    breach.refresh_from_db()
    assert (breach.status, breach.notes, breach.service_credit) == ("acknowledged", "Called them", Decimal("2000.00"))


# --- the history of every engine change -----------------------------------------------------------------
pytestmark_db = pytest.mark.django_db


@pytestmark_db
def test_every_engine_change_is_in_the_history_with_who_and_why():
    sla = make_sla()
    fill_months(sla, skip=[MARCH])
    figure = record(sla, MARCH, "60")
    detect_breaches()
    breach = performance(sla)
    figure.value = Decimal("95")
    figure.save()
    detect_breaches()
    figure.value = Decimal("60")
    figure.save()
    detect_breaches()
    rows = list(breach.history.order_by("history_date", "history_id"))
    assert [(row.history_type, row.status, row.service_credit) for row in rows] == [
        ("+", "open", Decimal("2000.00")),
        ("~", "withdrawn", Decimal("0")),
        ("~", "open", Decimal("2000.00")),
    ]
    assert {(row.history_user_id, row.history_change_reason) for row in rows} == {(None, ENGINE)}
    entries = breach_history(breach)  # newest first
    assert [entry.who for entry in entries] == [ENGINE] * 3
    assert entries[1].event == "withdrawn: figure corrected to 95.00, which meets the SLA"
    credit = next(change for change in entries[1].changes if change.label == "credit")
    assert (credit.old, credit.new) == (Decimal("2000.00"), Decimal("0"))
    assert entries[0].event == "back as open: figure corrected to 60.00"


@pytestmark_db
def test_a_second_run_writes_no_history():
    sla = make_sla()
    fill_months(sla, skip=[MARCH])
    record(sla, MARCH, "60")
    detect_breaches()
    check_replacement_obligations()
    before = Breach.history.count()
    assert before == Breach.objects.count() > 0
    detect_breaches()
    check_replacement_obligations()
    assert Breach.history.count() == before


@pytestmark_db
def test_a_credit_re_shared_under_the_cap_is_in_the_history():
    sla = make_sla()
    SLA.objects.filter(pk=sla.pk).update(credit_allocation_percent=Decimal("60"))
    other = SLAFactory(
        contract=sla.contract, kpi=kpi("csat"), expected=Decimal("80"), minimum=Decimal("75"),
        credit_allocation_percent=Decimal("60"), effective_from=sla.effective_from,
    )  # fmt: skip
    fill_months(sla, skip=[MARCH])
    fill_months(other, skip=[MARCH])
    record(sla, MARCH, "60")
    second = record(other, MARCH, "60")
    detect_breaches()
    first = performance(sla)
    assert first.service_credit == Decimal("5000.00")  # 6,000 + 6,000 capped at 10,000
    second.value = Decimal("95")
    second.save()
    detect_breaches()
    first.refresh_from_db()
    assert first.service_credit == Decimal("6000.00")
    latest = breach_history(first)[0]
    assert latest.who == ENGINE and latest.event.startswith("credit re-computed")
    assert [(c.label, c.old, c.new) for c in latest.changes] == [("credit", Decimal("5000.00"), Decimal("6000.00"))]


@pytestmark_db
def test_replacement_breaches_are_in_the_history_and_withdrawn_whatever_their_status():
    contract = make_sla(replacement_days=10).contract
    leaver = StaffMemberFactory(contract=contract, joined_on=D(2025, 1, 1), left_on=D(2026, 5, 1))
    check_replacement_obligations()
    breach = Breach.objects.get(kind="replacement")
    Breach.objects.filter(pk=breach.pk).update(status="acknowledged", notes="Chasing")
    obligation = ReplacementObligation.objects.get(departed=leaver)
    obligation.candidate_provided_on = D(2026, 5, 5)  # in time after all
    obligation.save()
    check_replacement_obligations()
    breach.refresh_from_db()
    assert (breach.status, breach.status_before_withdrawal, breach.notes) == ("withdrawn", "acknowledged", "Chasing")
    obligation.candidate_provided_on = D(2026, 5, 30)  # corrected: late after all
    obligation.save()
    check_replacement_obligations()
    breach.refresh_from_db()
    assert breach.status == "resolved"  # back as acknowledged, then resolved by the late fulfilment
    events = [entry.event for entry in breach_history(breach)]
    assert events[0] == "resolved: the replacement was fulfilled late"
    assert events[1] == "withdrawn: the replacement turned out to be in time"
    assert events[-1].startswith("recorded")


@pytest.fixture
def withdrawn_breach(db):
    """A major breach whose figure was corrected to meet the SLA."""
    sla = make_sla()
    fill_months(sla, skip=[MARCH])
    figure = record(sla, MARCH, "60")
    detect_breaches()
    figure.value = Decimal("95")
    figure.save()
    detect_breaches()
    return performance(sla)


def test_breach_page_shows_the_history_in_plain_words(client, withdrawn_breach):
    breach = withdrawn_breach
    client.force_login(breach.contract.owner)
    page = client.get(reverse("kpis:breach_detail", args=[breach.pk])).text
    assert "SLA engine" in page
    assert "withdrawn: figure corrected to 95.00, which meets the SLA" in page
    assert f"credit {format_money(2000, 'USD')} → {format_money(0, 'USD')}" in page
    assert 'data-testid="withdrawn-note"' in page and 'data-testid="breach-actions"' not in page


def test_a_withdrawn_breach_status_cannot_be_changed_by_a_person(client, withdrawn_breach):
    breach = withdrawn_breach
    client.force_login(breach.contract.owner)
    client.post(reverse("kpis:breach_edit", args=[breach.pk]), {"status": "acknowledged", "notes": "x"})
    breach.refresh_from_db()
    assert (breach.status, breach.notes) == ("withdrawn", "x")


# --- checks owed after changes ---------------------------------------------------------------------
def _owed(kind):
    return sorted(set(PendingCheck.objects.filter(kind=kind).values_list("contract_id", "sla_id", "period_start")))


@pytestmark_db
def test_waiving_one_of_three_capped_breaches_re_shares_the_cap_at_once(client):
    sla = make_sla()
    SLA.objects.filter(pk=sla.pk).update(credit_allocation_percent=Decimal("50"))
    contract = sla.contract
    others = [
        SLAFactory(contract=contract, kpi=kpi(code), expected=Decimal("80"), minimum=Decimal("75"),
                   credit_allocation_percent=Decimal("50"), effective_from=sla.effective_from)
        for code in ("csat", "quality_score")
    ]  # fmt: skip
    for each in (sla, *others):
        fill_months(each, skip=[MARCH])
        record(each, MARCH, "60")
    detect_breaches()
    breaches = list(Breach.objects.filter(kind="performance", period_start=MARCH).order_by("sla_id"))
    assert sum(b.service_credit for b in breaches) == Decimal("10000.00")  # 3 × 5,000 capped at 10,000
    PendingCheck.objects.all().delete()
    client.force_login(contract.owner)
    response = client.post(
        reverse("kpis:breach_edit", args=[breaches[0].pk]), {"status": "waived", "reason": "Outage on our side"}
    )
    assert response.status_code == 302
    waived = breach_history(breaches[0])[0]
    assert (waived.who, waived.event) == (contract.owner.get_full_name(), "waived: Outage on our side")
    assert _owed("figure") == [(None, breaches[0].sla_id, MARCH)]
    pending.run_pending_checks()
    credits = [b.service_credit for b in Breach.objects.filter(pk__in=[b.pk for b in breaches]).order_by("sla_id")]
    assert credits == [Decimal("0"), Decimal("5000.00"), Decimal("5000.00")]
    assert not PendingCheck.objects.exists()


@pytestmark_db
def test_a_contract_fee_change_re_computes_its_credits():
    sla = make_sla()
    fill_months(sla, skip=[MARCH])
    record(sla, MARCH, "60")
    detect_breaches()
    PendingCheck.objects.all().delete()
    contract = sla.contract
    contract.monthly_fee = Decimal("50000.00")
    contract.save()
    assert _owed("contract") == [(contract.pk, None, None)]
    pending.run_pending_checks()
    assert performance(sla).service_credit == Decimal("1000.00")


@pytestmark_db
def test_a_new_sla_raises_its_missing_reports_at_once():
    sla = make_sla()
    fill_months(sla)
    detect_breaches()
    PendingCheck.objects.all().delete()
    SLAFactory(contract=sla.contract, kpi=kpi("csat"), effective_from=D(2026, 4, 1))
    pending.run_pending_checks()
    missing = Breach.objects.filter(kind="missing_report", sla__kpi__code="csat")
    assert sorted(missing.values_list("period_start", flat=True)) == [D(2026, 4, 1), D(2026, 5, 1)]


@pytestmark_db
def test_a_departure_and_a_late_replacement_are_checked_at_once():
    contract = make_sla(replacement_days=10).contract
    leaver = StaffMemberFactory(contract=contract, joined_on=D(2025, 1, 1))
    PendingCheck.objects.all().delete()
    leaver.left_on = D(2026, 5, 1)
    leaver.save()
    assert _owed("staffing") == [(contract.pk, None, None)]
    pending.run_pending_checks()
    breach = Breach.objects.get(kind="replacement")
    assert breach.status == "open"
    obligation = ReplacementObligation.objects.get(departed=leaver)
    obligation.candidate_provided_on = D(2026, 6, 1)
    obligation.save()
    pending.run_pending_checks()
    breach.refresh_from_db()
    assert breach.status == "resolved"


@pytestmark_db
def test_a_deleted_figure_is_checked_at_once():
    sla = make_sla()
    fill_months(sla)
    figure = MeasurementFactory(sla=sla, period_start=D(2026, 5, 1) + datetime.timedelta(days=31), value=Decimal(60))
    detect_breaches()
    assert Breach.objects.filter(kind="performance").count() == 1
    figure.delete()
    pending.run_pending_checks()
    assert Breach.objects.get(kind="performance").status == "withdrawn"


@pytestmark_db
def test_a_check_that_fails_leaves_its_rows_owed(monkeypatch):
    sla = make_sla()
    fill_months(sla)
    owed = PendingCheck.objects.count()
    assert owed > 0

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(pending, "detect_breaches", broken)
    with pytest.raises(RuntimeError):
        pending.run_pending_checks()
    assert PendingCheck.objects.count() == owed


# --- the broker never holds a save --------------------------------------------------------------------
@pytest.fixture
def black_hole_broker():
    """A TCP listener that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def test_publishing_to_a_broker_that_never_answers_gives_up_within_two_seconds(black_hole_broker, tmp_path):
    """With the real settings, in a process of its own (the broker URL is read at start-up)."""
    script = (
        "import time, django; django.setup()\n"
        "from kpis import pending\n"
        "started = time.monotonic(); queued = pending.publish(); print(queued, round(time.monotonic() - started, 2))\n"
        "print(pending.queued_message('Saved 1 figure.'))\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "CELERY_BROKER_URL": black_hole_broker,
        "DATA_DIR": str(tmp_path),
    }
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    queued, seconds = result.stdout.splitlines()[0].split()
    assert queued == "False" and float(seconds) < 2, result.stdout
    assert "breaches will be checked within a few minutes" in result.stdout
    assert time.monotonic() - started < 30


def test_a_status_chosen_on_a_page_read_before_the_engine_withdrew_the_breach_is_what_it_comes_back_with(
    client, withdrawn_breach
):
    """The page was read while the breach held; the engine withdrew it before the person pressed Acknowledge."""
    breach = withdrawn_breach
    Breach.objects.filter(pk=breach.pk).update(status="open", status_before_withdrawal="")  # as the page saw it
    breach.refresh_from_db()
    page_form = BreachEditForm({"status": "acknowledged", "reason": "Chasing"}, instance=breach, user=None)
    Breach.objects.filter(pk=breach.pk).update(status="withdrawn", status_before_withdrawal="open")  # the engine
    assert page_form.is_valid(), page_form.errors
    page_form.save()
    breach.refresh_from_db()
    assert (breach.status, breach.status_before_withdrawal) == ("withdrawn", "acknowledged")
    assert "Chasing" in breach.notes
    figure = breach.measurement
    figure.value = Decimal("60")
    figure.save()
    detect_breaches(figures=[(breach.sla_id, breach.period_start)])
    breach.refresh_from_db()
    assert breach.status == "acknowledged"


def test_notes_saved_on_a_withdrawn_breach_do_not_undo_the_engine_bringing_it_back(withdrawn_breach):
    breach = withdrawn_breach  # the page shows it withdrawn (its status cannot be changed there)
    page_form = BreachEditForm({"notes": "Vendor disputes it"}, instance=breach, user=None)
    Breach.objects.filter(pk=breach.pk).update(status="open", status_before_withdrawal="")  # the engine
    assert page_form.is_valid(), page_form.errors
    page_form.save()
    breach.refresh_from_db()
    assert (breach.status, breach.notes) == ("open", "Vendor disputes it")
