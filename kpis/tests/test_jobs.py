"""The jobs as a whole: set-based query counts, idempotency, tasks, commands, renewals, locking."""

import datetime
import re
import threading
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from common import sql
from contracts.models import ReplacementObligation
from contracts.renewals import check_renewals, contracts_due_for_notice
from contracts.tasks import check_renewals as check_renewals_task
from contracts.tasks import check_replacement_obligations as replacements_task
from kpis import breaches
from kpis.breaches import detect_breaches
from kpis.models import Breach, Measurement
from kpis.periods import next_period_start, period_end
from kpis.tasks import compute_attrition as attrition_task
from kpis.tasks import detect_breaches as detect_breaches_task
from tests.factories import ContractFactory, SLAFactory, StaffMemberFactory, kpi

D = datetime.date


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(datetime.datetime(2026, 6, 20, 9, 0, tzinfo=datetime.UTC), tick=False):
        yield


def build_measurements(count, slas_per_contract=4):
    """``count`` monthly figures (a mix of met, minor and major) spread over SLAs of several contracts."""
    codes = ["service_level", "csat", "quality_score", "first_contact_resolution"]
    months = [D(2026, month, 1) for month in range(1, 6)]
    slas = []
    while len(slas) * len(months) < count:
        contract = ContractFactory(start_date=D(2026, 1, 1), earn_back_periods=1)
        for code in codes[:slas_per_contract]:
            slas.append(SLAFactory(contract=contract, kpi=kpi(code), effective_from=contract.start_date))
    values = [Decimal("90"), Decimal("77"), Decimal("60")]
    rows = []
    for index, (sla, month) in enumerate((sla, month) for sla in slas for month in months):
        if index >= count:
            break
        rows.append(
            Measurement(sla=sla, period_start=month, period_end=period_end("monthly", month), value=values[index % 3])
        )
    Measurement.objects.bulk_create(rows)
    return slas


def count_queries(**kwargs):
    with CaptureQueriesContext(connection) as context:
        detect_breaches(**kwargs)
    return len(context.captured_queries)


@pytest.mark.django_db
def test_detect_breaches_query_count_does_not_grow_with_the_data():
    build_measurements(10)
    small = count_queries()
    assert Breach.objects.exists()
    Breach.objects.all().delete()
    Measurement.objects.all().delete()
    build_measurements(1000)
    large = count_queries()
    # lock, calendar, three temporary tables, six writes, ANALYZE (SQLite: + rowcount queries)
    assert small == large <= 24
    assert Breach.objects.filter(kind="performance").count() == 666
    # and again, nothing to do: same number of statements
    assert count_queries() == large


@pytest.mark.django_db
def test_detect_breaches_for_some_slas_runs_the_same_statements():
    slas = build_measurements(40)
    assert count_queries(sla_ids=[slas[0].pk]) == count_queries(sla_ids=[sla.pk for sla in slas])


def full_snapshot():
    return (
        sorted(Breach.objects.values_list()),
        sorted(Measurement.objects.values_list()),
        sorted(ReplacementObligation.objects.values_list()),
    )


@pytest.mark.django_db
def test_run_sla_checks_twice_leaves_identical_rows(capsys):
    contract = ContractFactory(start_date=D(2026, 1, 1), end_date=D(2026, 7, 10), notice_days=10)
    sla = SLAFactory(contract=contract, effective_from=contract.start_date)
    attrition = SLAFactory(
        contract=contract, kpi=kpi("attrition_rate"), expected=Decimal("2"), minimum=Decimal("3"),
        effective_from=contract.start_date,
    )  # fmt: skip
    for month, value in [(1, "90"), (2, "60"), (4, "77")]:
        Measurement.objects.create(sla=sla, period_start=D(2026, month, 1), value=Decimal(value))
    for _ in range(20):
        StaffMemberFactory(contract=contract, joined_on=D(2025, 1, 1))
    StaffMemberFactory(contract=contract, joined_on=D(2025, 1, 1), left_on=D(2026, 5, 3), leave_reason="voluntary")
    call_command("run_sla_checks")
    out = capsys.readouterr().out
    assert "Attrition 2026-05: 1 figures written for 1 SLAs." in out
    assert "Replacements: 1 obligations created, 1 breaches raised or resolved" in out
    assert f"{contract.reference}" in out and "notice by 2026-06-30" in out
    assert Measurement.objects.get(sla=attrition).value == Decimal("4.88")  # 1 ÷ 20.5
    kinds = sorted(Breach.objects.values_list("kind", "period_start"))
    assert kinds == [
        ("missing_report", D(2026, 3, 1)),
        ("missing_report", D(2026, 5, 1)),
        ("performance", D(2026, 2, 1)),
        ("performance", D(2026, 4, 1)),
        ("performance", D(2026, 5, 1)),  # attrition 4.88 % > 3 %
        ("replacement", D(2026, 5, 3)),
    ]
    rows = full_snapshot()
    call_command("run_sla_checks")
    assert full_snapshot() == rows


