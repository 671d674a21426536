"""DESIGN.md rules 1, 2, 3 and 5 as tables, run through the set-based engine (``kpis.breaches``).

This module also runs against SQLite: see ``test_rules_on_sqlite.py``.
"""

import datetime
from decimal import Decimal

import pytest
import time_machine

from contracts.choices import ContractStatus
from kpis.breaches import detect_breaches
from kpis.models import Breach, Measurement
from tests.factories import ContractFactory, MeasurementFactory, SLAFactory, kpi

D = datetime.date
pytestmark = pytest.mark.django_db
TODAY = D(2026, 6, 20)


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(datetime.datetime(2026, 6, 20, 9, 0, tzinfo=datetime.UTC), tick=False):
        yield


def make_sla(code="service_level", expected="80", minimum="75", frequency="monthly", **contract_kwargs):
    contract_kwargs.setdefault("start_date", D(2026, 1, 1))
    contract = ContractFactory(**contract_kwargs)
    return SLAFactory(
        contract=contract,
        kpi=kpi(code),
        expected=Decimal(expected),
        minimum=Decimal(minimum),
        frequency=frequency,
        effective_from=contract.start_date,
    )


def record(sla, start, value):
    return MeasurementFactory(sla=sla, period_start=start, value=Decimal(str(value)))


def fill_months(sla, value="90", first=None, last=None, skip=()):
    day, last = first or D(2026, 1, 1), last or D(2026, 5, 1)
    while day <= last:
        if day not in skip:
            record(sla, day, value)
        day = (day + datetime.timedelta(days=32)).replace(day=1)


def performance(sla, start=None):
    return Breach.objects.filter(sla=sla, kind="performance", period_start=start or D(2026, 3, 1)).first()


def snapshot():
    return sorted(
        Breach.objects.values_list(
            "id",
            "kind",
            "severity",
            "sla_id",
            "measurement_id",
            "period_start",
            "period_end",
            "expected",
            "minimum",
            "actual",
            "service_credit",
            "credit_earned_back",
            "status",
            "notes",
            "detected_at",
            "updated_at",
        )
    )


# --- rule 1 -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "expected", "minimum", "value", "outcome"),
    [
        # higher is better: service level 80 expected, 75 minimum
        ("service_level", "80", "75", "92.5", None),  # better than expected
        ("service_level", "80", "75", "80", None),  # equal to expected: met
        ("service_level", "80", "75", "77", "minor"),  # between
        ("service_level", "80", "75", "75", "minor"),  # equal to the minimum
        ("service_level", "80", "75", "74.99", "major"),  # worse than the minimum
        ("service_level", "80", "80", "79.99", "major"),  # one level only
        # lower is better: average speed of answer 20 s expected, 30 s minimum
        ("average_speed_of_answer", "20", "30", "12", None),
        ("average_speed_of_answer", "20", "30", "20", None),
        ("average_speed_of_answer", "20", "30", "25", "minor"),
        ("average_speed_of_answer", "20", "30", "30", "minor"),
        ("average_speed_of_answer", "20", "30", "30.01", "major"),
    ],
)
def test_performance_breach_severity_follows_rule_1(code, expected, minimum, value, outcome):
    sla = make_sla(code, expected, minimum)
    fill_months(sla, value="90" if code == "service_level" else "10", skip=[D(2026, 3, 1)])
    record(sla, D(2026, 3, 1), value)
    detect_breaches()
    breach = performance(sla)
    if outcome is None:
        assert breach is None
    else:
        assert breach.severity == outcome
        assert (breach.expected, breach.minimum, breach.actual) == (Decimal(expected), Decimal(minimum), Decimal(value))
        assert breach.status == "open"
        assert breach.measurement == Measurement.objects.get(sla=sla, period_start=D(2026, 3, 1))
        assert breach.contract == sla.contract
        assert breach.period_end == D(2026, 3, 31)
    assert sla.evaluate(Decimal(value)) == outcome  # the Python twin agrees


