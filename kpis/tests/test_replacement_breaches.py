"""DESIGN.md rule 4: replacement obligations and overdue-replacement breaches (also run on SQLite)."""

import datetime

import pytest
import time_machine

from contracts.models import ReplacementObligation
from kpis.models import Breach
from kpis.replacements import check_replacement_obligations
from tests.factories import ContractFactory, StaffMemberFactory

D = datetime.date
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(datetime.datetime(2026, 6, 20, 9, 0, tzinfo=datetime.UTC), tick=False):
        yield


def departed(engagement_model="bpo", left_on=D(2026, 5, 1), replacement_days=30, **contract_kwargs):  # noqa: B008
    contract = ContractFactory(engagement_model=engagement_model, replacement_days=replacement_days, **contract_kwargs)
    return StaffMemberFactory(contract=contract, left_on=left_on, leave_reason="voluntary")


def test_every_departure_gets_its_obligation_due_after_the_replacement_days():
    leaver = departed(replacement_days=21)
    StaffMemberFactory(contract=leaver.contract)  # still active: no obligation
    check_replacement_obligations()
    obligation = ReplacementObligation.objects.get()
    assert (obligation.departed, obligation.due_on) == (leaver, D(2026, 5, 22))


def test_existing_obligation_dates_are_never_rewritten():
    leaver = departed()
    check_replacement_obligations()
    ReplacementObligation.objects.update(due_on=D(2026, 7, 31))  # agreed extension
    check_replacement_obligations()
    assert ReplacementObligation.objects.get(departed=leaver).due_on == D(2026, 7, 31)


@pytest.mark.parametrize(
    ("engagement_model", "candidate_provided_on", "replacement_productive_on", "status"),
    [
        # BPO: fulfilled when the vendor supplies candidates
        ("bpo", None, None, "open"),  # overdue (due 2026-05-31)
        ("bpo", D(2026, 5, 20), None, None),  # on time: no breach
        ("bpo", D(2026, 5, 31), None, None),  # on the due date: on time
        ("bpo", D(2026, 6, 5), None, "resolved"),  # late: kept on record, resolved
        ("bpo", None, D(2026, 5, 20), "open"),  # productive date does not count for BPO
        # BPM / BPS: fulfilled when the replacement is productive
        ("bpm", D(2026, 5, 10), None, "open"),  # candidates alone do not fulfil BPM
        ("bpm", D(2026, 5, 10), D(2026, 5, 30), None),
        ("bpm", D(2026, 5, 10), D(2026, 6, 10), "resolved"),
        ("bps", D(2026, 5, 10), None, "open"),
        ("bps", D(2026, 5, 10), D(2026, 5, 31), None),
    ],
)
def test_fulfilment_date_depends_on_the_engagement_model(
    engagement_model, candidate_provided_on, replacement_productive_on, status
):
    leaver = departed(engagement_model)
    ReplacementObligation.objects.create(
        departed=leaver,
        due_on=D(2026, 5, 31),
        candidate_provided_on=candidate_provided_on,
        replacement_productive_on=replacement_productive_on,
    )
    check_replacement_obligations()
    breach = Breach.objects.filter(kind="replacement").first()
    if status is None:
        assert breach is None
    else:
        assert (breach.status, breach.severity, breach.service_credit) == (status, "major", 0)
        assert breach.obligation.departed == leaver
        assert breach.contract == leaver.contract and breach.sla is None
        assert (breach.period_start, breach.period_end) == (D(2026, 5, 1), D(2026, 5, 31))


def test_not_yet_due_is_no_breach():
    departed(left_on=D(2026, 6, 1))  # due 2026-07-01
    check_replacement_obligations()
    assert not Breach.objects.exists()


def test_late_fulfilment_resolves_the_open_breach_and_keeps_notes():
    departed()
    check_replacement_obligations()
    breach = Breach.objects.get(kind="replacement")
    assert breach.status == "open"
    Breach.objects.update(status="acknowledged", notes="Vendor promised two CVs by Friday.")
    ReplacementObligation.objects.update(candidate_provided_on=D(2026, 6, 12))
    check_replacement_obligations()
    breach.refresh_from_db()
    assert (breach.status, breach.notes) == ("resolved", "Vendor promised two CVs by Friday.")


def test_waived_replacement_breach_stays_waived():
    departed()
    check_replacement_obligations()
    Breach.objects.update(status="waived")
    ReplacementObligation.objects.update(candidate_provided_on=D(2026, 6, 12))
    check_replacement_obligations()
    assert Breach.objects.get().status == "waived"


def test_corrected_fulfilment_date_withdraws_an_open_breach():
    departed()
    check_replacement_obligations()
    ReplacementObligation.objects.update(candidate_provided_on=D(2026, 5, 15))
    check_replacement_obligations()
    assert Breach.objects.get().status == "withdrawn"


def test_only_active_contracts():
    departed(status="terminated")
    check_replacement_obligations()
    assert not ReplacementObligation.objects.exists() and not Breach.objects.exists()


def test_running_twice_changes_nothing():
    departed()
    departed("bpm", left_on=D(2026, 4, 1))
    first = check_replacement_obligations()
    assert first == {"obligations_created": 2, "replacement_breaches_recorded": 2, "replacement_breaches_withdrawn": 0}
    rows = sorted(Breach.objects.values_list())
    obligations = sorted(ReplacementObligation.objects.values_list())
    assert set(check_replacement_obligations().values()) == {0}
    assert sorted(Breach.objects.values_list()) == rows
    assert sorted(ReplacementObligation.objects.values_list()) == obligations