@pytest.mark.django_db
def test_run_sla_checks_rejects_a_bad_month():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="write it like 2026-05"):
        call_command("run_sla_checks", month="May")


@pytest.mark.django_db
def test_tasks_take_json_arguments_and_return_json():
    contract = ContractFactory(start_date=D(2026, 1, 1))
    sla = SLAFactory(contract=contract, effective_from=contract.start_date)
    Measurement.objects.create(sla=sla, period_start=D(2026, 1, 1), value=Decimal("10"))
    summary = detect_breaches_task.apply(kwargs={"sla_ids": [sla.pk]}).get()
    assert (summary["performance_recorded"], summary["missing_reports_recorded"]) == (1, 4)  # Jan; Feb–May
    assert set(detect_breaches_task.apply(kwargs={"today": "2026-06-20"}).get().values()) == {0}
    assert attrition_task.apply(kwargs={"month": "2026-05"}).get()["month"] == "2026-05"
    assert replacements_task.apply().get() == {
        "obligations_created": 0,
        "replacement_breaches_recorded": 0,
        "replacement_breaches_withdrawn": 0,
    }
    assert check_renewals_task.apply().get() == []
    for task in (detect_breaches_task, attrition_task, replacements_task, check_renewals_task):
        assert task.acks_late and task.time_limit and task.soft_time_limit


@pytest.mark.django_db
def test_the_beat_schedule_names_the_tasks():
    from django.conf import settings

    import contracts.tasks  # noqa: F401
    import kpis.tasks  # noqa: F401
    import reports.tasks  # noqa: F401
    from config.celery import app

    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("end_date", "notice_days", "status", "due"),
    [
        (D(2026, 9, 30), 90, "active", True),  # deadline 2026-07-02: in 12 days
        (D(2026, 7, 20), 30, "active", True),  # deadline today
        (D(2026, 10, 20), 90, "active", False),  # deadline 2026-07-22: 32 days away
        (D(2026, 10, 18), 90, "active", True),  # deadline 2026-07-20: exactly 30 days
        (D(2026, 7, 19), 30, "active", False),  # deadline yesterday: too late to list
        (D(2026, 9, 30), 90, "terminated", False),
    ],
)
def test_renewals_due_within_30_days(end_date, notice_days, status, due):
    contract = ContractFactory(end_date=end_date, notice_days=notice_days, status=status)
    listed = [row["reference"] for row in check_renewals()]
    assert (contract.reference in listed) is due
    assert (contract in list(contracts_due_for_notice())) is due


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="advisory locks are PostgreSQL's")
def test_concurrent_runs_are_serialised_and_never_duplicate():
    build_measurements(200)
    errors = []

    def run():
        try:
            detect_breaches()
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Breach.objects.filter(kind="performance").count() == 133
    # The lock is really taken: another session cannot take it while a run holds it.
    from django.db import transaction

    with transaction.atomic(), sql.job_lock("kpis.detect_breaches"):
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [sql.lock_key("kpis.detect_breaches")])
                assert cursor.fetchone()[0] is False
        finally:
            other.close()


def mixed_contracts(rng):
    """Six contracts (earn-back 0, 1, 2 periods; a 5 % cap), three monthly or weekly SLAs each, and five
    months of figures (85 % reported) that meet, miss or fall below the minimum."""
    slas = []
    for index in range(6):
        contract = ContractFactory(start_date=D(2026, 1, 1), earn_back_periods=index % 3, at_risk_percent=Decimal("5"))
        for code in ["service_level", "average_speed_of_answer", "csat"]:
            higher = code != "average_speed_of_answer"
            slas.append(
                SLAFactory(
                    contract=contract,
                    kpi=kpi(code),
                    expected=Decimal("80" if higher else "20"),
                    minimum=Decimal("75" if higher else "30"),
                    frequency=["monthly", "weekly"][index % 2],
                    credit_allocation_percent=Decimal(rng.choice(["20", "50", "70"])),
                    effective_from=contract.start_date,
                )
            )
    for sla in slas:
        higher = sla.kpi.code != "average_speed_of_answer"
        day = D(2026, 1, 1) if sla.frequency == "monthly" else D(2026, 1, 5)
        while day < D(2026, 6, 1):
            if rng.random() < 0.85:
                value = Decimal(rng.choice(["90", "80", "77", "60"] if higher else ["10", "20", "25", "45"]))
                Measurement.objects.create(sla=sla, period_start=day, value=value)
            day = next_period_start(sla.frequency, day)
    return slas