# --- rule 2: credits ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fee", "at_risk", "allocation", "value", "credit"),
    [
        ("100000.00", "10", "20", "70", "2000.00"),  # major: fee × 10 % × 20 %
        ("100000.00", "10", "20", "77", "0.00"),  # minor: no credit
        ("12345.67", "7.5", "33.33", "70", "308.61"),  # 308.6095… rounded half-up
        ("100.10", "10", "50", "70", "5.01"),  # exactly 5.005 → half-up
        ("99999999.99", "12.5", "37.5", "70", "4687500.00"),  # big fee stays exact
    ],
)
def test_major_breach_earns_allocated_credit(fee, at_risk, allocation, value, credit):
    sla = make_sla(monthly_fee=Decimal(fee), at_risk_percent=Decimal(at_risk))
    sla.credit_allocation_percent = Decimal(allocation)
    sla.save()
    fill_months(sla, skip=[D(2026, 3, 1)])
    record(sla, D(2026, 3, 1), value)
    detect_breaches()
    assert performance(sla).service_credit == Decimal(credit)
    assert performance(sla).credit_earned_back == 0


@pytest.mark.parametrize(
    ("allocations", "expected_credits"),
    [
        # cap = 100,000 × 10 % = 10,000
        (["20", "30"], ["2000.00", "3000.00"]),  # under the cap
        (["60", "40"], ["6000.00", "4000.00"]),  # exactly the cap
        (["80", "70"], ["5333.34", "4666.66"]),  # capped: proportional, remainder cent to the largest
        (["50", "50", "50"], ["3333.34", "3333.33", "3333.33"]),  # ties: first row takes the remainder
        (["100", "100", "100", "100"], ["2500.00", "2500.00", "2500.00", "2500.00"]),
    ],
)
def test_monthly_credits_never_exceed_the_cap(allocations, expected_credits):
    contract = ContractFactory(start_date=D(2026, 1, 1))
    codes = ["service_level", "first_contact_resolution", "csat", "quality_score"]
    slas = []
    for code, allocation in zip(codes, allocations, strict=False):
        sla = SLAFactory(
            contract=contract,
            kpi=kpi(code),
            expected=Decimal("80"),
            minimum=Decimal("75"),
            credit_allocation_percent=Decimal(allocation),
            effective_from=contract.start_date,
        )
        fill_months(sla, skip=[D(2026, 3, 1)])
        record(sla, D(2026, 3, 1), "50")
        slas.append(sla)
    detect_breaches()
    credits = [str(performance(sla).service_credit) for sla in slas]
    assert credits == expected_credits
    assert sum(Decimal(c) for c in credits) <= contract.credit_cap
    if sum(Decimal(a) for a in allocations) >= 100:
        assert sum(Decimal(c) for c in credits) == contract.credit_cap == Decimal("10000.00")
    # Another month is capped on its own.
    assert Breach.objects.filter(period_end__month=4).count() == 0


def test_cap_counts_missing_reports_and_ignores_other_months_and_contracts():
    contract = ContractFactory(start_date=D(2026, 1, 1))
    a = SLAFactory(contract=contract, credit_allocation_percent=Decimal("70"), effective_from=contract.start_date)
    b = SLAFactory(
        contract=contract, kpi=kpi("csat"), credit_allocation_percent=Decimal("70"), effective_from=contract.start_date
    )
    fill_months(a, skip=[D(2026, 3, 1), D(2026, 4, 1)])
    record(a, D(2026, 3, 1), "10")
    record(a, D(2026, 4, 1), "10")
    fill_months(b, skip=[D(2026, 3, 1)])  # March missing → major with credit
    other = make_sla()
    fill_months(other, skip=[D(2026, 3, 1)])
    record(other, D(2026, 3, 1), "10")
    detect_breaches()
    march = Breach.objects.filter(contract=contract, period_start=D(2026, 3, 1))
    assert {x.kind: x.service_credit for x in march} == {
        "performance": Decimal("5000.00"),
        "missing_report": Decimal("5000.00"),
    }
    assert Breach.objects.get(sla=a, period_start=D(2026, 4, 1)).service_credit == Decimal("7000.00")
    assert performance(other).service_credit == Decimal("2000.00")


