"""Build many rows fast (bulk_create) for query-count tests: the same page must cost the same
number of queries with 5 rows as with 500."""

import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model

from contracts.models import Contract, ReplacementObligation, StaffMember
from kpis.models import KPI, SLA, Breach, DigestDelivery, Measurement
from kpis.periods import month_end
from reports.queries import ReportFilters
from vendors.models import Certification, DeliveryCenter, Vendor

DAY = datetime.timedelta(days=1)
TODAY = datetime.date(2026, 3, 31)  # the day the report tests run on (conftest.frozen_today)


def report_filters(start, end, **kwargs):
    """Report filters from ``start``'s month to ``end``'s, as of ``TODAY``."""
    return ReportFilters(start=start, end=month_end(end), today=TODAY, **kwargs)


def build_world(n, owner=None):
    """``n`` rows in every table; the first contract has ``n`` staff, the first SLA ``n`` measurements."""
    User = get_user_model()
    owner = owner or User.objects.create_user(f"owner{n}", password="x")
    users = User.objects.bulk_create([User(username=f"bulk{n}-{i}") for i in range(n)])
    certs = list(Certification.objects.all()[:3])
    vendors = Vendor.objects.bulk_create(
        [Vendor(name=f"Bulk vendor {n}-{i:04d}", country=["PH", "IN", "MX", "PL"][i % 4]) for i in range(n)]
    )
    Vendor.certifications.through.objects.bulk_create(
        [Vendor.certifications.through(vendor=v, certification=c) for v in vendors for c in certs]
    )
    centres = DeliveryCenter.objects.bulk_create(
        [DeliveryCenter(vendor=v, name=f"Centre {i}", city="Manila", country="PH") for i, v in enumerate(vendors)]
    )
    start, end = datetime.date(2024, 1, 1), datetime.date(2027, 12, 31)
    contracts = Contract.objects.bulk_create(
        [
            Contract(
                vendor=v,
                reference=f"BULK-{n}-{i:04d}",
                title="Support",
                owner=owner,
                engagement_model=["bpo", "bpm", "bps"][i % 3],
                service_type=["front_office", "back_office"][i % 2],
                sourcing_model=["onshore", "nearshore", "offshore"][i % 3],
                delivery_center=centres[i],
                start_date=start,
                end_date=end,
                notice_deadline=end - 90 * DAY,
                monthly_fee=Decimal("10000"),
                baseline_monthly_cost=Decimal("15000"),
            )
            for i, v in enumerate(vendors)
        ]
    )
    first = contracts[0]
    staff = StaffMember.objects.bulk_create(
        [
            StaffMember(
                contract=first,
                employee_ref=f"E{i:05d}",
                full_name=f"Person {i}",
                joined_on=start,
                left_on=(datetime.date(2025, 1, 1) + i * DAY) if i % 2 else None,
                leave_reason="voluntary" if i % 2 else "",
            )
            for i in range(n)
        ]
        + [
            StaffMember(
                contract=c,
                employee_ref="X1",
                full_name="Left",
                joined_on=start,
                left_on=datetime.date(2025, 6, 1),
                leave_reason="voluntary",
            )
            for c in contracts
        ]
    )
    departed = [s for s in staff if s.left_on][:n]
    obligations = ReplacementObligation.objects.bulk_create(
        [ReplacementObligation(departed=s, due_on=s.left_on + 30 * DAY, replacement=staff[0]) for s in departed]
    )
    kpi_ids = list(KPI.objects.values_list("pk", flat=True))
    slas = SLA.objects.bulk_create(
        [
            SLA(
                contract=c,
                kpi_id=kpi_ids[0],
                expected=Decimal("80"),
                minimum=Decimal("75"),
                frequency="daily" if i == 0 else "monthly",
                effective_from=start,
            )
            for i, c in enumerate(contracts)
        ]
        + [
            SLA(contract=first, kpi_id=kpi_id, expected=Decimal("80"), minimum=Decimal("75"), effective_from=start)
            for kpi_id in kpi_ids[1:4]
        ]
    )
    daily = slas[0]
    measurements = Measurement.objects.bulk_create(
        [
            Measurement(
                sla=daily,
                period_start=start + i * DAY,
                period_end=start + i * DAY,
                value=Decimal(70 + i % 20),
                recorded_by=users[i % len(users)],
            )
            for i in range(n)
        ]
    )
    Breach.objects.bulk_create(
        [
            Breach(
                kind="performance",
                severity="major",
                contract=first,
                sla=daily,
                measurement=m,
                period_start=m.period_start,
                period_end=m.period_end,
                expected=Decimal("80"),
                minimum=Decimal("75"),
                actual=m.value,
                service_credit=Decimal("200"),
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
            for o in obligations[:1]
        ]
    )
    DigestDelivery.objects.bulk_create(
        [DigestDelivery(recipient=u, week="2026-W47", breach_count=i) for i, u in enumerate(users)]
    )
    return {
        "owner": owner,
        "vendor": vendors[0],
        "contract": first,
        "sla": daily,
        "centre": centres[0],
        "staff": staff[0],
        "obligation": obligations[0],
        "measurement": measurements[0],
        "user": users[0],
    }