@pytest.mark.django_db
def test_checks_per_sla_and_one_full_check_give_the_same_rows():
    import random

    slas = mixed_contracts(random.Random(47))

    def facts():
        return sorted(
            Breach.objects.values_list(
                "kind", "severity", "sla_id", "period_start", "actual", "service_credit", "credit_earned_back", "status"
            )
        )

    for sla in slas:
        detect_breaches(sla_ids=[sla.pk])
    one_by_one = facts()
    assert Breach.objects.filter(service_credit__gt=0).exists()
    assert Breach.objects.filter(credit_earned_back__gt=0).exists()
    Breach.objects.all().delete()
    detect_breaches()
    assert facts() == one_by_one


def breach_table_catalogue():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'kpis_breach'::regclass"
        )
        constraints = sorted(cursor.fetchall())
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'kpis_breach'")
        # A re-created partial index deparses its predicate's casts differently; the same casts either way.
        casts = re.compile(r"::[\w ]+(\[\])?|[()]")
        return constraints, sorted((name, casts.sub("", definition)) for name, definition in cursor)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the bulk load is PostgreSQL's")
@pytest.mark.django_db
def test_a_bulk_first_run_records_the_same_breaches_and_keeps_every_index_and_key(monkeypatch):
    from django.db import IntegrityError, transaction

    from kpis import breaches

    build_measurements(60)
    detect_breaches()
    normal = sorted(Breach.objects.values_list("kind", "severity", "sla_id", "period_start", "service_credit"))
    before = breach_table_catalogue()
    Breach.objects.all().delete()
    monkeypatch.setattr(breaches, "BULK_LOAD_MIN_ROWS", 1)
    with CaptureQueriesContext(connection) as queries:
        detect_breaches()
    assert any(q["sql"].startswith("DROP INDEX") for q in queries.captured_queries)  # it did take the bulk path
    assert sorted(Breach.objects.values_list("kind", "severity", "sla_id", "period_start", "service_credit")) == normal
    assert breach_table_catalogue() == before
    breach = Breach.objects.first()
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("UPDATE kpis_breach SET contract_id = -1 WHERE id = %s", [breach.pk])
    other = Breach.objects.exclude(sla=breach.sla_id).first()
    with pytest.raises(IntegrityError), transaction.atomic():  # the unique keys are back and enforced
        Breach.objects.filter(pk=other.pk).update(sla=breach.sla_id, period_start=breach.period_start)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the bulk load is PostgreSQL's")
@pytest.mark.django_db
def test_a_bulk_load_that_would_duplicate_a_breach_rolls_back_whole(monkeypatch):
    from django.db import IntegrityError

    from kpis import breaches

    build_measurements(30)
    monkeypatch.setattr(breaches, "BULK_LOAD_MIN_ROWS", 1)
    before = breach_table_catalogue()
    # A candidate table with one breach twice: the re-created unique key must refuse the load.
    original = breaches.candidates_select
    monkeypatch.setattr(
        breaches,
        "candidates_select",
        lambda *a, **k: (
            f"SELECT * FROM ({original(*a, **k)}) c UNION ALL (SELECT * FROM ({original(*a, **k)}) d LIMIT 1)"
        ),
    )
    with pytest.raises(IntegrityError):
        detect_breaches()
    assert not Breach.objects.exists()
    assert breach_table_catalogue() == before