@pytest.mark.parametrize(
    ("later_values", "earned"),
    [
        (["85", "90"], True),  # met in both of the next two periods → earned back
        (["80", "80"], True),  # equal to expected counts as met
        (["85", "77"], False),  # lost to a later minor breach
        (["85", None], False),  # lost to a missing figure
        (["85"], False),  # still pending: the second period has not been reported yet
    ],
)
def test_earn_back_after_n_met_periods(later_values, earned):
    sla = make_sla(earn_back_periods=2)
    fill_months(sla, last=D(2026, 1, 1))
    record(sla, D(2026, 2, 1), "60")  # major breach in February
    for offset, value in enumerate(later_values):
        if value is not None:
            record(sla, D(2026, 3 + offset, 1), value)
    detect_breaches()
    breach = performance(sla, D(2026, 2, 1))
    if earned:
        assert (breach.service_credit, breach.credit_earned_back) == (Decimal("0"), Decimal("2000.00"))
    else:
        assert (breach.service_credit, breach.credit_earned_back) == (Decimal("2000.00"), Decimal("0"))


def test_earn_back_is_undone_when_a_later_figure_is_corrected_to_a_breach():
    sla = make_sla(earn_back_periods=1)
    record(sla, D(2026, 2, 1), "60")
    march = record(sla, D(2026, 3, 1), "85")
    detect_breaches()
    assert performance(sla, D(2026, 2, 1)).credit_earned_back == Decimal("2000.00")
    march.value = Decimal("70")
    march.save()
    detect_breaches()
    assert performance(sla, D(2026, 2, 1)).service_credit == Decimal("2000.00")
    assert performance(sla, D(2026, 2, 1)).credit_earned_back == 0


def test_no_earn_back_when_the_contract_has_none():
    sla = make_sla(earn_back_periods=0)
    record(sla, D(2026, 2, 1), "60")
    fill_months(sla, first=D(2026, 3, 1))
    detect_breaches()
    assert performance(sla, D(2026, 2, 1)).service_credit == Decimal("2000.00")


# --- rule 3: missing reports ------------------------------------------------------------------------
# Each missing report is major with the SLA's credit, 2,000.00 (100,000 × 10 % × 20 %); June's cap is
# 10,000.00. Fourteen or nineteen daily reports would owe 28,000 / 38,000: capped, shared equally, the
# cents left by rounding going to the earliest period (every credit is the same size).
CAPPED_14 = [Decimal("714.36")] + [Decimal("714.28")] * 13  # 14 × 714.28 = 9,999.92 → +8 cents
CAPPED_19 = [Decimal("526.42")] + [Decimal("526.31")] * 18  # 19 × 526.31 = 9,999.89 → +11 cents


@pytest.mark.parametrize(
    ("frequency", "grace", "expected_starts", "expected_credits"),
    [
        # today = Sat 2026-06-20. Contract and SLA from 2026-06-01.
        ("daily", 5, [D(2026, 6, d) for d in range(1, 15)], CAPPED_14),  # 14 June ended 6 days ago; 15 June only 5
        ("daily", 0, [D(2026, 6, d) for d in range(1, 20)], CAPPED_19),  # yesterday ended 1 day ago > 0
        ("weekly", 5, [D(2026, 6, 1), D(2026, 6, 8)], [Decimal("2000.00")] * 2),  # W23, W24; W25 ends 21 Jun
        ("weekly", 6, [D(2026, 6, 1)], [Decimal("2000.00")]),  # W24 ended exactly 6 days ago: still in grace
        ("monthly", 5, [], []),  # June has not ended
    ],
)
def test_missing_reports_across_frequencies_and_grace(frequency, grace, expected_starts, expected_credits):
    sla = make_sla(frequency=frequency, start_date=D(2026, 6, 1), reporting_grace_days=grace)
    detect_breaches()
    missing = Breach.objects.filter(sla=sla, kind="missing_report").order_by("period_start")
    assert [b.period_start for b in missing] == expected_starts
    assert [b.severity for b in missing] == ["major"] * len(expected_starts)
    assert [b.service_credit for b in missing] == expected_credits


