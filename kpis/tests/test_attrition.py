"""DESIGN.md rule 6: monthly attrition from the roster (also run on SQLite)."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from kpis.attrition import attrition_percent, compute_attrition, parse_month
from kpis.models import Breach, Measurement
from tests.factories import ContractFactory, SLAFactory, StaffMemberFactory, kpi

D = datetime.date
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(datetime.datetime(2026, 6, 3, 9, 0, tzinfo=datetime.UTC), tick=False):
        yield


def attrition_sla(contract=None, expected="4", minimum="6"):
    contract = contract or ContractFactory(start_date=D(2026, 1, 1))
    return SLAFactory(
        contract=contract,
        kpi=kpi("attrition_rate"),
        expected=Decimal(expected),
        minimum=Decimal(minimum),
        effective_from=contract.start_date,
    )


def roster(contract, stayers, leavers_in_may=(), joiners_in_may=0, left_before=0, left_after=0):
    for _ in range(stayers):
        StaffMemberFactory(contract=contract, joined_on=D(2025, 6, 1))
    for day in leavers_in_may:
        StaffMemberFactory(contract=contract, joined_on=D(2025, 6, 1), left_on=D(2026, 5, day), leave_reason="other")
    for _ in range(joiners_in_may):
        StaffMemberFactory(contract=contract, joined_on=D(2026, 5, 15))
    for _ in range(left_before):
        StaffMemberFactory(contract=contract, joined_on=D(2025, 6, 1), left_on=D(2026, 4, 30), leave_reason="other")
    for _ in range(left_after):
        StaffMemberFactory(contract=contract, joined_on=D(2025, 6, 1), left_on=D(2026, 6, 1), leave_reason="other")


@pytest.mark.parametrize(
    ("stayers", "leavers", "joiners", "left_before", "left_after", "expected"),
    [
        # start = stayers + leavers + left_after; end = stayers + joiners + left_after
        (47, [1, 15, 31], 0, 0, 0, "6.19"),  # 3 ÷ ((50 + 47) / 2) × 100 = 6.1855… → 6.19
        (48, [2, 20], 2, 0, 0, "4.00"),  # 2 ÷ ((50 + 50) / 2)
        (50, [], 0, 3, 2, "0.00"),  # April and June leavers do not count in May
        (0, [10], 0, 0, 0, "200.00"),  # 1 ÷ ((1 + 0) / 2)
        (2, [31], 0, 0, 0, "40.00"),  # leaving on the last day counts at the start, not the end
        (30, [1], 0, 0, 0, "3.28"),  # 1 ÷ 30.5 × 100 = 3.2786…
    ],
)
def test_attrition_formula(stayers, leavers, joiners, left_before, left_after, expected):
    sla = attrition_sla()
    roster(sla.contract, stayers, leavers, joiners, left_before, left_after)
    result = compute_attrition()
    assert result["month"] == "2026-05"
    figure = Measurement.objects.get(sla=sla)
    assert (figure.period_start, figure.period_end, figure.source) == (D(2026, 5, 1), D(2026, 5, 31), "computed")
    assert figure.value == Decimal(expected)
    start = stayers + len(leavers) + left_after
    end = stayers + joiners + left_after
    assert attrition_percent(len(leavers), start, end) == Decimal(expected)


def test_attrition_flows_through_the_breach_rules():
    sla = attrition_sla(expected="4", minimum="6")
    roster(sla.contract, 47, [1, 15, 31])  # 6.19 % > 6 → major
    compute_attrition("2026-05")
    breach = Breach.objects.get()
    assert (breach.kind, breach.severity, breach.actual) == ("performance", "major", Decimal("6.19"))


def test_contract_without_an_attrition_sla_or_staff_gets_no_figure():
    ContractFactory()
    attrition_sla()  # no staff at all: the rate is undefined
    compute_attrition()
    assert not Measurement.objects.exists()


def test_a_figure_recorded_by_a_person_is_not_overwritten():
    sla = attrition_sla()
    roster(sla.contract, 47, [1, 15, 31])
    Measurement.objects.create(sla=sla, period_start=D(2026, 5, 1), value=Decimal("2.5"), source="manual")
    compute_attrition()
    assert Measurement.objects.get().value == Decimal("2.5")


def test_month_argument_and_recomputation_when_the_roster_is_corrected():
    sla = attrition_sla()
    roster(sla.contract, 48, [2, 20], 2)
    compute_attrition("2026-04")
    assert Measurement.objects.get(period_start=D(2026, 4, 1)).value == Decimal("0.00")
    compute_attrition()
    rows = list(Measurement.objects.values_list())
    compute_attrition()
    assert list(Measurement.objects.values_list()) == rows  # idempotent
    sla.contract.staff.filter(left_on=D(2026, 5, 20)).update(left_on=None, leave_reason="")
    compute_attrition()
    assert Measurement.objects.get(period_start=D(2026, 5, 1)).value == Decimal("1.98")  # 1 ÷ ((50 + 51) / 2)


@pytest.mark.parametrize(
    ("month", "expected"),
    [(None, D(2026, 5, 1)), ("2026-02", D(2026, 2, 1)), ("2025-12-01", D(2025, 12, 1)), (D(2026, 3, 9), D(2026, 3, 1))],
)
def test_parse_month(month, expected):
    assert parse_month(month) == expected


def test_parse_month_rejects_nonsense():
    with pytest.raises(ValueError, match="write it like 2026-05"):
        parse_month("May")