@pytest.mark.django_db
def test_after_figure_checks_a_full_run_finds_nothing_to_change():
    """The check queued for changed figures evaluates just their periods and takes the rest of their
    contract-months as recorded: it must leave exactly what a full run would (caps re-shared, earn-back
    won or lost, reports arriving or going missing)."""
    import random

    rng = random.Random(11)
    slas = mixed_contracts(rng)
    detect_breaches()
    by_sla = {sla.pk: sla for sla in slas}
    for _wave in range(5):
        changed = []
        figures = list(Measurement.objects.order_by("pk"))
        for figure in rng.sample(figures, 12):
            changed.append((figure.sla_id, figure.period_start))
            if rng.random() < 0.25:
                figure.delete()
            else:
                higher = by_sla[figure.sla_id].kpi.code != "average_speed_of_answer"
                figure.value = Decimal(rng.choice(["90", "80", "77", "60"] if higher else ["10", "20", "25", "45"]))
                figure.save()
        for sla in rng.sample(slas, 4):  # a missing report arrives, if there is one
            recorded = set(Measurement.objects.filter(sla=sla).values_list("period_start", flat=True))
            day = D(2026, 1, 1) if sla.frequency == "monthly" else D(2026, 1, 5)
            while day < D(2026, 6, 1) and day in recorded:
                day = next_period_start(sla.frequency, day)
            if day < D(2026, 6, 1):
                Measurement.objects.create(sla=sla, period_start=day, value=Decimal("60"))
                changed.append((sla.pk, day))
        detect_breaches(figures=changed)
        full_run = detect_breaches()
        assert set(full_run.values()) == {0}, full_run
    assert Breach.objects.filter(credit_earned_back__gt=0).exists()
    assert Breach.objects.filter(status="withdrawn").exists()


@pytest.mark.django_db
def test_a_figure_check_keeps_the_earn_back_of_the_contracts_other_frequencies():
    """A figure check re-shares the cap of its contract-month with the breaches recorded there, of any SLA of
    the contract, and re-settles their earn-back: its calendar (only the frequencies of the contracts it looks
    at, not every one in use) must hold the weekly periods of a monthly figure's weekly neighbour."""
    contract = ContractFactory(start_date=D(2026, 1, 1), earn_back_periods=1)
    monthly = SLAFactory(
        contract=contract, kpi=kpi("service_level"), effective_from=D(2026, 3, 1), effective_to=D(2026, 3, 31)
    )
    weekly = SLAFactory(
        contract=contract,
        kpi=kpi("csat"),
        frequency="weekly",
        effective_from=D(2026, 3, 2),
        effective_to=D(2026, 3, 15),
    )
    daily = SLAFactory(frequency="daily", effective_from=D(2026, 6, 1))  # another contract: a third frequency in use
    Measurement.objects.create(sla=weekly, period_start=D(2026, 3, 2), value=Decimal("60"))  # major…
    Measurement.objects.create(sla=weekly, period_start=D(2026, 3, 9), value=Decimal("90"))  # …earned back
    figure = Measurement.objects.create(sla=monthly, period_start=D(2026, 3, 1), value=Decimal("60"))
    for day in range(1, 19):
        Measurement.objects.create(sla=daily, period_start=D(2026, 6, day), value=Decimal("90"))
    detect_breaches()
    earned = Breach.objects.get(sla=weekly, period_start=D(2026, 3, 2))
    assert (earned.service_credit, earned.credit_earned_back) == (Decimal("0"), Decimal("2000.00"))

    assert {"monthly", "weekly"} == breaches.scope_frequencies(figures=[(monthly.pk, figure.period_start)])
    figure.value = Decimal("59")
    figure.save()
    summary = detect_breaches(figures=[(monthly.pk, figure.period_start)])

    assert summary["performance_updated"] == 1  # the corrected figure's breach, nothing else
    earned.refresh_from_db()
    assert (earned.service_credit, earned.credit_earned_back) == (Decimal("0"), Decimal("2000.00"))
    assert Breach.objects.get(sla=monthly).actual == Decimal("59")
    assert set(detect_breaches().values()) == {0}


@pytest.mark.django_db
def test_a_large_scope_reads_every_frequency_in_the_calendar():
    slas = build_measurements(8, slas_per_contract=1)
    assert breaches.scope_frequencies(figures=[(sla.pk, D(2026, 1, 1)) for sla in slas[:3]]) == {"monthly"}
    assert breaches.scope_frequencies(contract_ids=[slas[0].contract_id]) == {"monthly"}
    # Past SMALL_SCOPE SLAs, no query: a wave that large spans every frequency anyway.
    wave = [(pk, D(2026, 1, 1)) for pk in range(1, breaches.SMALL_SCOPE + 2)]
    with CaptureQueriesContext(connection) as queries:
        assert breaches.scope_frequencies(figures=wave) is None
    assert not queries.captured_queries