def test_missing_monthly_and_quarterly_reports_within_the_contract_and_sla_dates():
    monthly = make_sla(start_date=D(2025, 11, 1), end_date=D(2026, 3, 31))
    monthly.effective_from = D(2025, 12, 1)
    monthly.save()
    quarterly = make_sla(frequency="quarterly", start_date=D(2025, 8, 1))  # Q3 2025 not wholly within
    record(monthly, D(2026, 1, 1), "90")
    detect_breaches()
    assert list(
        Breach.objects.filter(sla=monthly, kind="missing_report")
        .values_list("period_start", flat=True)
        .order_by("period_start")
    ) == [D(2025, 12, 1), D(2026, 2, 1), D(2026, 3, 1)]
    assert list(
        Breach.objects.filter(sla=quarterly).values_list("period_start", "period_end").order_by("period_start")
    ) == [(D(2025, 10, 1), D(2025, 12, 31)), (D(2026, 1, 1), D(2026, 3, 31))]


@pytest.mark.parametrize(
    ("missing_report_is_breach", "severity", "credit"),
    [(True, "major", Decimal("2000.00")), (False, "minor", Decimal("0"))],
)
def test_missing_report_severity_and_credit(missing_report_is_breach, severity, credit):
    sla = make_sla(missing_report_is_breach=missing_report_is_breach)
    fill_months(sla, skip=[D(2026, 4, 1)])
    detect_breaches()
    breach = Breach.objects.get(sla=sla)
    assert (breach.kind, breach.period_start, breach.severity, breach.service_credit) == (
        "missing_report",
        D(2026, 4, 1),
        severity,
        credit,
    )
    assert breach.actual is None and breach.expected == Decimal("80")


@pytest.mark.parametrize(
    ("change", "counted"),
    [
        ({"active": False}, False),
        ({"contract_status": ContractStatus.TERMINATED}, False),
        ({"contract_status": ContractStatus.DRAFT}, False),
        ({}, True),
    ],
)
def test_missing_reports_only_for_active_slas_on_active_contracts(change, counted):
    sla = make_sla()
    fill_months(sla, skip=[D(2026, 2, 1)])
    if "active" in change:
        sla.active = change["active"]
        sla.save()
    if "contract_status" in change:
        sla.contract.status = change["contract_status"]
        sla.contract.save()
    detect_breaches()
    assert Breach.objects.filter(kind="missing_report").exists() is counted


def test_computed_kpis_never_raise_missing_reports():
    make_sla("attrition_rate", "4", "6")
    detect_breaches()
    assert not Breach.objects.exists()


def test_a_figure_recorded_later_withdraws_the_missing_report():
    sla = make_sla()
    fill_months(sla, skip=[D(2026, 2, 1)])
    detect_breaches()
    breach = Breach.objects.get(sla=sla, kind="missing_report")
    assert breach.service_credit == Decimal("2000.00")
    record(sla, D(2026, 2, 1), "90")
    detect_breaches()
    breach.refresh_from_db()
    assert (breach.status, breach.service_credit) == ("withdrawn", Decimal("0"))
    assert not Breach.objects.filter(kind="performance").exists()


def test_a_late_figure_that_breaches_withdraws_the_missing_report_and_raises_a_performance_breach():
    sla = make_sla()
    fill_months(sla, skip=[D(2026, 2, 1)])
    detect_breaches()
    record(sla, D(2026, 2, 1), "70")
    detect_breaches()
    assert dict(Breach.objects.values_list("kind", "status")) == {"missing_report": "withdrawn", "performance": "open"}
    assert performance(sla, D(2026, 2, 1)).service_credit == Decimal("2000.00")


