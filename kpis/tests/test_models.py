import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from kpis.catalogue import KPI_CATALOGUE
from kpis.models import KPI, SLA, Breach, Measurement
from tests.factories import BreachFactory, MeasurementFactory, SLAFactory, kpi

D = datetime.date
pytestmark = pytest.mark.django_db


def test_catalogue_is_seeded_with_units_and_directions():
    codes = set(KPI.objects.values_list("code", flat=True))
    assert {row[0] for row in KPI_CATALOGUE} <= codes
    for code in [
        "service_level",
        "average_speed_of_answer",
        "average_handle_time",
        "abandonment_rate",
        "first_contact_resolution",
        "csat",
        "quality_score",
        "email_response_time",
        "accuracy",
        "turnaround_time",
        "backlog",
        "on_time_delivery",
        "availability",
        "schedule_adherence",
        "attrition_rate",
    ]:
        assert code in codes
    assert kpi("service_level").direction == "higher_is_better"
    assert kpi("average_speed_of_answer").direction == "lower_is_better"
    assert kpi("attrition_rate").unit == "percent" and kpi("attrition_rate").is_computed
    assert "80 %" in kpi("service_level").description


@pytest.mark.parametrize(
    ("code", "expected", "minimum", "message"),
    [
        ("service_level", "80", "85", "higher is better, so the minimum (85) cannot be above the expected level (80)"),
        ("average_speed_of_answer", "20", "15", "lower is better, so the minimum (15) cannot be below"),
        ("service_level", "120", "80", "is a percentage: give a value between 0 and 100"),
    ],
)
def test_sla_levels_must_follow_the_kpi_direction(code, expected, minimum, message):
    sla = SLAFactory.build(
        contract=SLAFactory().contract,
        kpi=kpi(code),
        expected=Decimal(expected),
        minimum=Decimal(minimum),
        effective_from=D(2026, 1, 1),
    )
    with pytest.raises(ValidationError) as error:
        sla.full_clean()
    assert message in " ".join(sum(error.value.message_dict.values(), []))


@pytest.mark.parametrize(("code", "expected", "minimum"), [("service_level", "80", "80"), ("backlog", "10", "25")])
def test_valid_sla_levels_pass(code, expected, minimum):
    SLAFactory(kpi=kpi(code), expected=Decimal(expected), minimum=Decimal(minimum)).full_clean()


@pytest.mark.parametrize("allocation", [Decimal("-1"), Decimal("100.5")])
def test_database_rejects_credit_allocation_out_of_range(allocation):
    with pytest.raises(IntegrityError), transaction.atomic():
        SLAFactory(credit_allocation_percent=allocation)


@pytest.mark.parametrize(
    ("higher", "value", "outcome"),
    [
        (True, "85", None),
        (True, "80", None),
        (True, "77", "minor"),
        (True, "75", "minor"),
        (True, "74.99", "major"),
        (False, "15", None),
        (False, "20", None),
        (False, "25", "minor"),
        (False, "30", "minor"),
        (False, "31", "major"),
    ],
)
def test_rule_1_evaluate_and_sql_outcome_agree(higher, value, outcome):
    sla = (
        SLAFactory(kpi=kpi("service_level"), expected=Decimal("80"), minimum=Decimal("75"))
        if higher
        else SLAFactory(kpi=kpi("average_speed_of_answer"), expected=Decimal("20"), minimum=Decimal("30"))
    )
    measurement = MeasurementFactory(sla=sla, value=Decimal(value))
    assert sla.evaluate(Decimal(value)) == outcome
    annotated = Measurement.objects.with_outcome().get(pk=measurement.pk)
    assert annotated.outcome == (outcome or "met")
    assert annotated.met is (outcome is None)


