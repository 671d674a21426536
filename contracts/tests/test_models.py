import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from contracts.models import Contract, ReplacementObligation
from tests.factories import (
    ContractFactory,
    DeliveryCenterFactory,
    ReplacementObligationFactory,
    StaffMemberFactory,
    VendorFactory,
)

D = datetime.date
pytestmark = pytest.mark.django_db


def assert_db_rejects(factory, **kwargs):
    with pytest.raises(IntegrityError), transaction.atomic():
        factory(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"start_date": D(2026, 5, 1), "end_date": D(2026, 4, 30)},
        {"at_risk_percent": Decimal("100.01")},
        {"at_risk_percent": Decimal("-1")},
        {"monthly_fee": Decimal("-0.01")},
        {"baseline_monthly_cost": Decimal("-5")},
    ],
)
def test_database_rejects_bad_contract_rows(kwargs):
    assert_db_rejects(ContractFactory, **kwargs)


def test_contract_reference_is_unique():
    ContractFactory(reference="CX-1")
    with pytest.raises(ValidationError, match="A contract with this reference already exists."):
        ContractFactory.build(reference="CX-1", vendor=VendorFactory(), owner=Contract.objects.get().owner).full_clean()
    assert_db_rejects(ContractFactory, reference="CX-1")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("at_risk_percent", Decimal("120"), "less than or equal to 100"),
        ("monthly_fee", Decimal("-1"), "greater than or equal to 0"),
    ],
)
def test_contract_validation_messages(field, value, message):
    contract = ContractFactory()
    setattr(contract, field, value)
    with pytest.raises(ValidationError) as error:
        contract.full_clean()
    assert message in str(error.value.message_dict[field])


def test_end_before_start_is_explained_on_the_end_date():
    contract = ContractFactory.build(
        vendor=VendorFactory(), owner=ContractFactory().owner, start_date=D(2026, 5, 1), end_date=D(2026, 4, 1)
    )
    with pytest.raises(ValidationError) as error:
        contract.full_clean()
    assert error.value.message_dict["end_date"] == ["The end date cannot be before the start date."]


def test_delivery_center_must_belong_to_the_vendor():
    contract = ContractFactory()
    contract.delivery_center = DeliveryCenterFactory()  # another vendor's centre
    with pytest.raises(ValidationError) as error:
        contract.full_clean()
    assert error.value.message_dict["delivery_center"] == ["This delivery centre belongs to another vendor."]


@pytest.mark.parametrize(("centre_country", "expected"), [("US", "onshore"), ("MX", "nearshore"), ("PH", "offshore")])
def test_sourcing_model_is_derived_from_the_delivery_centre(settings, centre_country, expected):
    settings.HOME_COUNTRY = "US"
    centre = DeliveryCenterFactory(country=centre_country)
    contract = ContractFactory(vendor=centre.vendor, delivery_center=centre, sourcing_model="")
    assert contract.sourcing_model == expected


def test_sourcing_model_can_be_overridden(settings):
    settings.HOME_COUNTRY = "US"
    centre = DeliveryCenterFactory(country="PH")
    contract = ContractFactory(vendor=centre.vendor, delivery_center=centre, sourcing_model="nearshore")
    assert contract.sourcing_model == "nearshore"


def test_expiry_and_notice_window():
    contract = ContractFactory(end_date=D(2026, 12, 31), notice_days=90)
    assert contract.notice_deadline == D(2026, 10, 2)
    assert not contract.is_expired(today=D(2026, 12, 31))
    assert contract.is_expired(today=D(2027, 1, 1))
    assert contract.is_within_notice_window(today=D(2026, 9, 2))  # deadline exactly 30 days away
    assert contract.is_within_notice_window(today=D(2026, 10, 2))  # deadline is today
    assert not contract.is_within_notice_window(today=D(2026, 9, 1))  # 31 days away
    assert not contract.is_within_notice_window(today=D(2026, 10, 3))  # deadline passed


def test_notice_due_within_queryset_matches_the_method():
    due = ContractFactory(end_date=D(2027, 1, 30), notice_days=60)  # deadline 2026-12-01
    ContractFactory(end_date=D(2027, 6, 30), notice_days=60)  # deadline far away
    ContractFactory(end_date=D(2027, 1, 30), notice_days=60, status="terminated")
    ContractFactory(end_date=D(2026, 11, 30), notice_days=10)  # deadline passed
    assert list(Contract.objects.notice_due_within(30, today=D(2026, 11, 23))) == [due]