def test_acknowledged_missing_report_is_withdrawn_when_the_report_arrives_and_returns_acknowledged():
    sla = make_sla()
    fill_months(sla, skip=[D(2026, 2, 1)])
    detect_breaches()
    Breach.objects.update(status="acknowledged", notes="Chased the vendor")
    figure = record(sla, D(2026, 2, 1), "90")
    detect_breaches()
    breach = Breach.objects.get()
    assert (breach.status, breach.notes, breach.service_credit) == ("withdrawn", "Chased the vendor", 0)
    assert breach.status_before_withdrawal == "acknowledged"
    figure.delete()
    detect_breaches()
    breach.refresh_from_db()
    assert (breach.status, breach.notes, breach.service_credit) == ("acknowledged", "Chased the vendor", 2000)
    assert breach.status_before_withdrawal == ""


# --- rule 5: idempotent, correctable ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("new_value", "severity", "status", "credit"),
    [
        ("77", "minor", "open", Decimal("0")),  # major → minor: credit dropped
        ("60", "major", "open", Decimal("2000.00")),  # still major, new actual
        ("95", "major", "withdrawn", Decimal("0")),  # now meets: withdrawn
    ],
)
def test_corrected_measurement_reevaluates_its_breach(new_value, severity, status, credit):
    sla = make_sla()
    fill_months(sla, skip=[D(2026, 3, 1)])
    figure = record(sla, D(2026, 3, 1), "70")
    detect_breaches()
    breach = performance(sla)
    figure.value = Decimal(new_value)
    figure.save()
    detect_breaches()
    breach.refresh_from_db()
    assert (breach.severity, breach.status, breach.service_credit, breach.actual) == (
        severity,
        status,
        credit,
        Decimal(new_value),
    )
    assert Breach.objects.count() == 1


@pytest.mark.parametrize("person_status", ["acknowledged", "waived", "resolved"])
@pytest.mark.parametrize("new_value", ["60", "77"])
def test_correction_keeps_status_and_notes_written_by_a_person(person_status, new_value):
    sla = make_sla()
    fill_months(sla, skip=[D(2026, 3, 1)])
    figure = record(sla, D(2026, 3, 1), "70")
    detect_breaches()
    Breach.objects.update(status=person_status, notes="Discussed with the vendor on 2026-04-10.")
    figure.value = Decimal(new_value)
    figure.save()
    detect_breaches()
    breach = performance(sla)
    assert (breach.status, breach.notes) == (person_status, "Discussed with the vendor on 2026-04-10.")
    assert breach.actual == Decimal(new_value)
    major_still = new_value == "60"
    expected_credit = Decimal("2000.00") if major_still and person_status != "waived" else Decimal("0")
    assert breach.service_credit == expected_credit


@pytest.mark.parametrize("person_status", ["acknowledged", "waived", "resolved"])
def test_a_breach_that_no_longer_holds_is_withdrawn_whatever_its_status_and_returns_with_it(person_status):
    sla = make_sla()
    fill_months(sla, skip=[D(2026, 3, 1)])
    figure = record(sla, D(2026, 3, 1), "60")
    detect_breaches()
    notes = "Discussed with the vendor on 2026-04-10."
    Breach.objects.update(status=person_status, notes=notes)
    figure.value = Decimal("95")
    figure.save()
    detect_breaches()
    breach = performance(sla)
    assert (breach.status, breach.notes, breach.service_credit, breach.actual) == (
        "withdrawn",
        notes,
        0,
        Decimal("95"),
    )
    assert not Breach.objects.open().exists()
    figure.value = Decimal("60")
    figure.save()
    detect_breaches()
    breach.refresh_from_db()
    credit = Decimal("0") if person_status == "waived" else Decimal("2000.00")
    assert (breach.status, breach.notes, breach.service_credit) == (person_status, notes, credit)


