"""Helpers for the web tests: bulk rows for query-count tests, a logged-in client per role."""

import csv
import datetime
import io
from decimal import Decimal

from contracts.models import Contract, ReplacementObligation, StaffMember
from kpis.models import KPI, SLA, Breach, Measurement
from vendors.models import DeliveryCenter, Vendor


def bulk_world(n, owner, prefix="B"):
    """``n`` vendors, each with a centre, a contract, an SLA, a measurement, a breach, a departed staff
    member with an overdue obligation and an active one — with a handful of INSERTs, not thousands."""
    vendors = Vendor.objects.bulk_create(
        [Vendor(name=f"{prefix} vendor {i:04d}", country="PH", status="active") for i in range(n)]
    )
    DeliveryCenter.objects.bulk_create(
        [DeliveryCenter(vendor=v, name="Main", city="Manila", country="PH", timezone="Asia/Manila") for v in vendors]
    )
    contracts = Contract.objects.bulk_create(
        [
            Contract(
                vendor=v,
                reference=f"{prefix}-{i:05d}",
                title="Support",
                owner=owner,
                service_type="front_office",
                sourcing_model="offshore",
                start_date=datetime.date(2025, 1, 1),
                end_date=datetime.date(2027, 12, 31),
                notice_deadline=datetime.date(2027, 10, 2),
                monthly_fee=Decimal("1000"),
                contracted_headcount=5,
            )
            for i, v in enumerate(vendors)
        ]
    )
    kpi = KPI.objects.get(code="service_level")
    slas = SLA.objects.bulk_create(
        [
            SLA(contract=c, kpi=kpi, expected=80, minimum=75, effective_from=c.start_date, credit_allocation_percent=20)
            for c in contracts
        ]
    )
    measurements = Measurement.objects.bulk_create(
        [
            Measurement(sla=s, period_start=datetime.date(2026, 1, 1), period_end=datetime.date(2026, 1, 31), value=70)
            for s in slas
        ]
    )
    staff = StaffMember.objects.bulk_create(
        [
            StaffMember(
                contract=c,
                employee_ref=f"{prefix}{i}",
                full_name=f"Agent {i}",
                joined_on=datetime.date(2025, 1, 1),
                left_on=datetime.date(2026, 3, 1),
                leave_reason="voluntary",
            )
            for i, c in enumerate(contracts)
        ]
        + [
            StaffMember(
                contract=c, employee_ref=f"{prefix}{i}a", full_name=f"Active {i}", joined_on=datetime.date(2025, 1, 1)
            )
            for i, c in enumerate(contracts)
        ]
    )
    obligations = ReplacementObligation.objects.bulk_create(
        [ReplacementObligation(departed=s, due_on=datetime.date(2026, 3, 31)) for s in staff if s.left_on]
    )
    Breach.objects.bulk_create(
        [
            Breach(
                kind="performance",
                severity="major",
                contract=m.sla.contract,
                sla=m.sla,
                measurement=m,
                period_start=m.period_start,
                period_end=m.period_end,
                expected=80,
                minimum=75,
                actual=70,
                service_credit=Decimal("20"),
            )
            for m in measurements
        ]
        + [
            Breach(
                kind="replacement",
                severity="major",
                contract=o.departed.contract,
                obligation=o,
                period_start=o.due_on,
                period_end=o.due_on,
            )
            for o in obligations
        ]
    )
    return contracts


def csv_rows(response):
    """The rows of a streamed CSV export (header first)."""
    assert response.streaming  # nosec B101  # a test helper; the assert is the check
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
