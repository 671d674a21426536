"""The reports' hand-computed fixture, shared by the report and summary tests."""

import datetime
from decimal import Decimal as D

import pytest
import time_machine

from tests.factories import (
    BreachFactory,
    ContractFactory,
    MeasurementFactory,
    ReplacementObligationFactory,
    SLAFactory,
    StaffMemberFactory,
    VendorFactory,
    kpi,
)

MARCH, FEB = datetime.date(2026, 3, 1), datetime.date(2026, 2, 1)


@pytest.fixture
def frozen_today():
    """The clock stopped on ``builders.TODAY`` (31 March 2026), midday UTC."""
    with time_machine.travel(datetime.datetime(2026, 3, 31, 12, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def fixture(db):
    """Vendor A: USD contract, cap 10 000; March: 1 met, 1 minor, 1 major (2 000), 1 missing report (8 000),
    1 withdrawn breach; 10 staff, 1 left on 10 March. Vendor B: EUR contract, cap 10 000; February major (1 000);
    March: 2 met."""
    vendor_a = VendorFactory(name="Alpha BPO", country="PH")
    vendor_b = VendorFactory(name="Beta Services", country="PL")
    ca = ContractFactory(
        vendor=vendor_a,
        reference="CA",
        currency="USD",
        monthly_fee=D("100000"),
        baseline_monthly_cost=D("150000"),
        at_risk_percent=D("10"),
        contracted_headcount=10,
        sourcing_model="offshore",
        service_type="front_office",
        end_date=datetime.date(2026, 6, 30),
    )
    cb = ContractFactory(
        vendor=vendor_b,
        reference="CB",
        currency="EUR",
        monthly_fee=D("50000"),
        baseline_monthly_cost=D("50000"),
        at_risk_percent=D("20"),
        contracted_headcount=2,
        sourcing_model="nearshore",
        service_type="back_office",
    )
    a1 = SLAFactory(contract=ca, kpi=kpi("service_level"))
    a2 = SLAFactory(contract=ca, kpi=kpi("csat"))
    a3 = SLAFactory(contract=ca, kpi=kpi("quality_score"))
    a4 = SLAFactory(contract=ca, kpi=kpi("availability"))
    MeasurementFactory(sla=a1, period_start=MARCH, value=D("85"))  # met
    m2 = MeasurementFactory(sla=a2, period_start=MARCH, value=D("70"))  # major
    m3 = MeasurementFactory(sla=a3, period_start=MARCH, value=D("78"))  # minor
    BreachFactory(
        sla=a2,
        contract=ca,
        measurement=m2,
        period_start=MARCH,
        period_end=datetime.date(2026, 3, 31),
        severity="major",
        service_credit=D("2000"),
    )
    BreachFactory(
        sla=a3,
        contract=ca,
        measurement=m3,
        period_start=MARCH,
        period_end=datetime.date(2026, 3, 31),
        severity="minor",
        service_credit=D("0"),
    )
    BreachFactory(
        sla=a4,
        contract=ca,
        kind="missing_report",
        period_start=MARCH,
        period_end=datetime.date(2026, 3, 31),
        severity="major",
        service_credit=D("8000"),
        actual=None,
    )
    BreachFactory(
        sla=a1,
        contract=ca,
        period_start=MARCH,
        period_end=datetime.date(2026, 3, 31),
        severity="major",
        service_credit=D("500"),
        status="withdrawn",
    )
    b1 = SLAFactory(contract=cb, kpi=kpi("service_level"))
    b2 = SLAFactory(contract=cb, kpi=kpi("accuracy"))
    mb = MeasurementFactory(sla=b1, period_start=FEB, value=D("70"))
    BreachFactory(
        sla=b1,
        contract=cb,
        measurement=mb,
        period_start=FEB,
        period_end=datetime.date(2026, 2, 28),
        severity="major",
        service_credit=D("1000"),
    )
    MeasurementFactory(sla=b1, period_start=MARCH, value=D("90"))
    MeasurementFactory(sla=b2, period_start=MARCH, value=D("80"))
    for _ in range(9):
        StaffMemberFactory(contract=ca, joined_on=datetime.date(2025, 1, 1))
    leaver = StaffMemberFactory(
        contract=ca, joined_on=datetime.date(2025, 1, 1), left_on=datetime.date(2026, 3, 10), leave_reason="voluntary"
    )
    ReplacementObligationFactory(departed=leaver)  # due 9 April: pending on 31 March
    return {"a": vendor_a, "b": vendor_b, "ca": ca, "cb": cb}