def test_notice_deadline_follows_edits():
    contract = ContractFactory(end_date=D(2027, 1, 30), notice_days=60)
    contract.notice_days = 30
    contract.save()
    contract.refresh_from_db()
    assert contract.notice_deadline == D(2026, 12, 31)


def test_monthly_saving_and_percent():
    contract = ContractFactory(monthly_fee=Decimal("60000"), baseline_monthly_cost=Decimal("100000"))
    assert contract.monthly_saving == Decimal("40000")
    assert contract.saving_percent == Decimal("40.0")
    assert ContractFactory(baseline_monthly_cost=Decimal("0")).saving_percent is None


def test_credit_cap():
    contract = ContractFactory(monthly_fee=Decimal("123456.78"), at_risk_percent=Decimal("12.5"))
    assert contract.credit_cap == Decimal("15432.10")


def test_staff_left_before_joined_is_rejected():
    assert_db_rejects(StaffMemberFactory, joined_on=D(2026, 3, 1), left_on=D(2026, 2, 28))
    staff = StaffMemberFactory.build(contract=ContractFactory(), joined_on=D(2026, 3, 1), left_on=D(2026, 2, 1))
    with pytest.raises(ValidationError) as error:
        staff.full_clean()
    assert error.value.message_dict["left_on"] == ["The leaving date cannot be before the joining date."]


def test_departure_needs_a_reason():
    staff = StaffMemberFactory()
    staff.left_on = D(2026, 3, 1)
    with pytest.raises(ValidationError) as error:
        staff.full_clean()
    assert error.value.message_dict["leave_reason"] == ["Say why the staff member left."]


def test_employee_ref_unique_within_contract():
    staff = StaffMemberFactory(employee_ref="E1")
    StaffMemberFactory(employee_ref="E1")  # another contract: fine
    assert_db_rejects(StaffMemberFactory, employee_ref="E1", contract=staff.contract)


@pytest.mark.parametrize(
    ("engagement", "candidate", "productive", "state"),
    [
        # BPO: fulfilled when a candidate is provided.
        ("bpo", None, None, "overdue"),
        ("bpo", D(2026, 3, 20), None, "fulfilled_on_time"),
        ("bpo", D(2026, 3, 31), None, "fulfilled_on_time"),  # on the due date
        ("bpo", D(2026, 4, 5), None, "fulfilled_late"),
        ("bpo", None, D(2026, 3, 20), "overdue"),  # productive date does not count under BPO
        # BPM / BPS: fulfilled only when the replacement is productive.
        ("bpm", D(2026, 3, 10), None, "overdue"),
        ("bpm", D(2026, 3, 10), D(2026, 3, 31), "fulfilled_on_time"),
        ("bpm", D(2026, 3, 10), D(2026, 4, 2), "fulfilled_late"),
        ("bps", D(2026, 3, 10), None, "overdue"),
        ("bps", D(2026, 3, 10), D(2026, 3, 25), "fulfilled_on_time"),
    ],
)
def test_replacement_obligation_fulfilment_by_engagement_model(engagement, candidate, productive, state):
    contract = ContractFactory(engagement_model=engagement, replacement_days=30)
    departed = StaffMemberFactory(contract=contract, left_on=D(2026, 3, 1), leave_reason="voluntary")
    obligation = ReplacementObligationFactory(
        departed=departed, candidate_provided_on=candidate, replacement_productive_on=productive
    )
    assert obligation.due_on == D(2026, 3, 31)
    assert obligation.state(today=D(2026, 4, 10)) == state
    overdue_ids = set(ReplacementObligation.objects.overdue(today=D(2026, 4, 10)).values_list("pk", flat=True))
    assert (obligation.pk in overdue_ids) == (state == "overdue")
    late_ids = set(ReplacementObligation.objects.fulfilled_late().values_list("pk", flat=True))
    assert (obligation.pk in late_ids) == (state == "fulfilled_late")


def test_obligation_not_yet_due_is_pending():
    obligation = ReplacementObligationFactory()
    assert obligation.state(today=obligation.due_on) == "pending"


def test_obligation_dates_cannot_precede_the_departure():
    obligation = ReplacementObligationFactory(candidate_provided_on=D(2026, 2, 1))
    with pytest.raises(ValidationError) as error:
        obligation.full_clean()
    assert error.value.message_dict["candidate_provided_on"] == ["This date cannot be before the staff member left."]


@time_machine.travel(D(2026, 11, 23))
def test_display_status_derives_expired():
    assert ContractFactory(end_date=D(2026, 11, 22)).display_status == "Expired"
    assert ContractFactory(end_date=D(2026, 11, 23)).display_status == "Active"