def test_one_measurement_per_sla_and_period():
    measurement = MeasurementFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        MeasurementFactory(sla=measurement.sla, period_start=measurement.period_start)
    duplicate = Measurement(sla=measurement.sla, period_start=measurement.period_start, value=Decimal("90"))
    with pytest.raises(ValidationError, match="A figure for this SLA and period has already been recorded."):
        duplicate.full_clean()


@pytest.mark.parametrize(
    ("frequency", "start", "message"),
    [
        ("monthly", D(2026, 1, 15), "This SLA is reported monthly: the period starts on 2026-01-01 (Jan 2026)"),
        ("weekly", D(2026, 1, 1), "reported weekly: the period starts on 2025-12-29 (2026-W01)"),
        ("quarterly", D(2026, 2, 1), "reported quarterly: the period starts on 2026-01-01 (2026 Q1)"),
    ],
)
def test_measurement_period_must_match_sla_frequency(frequency, start, message):
    sla = SLAFactory(frequency=frequency)
    measurement = Measurement(sla=sla, period_start=start, value=Decimal("90"))
    with pytest.raises(ValidationError) as error:
        measurement.full_clean()
    assert message in error.value.message_dict["period_start"][0]


def test_measurement_period_end_is_filled_and_checked():
    sla = SLAFactory(frequency="weekly")
    measurement = Measurement(sla=sla, period_start=D(2026, 11, 16), value=Decimal("90"))
    measurement.full_clean()
    assert measurement.period_end == D(2026, 11, 22)
    measurement.period_end = D(2026, 11, 30)
    with pytest.raises(ValidationError, match="A weekly period starting 2026-11-16 ends on 2026-11-22."):
        measurement.full_clean()


def test_percentage_figure_above_100_is_rejected():
    measurement = Measurement(sla=SLAFactory(), period_start=D(2026, 1, 1), value=Decimal("101"))
    with pytest.raises(ValidationError, match="is a percentage"):
        measurement.full_clean()


def test_database_rejects_negative_figures():
    with pytest.raises(IntegrityError), transaction.atomic():
        MeasurementFactory(value=Decimal("-1"))


def test_breach_needs_its_subject():
    breach = BreachFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        BreachFactory(kind="replacement", sla=breach.sla, period_start=D(2026, 2, 1), period_end=D(2026, 2, 28))


def test_breach_unique_per_sla_period_and_kind():
    breach = BreachFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        BreachFactory(sla=breach.sla)
    BreachFactory(sla=breach.sla, kind="missing_report")  # another kind for the same period is allowed


def test_breach_credit_cannot_be_negative():
    with pytest.raises(IntegrityError), transaction.atomic():
        BreachFactory(service_credit=Decimal("-1"))


def test_major_first_top_lists_the_newest_majors_then_the_others(django_assert_num_queries):
    sla = SLAFactory()
    for month, severity in [(1, "major"), (2, "minor"), (3, "major"), (4, "minor"), (5, "minor")]:
        BreachFactory(sla=sla, severity=severity, period_start=D(2026, month, 1), period_end=D(2026, month, 28))
    with django_assert_num_queries(2):
        top = Breach.objects.major_first_top(3)
        assert [(b.severity, b.period_start.month) for b in top] == [("major", 3), ("major", 1), ("minor", 5)]
        assert top[0].contract.vendor and top[0].sla.kpi  # for_list(): no query per row
    assert top == list(Breach.objects.for_list().major_first()[:3])


def test_contract_ids_of_slas(django_assert_num_queries):
    """The checks signal the contracts of the SLAs they looked at (``detect_breaches``, ``run_pending_checks``)."""
    first, second, other = SLAFactory(), SLAFactory(), SLAFactory()
    same_contract = SLAFactory(contract=first.contract, kpi=kpi("csat"))
    assert SLA.objects.contract_ids([first.pk, same_contract.pk, second.pk]) == {first.contract_id, second.contract_id}
    assert other.contract_id not in SLA.objects.contract_ids(iter([first.pk]))
    with django_assert_num_queries(0):
        assert SLA.objects.contract_ids([]) == set()