def test_withdrawn_breach_reopens_when_corrected_back_to_a_breach():
    sla = make_sla()
    fill_months(sla, skip=[D(2026, 3, 1)])
    figure = record(sla, D(2026, 3, 1), "70")
    detect_breaches()
    for value, status in [("90", "withdrawn"), ("74", "open")]:
        figure.value = Decimal(value)
        figure.save()
        detect_breaches()
        assert performance(sla).status == status
    assert Breach.objects.count() == 1


def test_deleted_figure_withdraws_its_breach_and_becomes_a_missing_report():
    sla = make_sla()
    fill_months(sla, skip=[D(2026, 3, 1)])
    figure = record(sla, D(2026, 3, 1), "70")
    detect_breaches()
    figure.delete()
    detect_breaches()
    assert dict(Breach.objects.values_list("kind", "status")) == {"performance": "withdrawn", "missing_report": "open"}


def test_changed_sla_levels_reevaluate_existing_breaches():
    sla = make_sla()
    fill_months(sla, skip=[D(2026, 3, 1)])
    record(sla, D(2026, 3, 1), "78")
    detect_breaches()
    assert performance(sla).severity == "minor"
    sla.minimum = Decimal("79")
    sla.save()
    detect_breaches()
    assert (performance(sla).severity, performance(sla).minimum, performance(sla).service_credit) == (
        "major",
        Decimal("79"),
        Decimal("2000.00"),
    )


def test_detect_breaches_twice_changes_nothing():
    sla = make_sla(earn_back_periods=1)
    other = make_sla("average_speed_of_answer", "20", "30", frequency="weekly", start_date=D(2026, 5, 1))
    fill_months(sla, skip=[D(2026, 2, 1), D(2026, 3, 1)])
    record(sla, D(2026, 3, 1), "60")
    record(other, D(2026, 5, 4), "45")
    first = detect_breaches()
    assert first["performance_recorded"] == 2 and first["missing_reports_recorded"] > 0
    rows = snapshot()
    second = detect_breaches()
    assert set(second.values()) == {0}
    assert snapshot() == rows


def test_restricting_to_sla_ids_leaves_other_slas_alone():
    a, b = make_sla(), make_sla()
    for sla in (a, b):
        record(sla, D(2026, 1, 1), "60")
    detect_breaches(sla_ids=[a.pk])
    assert set(Breach.objects.values_list("sla_id", flat=True)) == {a.pk}


def test_credit_totals_per_currency():
    from kpis.credits import credit_totals

    usd, eur = make_sla(), make_sla(currency="EUR", earn_back_periods=1)
    record(usd, D(2026, 1, 1), "60")
    record(eur, D(2026, 1, 1), "60")
    record(eur, D(2026, 2, 1), "90")  # earns January back
    record(eur, D(2026, 3, 1), "60")
    detect_breaches()
    assert credit_totals(Breach.objects.filter(kind="performance")) == [
        {
            "currency": "EUR",
            "service_credit": Decimal("2000.00"),
            "credit_earned_back": Decimal("2000.00"),
            "breaches": 2,
        },
        {"currency": "USD", "service_credit": Decimal("2000.00"), "credit_earned_back": Decimal("0.00"), "breaches": 1},
    ]


def test_a_check_for_one_sla_keeps_the_earn_back_of_its_sibling_slas():
    monthly = make_sla(earn_back_periods=1)
    weekly = SLAFactory(
        contract=monthly.contract, kpi=kpi("csat"), frequency="weekly", effective_from=monthly.contract.start_date
    )
    record(weekly, D(2026, 1, 5), "60")
    record(weekly, D(2026, 1, 12), "90")  # earns the week of 5 Jan back
    detect_breaches()
    breach = Breach.objects.get(sla=weekly, kind="performance")
    assert breach.credit_earned_back == Decimal("2000.00")
    record(monthly, D(2026, 1, 1), "90")
    detect_breaches(sla_ids=[monthly.pk])  # withdraws the January missing report, nothing else
    breach.refresh_from_db()
    assert (breach.service_credit, breach.credit_earned_back) == (Decimal("0"), Decimal("2000.00"))
