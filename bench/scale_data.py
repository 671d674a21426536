"""Generate a large, realistic data set fast: PostgreSQL COPY (bulk_create batches elsewhere).

Rows are produced by generators and streamed, so memory stays flat whatever the preset. Ids are
assigned here (above the current maximum) so child rows can point at parents without a round trip.
"""

import datetime
import random
import time
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection, models, transaction
from django.utils import timezone

from accounts.roles import MANAGERS_GROUP
from contracts.models import Contract, StaffMember
from kpis.models import KPI, SLA, Measurement
from kpis.periods import period_end, period_start
from vendors.geography import suggest_sourcing_model
from vendors.models import DeliveryCenter, Vendor


@dataclass(frozen=True)
class Preset:
    vendors: int
    contracts_per_vendor: int
    slas_per_contract: int
    months: int
    staff_per_contract: int
    managers: int
    # xl: a mix of frequencies (the rest monthly) with their own history lengths, figures made in SQL.
    weekly_share: float = 0.0
    daily_share: float = 0.0
    weeks: int = 0
    days: int = 0

    @property
    def figures_in_sql(self):
        return bool(self.weekly_share or self.daily_share)


PRESETS = {
    "tiny": Preset(vendors=5, contracts_per_vendor=2, slas_per_contract=3, months=3, staff_per_contract=4, managers=3),
    "small": Preset(
        vendors=50, contracts_per_vendor=5, slas_per_contract=5, months=12, staff_per_contract=10, managers=20
    ),
    "large": Preset(
        vendors=2000, contracts_per_vendor=10, slas_per_contract=5, months=24, staff_per_contract=10, managers=1000
    ),
    # 250,000 SLAs: 75 % monthly × 24 months, 20 % weekly × 52 weeks, 5 % daily × 240 days ≈ 10 M figures.
    "xl": Preset(
        vendors=10_000,
        contracts_per_vendor=5,
        slas_per_contract=5,
        months=24,
        staff_per_contract=10,
        managers=10_000,
        weekly_share=0.20,
        daily_share=0.05,
        weeks=52,
        days=240,
    ),
}

COUNTRIES = [
    ("PH", "Manila", "Asia/Manila"),
    ("IN", "Bengaluru", "Asia/Kolkata"),
    ("MX", "Guadalajara", "America/Mexico_City"),
    ("CO", "Medellín", "America/Bogota"),
    ("PL", "Kraków", "Europe/Warsaw"),
    ("ZA", "Cape Town", "Africa/Johannesburg"),
    ("US", "Tampa", "America/New_York"),
    ("CA", "Toronto", "America/Toronto"),
    ("EG", "Cairo", "Africa/Cairo"),
    ("IE", "Dublin", "Europe/Dublin"),
]
SERVICE_KPIS = {
    "front_office": [
        "service_level",
        "average_speed_of_answer",
        "abandonment_rate",
        "csat",
        "quality_score",
        "first_contact_resolution",
        "attrition_rate",
    ],
    "back_office": ["accuracy", "turnaround_time", "backlog", "on_time_delivery", "quality_score", "attrition_rate"],
    "kpo": ["report_accuracy", "on_time_delivery", "quality_score", "turnaround_time", "attrition_rate"],
    "lpo": ["accuracy", "on_time_delivery", "turnaround_time", "review_throughput", "attrition_rate"],
}
LEVELS = {  # code: (expected, minimum)
    "service_level": (80, 75),
    "average_speed_of_answer": (20, 30),
    "abandonment_rate": (5, 8),
    "csat": (85, 80),
    "quality_score": (92, 88),
    "first_contact_resolution": (72, 65),
    "attrition_rate": (4, 6),
    "accuracy": (99, 97),
    "turnaround_time": (48, 72),
    "backlog": (50, 120),
    "on_time_delivery": (95, 90),
    "report_accuracy": (98, 95),
    "review_throughput": (55, 45),
}
SERVICE_TYPES = list(SERVICE_KPIS)
ENGAGEMENTS = ["bpo", "bpm", "bps"]


def _next_id(model):
    return (model.objects.aggregate(m=models.Max("pk"))["m"] or 0) + 1


def _columns(model, provided):
    """Every concrete column of ``model``; values not in ``provided`` take the field's default."""
    fields = [f for f in model._meta.concrete_fields if f.attname in provided or not isinstance(f, models.AutoField)]
    defaults = {f.attname: f.get_default() for f in fields if f.attname not in provided}
    return fields, defaults


def write_rows(model, rows, provided):
    """Stream dict rows into ``model``'s table: COPY on PostgreSQL, bulk_create batches elsewhere."""
    fields, defaults = _columns(model, provided)
    count = 0
    if connection.vendor == "postgresql":
        cols = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        json_fields = {f.attname for f in fields if isinstance(f, models.JSONField)}
        from psycopg.types.json import Jsonb

        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {connection.ops.quote_name(model._meta.db_table)} ({cols}) FROM STDIN") as copy,
        ):
            for row in rows:
                values = []
                for f in fields:
                    value = row[f.attname] if f.attname in row else defaults[f.attname]
                    values.append(Jsonb(value) if f.attname in json_fields else value)
                copy.write_row(values)
                count += 1
    else:
        batch = []
        for row in rows:
            batch.append(model(**{**defaults, **row}))
            count += 1
            if len(batch) >= 2000:
                model.objects.bulk_create(batch)
                batch = []
        model.objects.bulk_create(batch)
    return count


def reset_sequences(*model_list):
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in model_list:
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE((SELECT MAX(id) FROM {table}), 1))",
                [table],
            )


def month_starts(months, today):
    first_of_this_month = today.replace(day=1)
    starts = []
    day = first_of_this_month
    for _ in range(months):
        day = (day - datetime.timedelta(days=1)).replace(day=1)
        starts.append(day)
    return sorted(starts)


def history_windows(preset, starts, today):
    """(first period start, last period start, step) of the figures of each frequency: the ``months``
    whole months before this one, the ``weeks`` whole ISO weeks before this one, the ``days`` days
    before today."""
    this_monday = period_start("weekly", today)
    return {
        "monthly": (starts[0], starts[-1], "1 month"),
        "weekly": (
            this_monday - datetime.timedelta(weeks=max(preset.weeks, 1)),
            this_monday - datetime.timedelta(weeks=1),
            "1 week",
        ),
        "daily": (
            today - datetime.timedelta(days=max(preset.days, 1)),
            today - datetime.timedelta(days=1),
            "1 day",
        ),
    }


def pick_frequency(preset, rng):
    roll = rng.random()
    if roll < preset.daily_share:
        return "daily"
    if roll < preset.daily_share + preset.weekly_share:
        return "weekly"
    return "monthly"


# Every figure of every SLA from ``sla_id`` on, in one INSERT … SELECT: a period series per SLA (its
# frequency's window), two random draws per figure, the same value mix as the Python generator (1 %
# missing, 79 % met, 13 % minor, 7 % major; clamped to 0–100 for percentages). SLA-major order (the
# SLAs are read in id order), like the COPY of the other presets. ``OFFSET 0`` keeps the draws in the
# inner query: each is drawn once per row.
FIGURES_SQL = """
INSERT INTO kpis_measurement (sla_id, period_start, period_end, value, source, recorded_by_id, recorded_at,
                              updated_at, note)
SELECT sla_id, period_start, period_end,
       round((CASE WHEN expected <= 100 THEN least(greatest(value, 0), 100) ELSE greatest(value, 0) END)::numeric, 2),
       'import', NULL, %(now)s, %(now)s, ''
FROM (
    SELECT sla_id, period_start, period_end, expected, roll,
           expected + sign * CASE WHEN roll < 0.80 THEN u * spread
                                  WHEN roll < 0.93 THEN -(0.01 + u * (spread - 0.01))
                                  ELSE -spread - (0.01 + u * (spread - 0.01)) END AS value
    FROM (
        SELECT s.id AS sla_id, p.day::date AS period_start,
               CASE s.frequency WHEN 'monthly' THEN (p.day + interval '1 month' - interval '1 day')::date
                                WHEN 'weekly' THEN p.day::date + 6
                                ELSE p.day::date END AS period_end,
               s.expected::float8 AS expected,
               coalesce(nullif(abs(s.expected - s.minimum), 0), 1)::float8 AS spread,
               CASE WHEN k.direction = 'higher_is_better' THEN 1 ELSE -1 END AS sign,
               random() AS roll, random() AS u
        FROM kpis_sla s
        JOIN kpis_kpi k ON k.id = s.kpi_id
        CROSS JOIN LATERAL generate_series(
            s.effective_from::timestamp,
            CASE s.frequency WHEN 'monthly' THEN %(monthly_last)s WHEN 'weekly' THEN %(weekly_last)s
                             ELSE %(daily_last)s END::timestamp,
            CASE s.frequency WHEN 'monthly' THEN interval '1 month' WHEN 'weekly' THEN interval '1 week'
                             ELSE interval '1 day' END
        ) AS p(day)
        WHERE s.id >= %(sla_id0)s
        OFFSET 0
    ) draws
    WHERE roll >= 0.01
) figures
"""


def insert_figures_in_sql(sla_id0, windows, now, seed):
    """The figures of the SLAs from ``sla_id0`` on, generated by PostgreSQL (``FIGURES_SQL``): for ten million
    rows, several times faster than making them in Python. The table's secondary indexes and keys are
    dropped for the load and built again afterwards (``common.sql.bulk_load``)."""
    from common import sql

    params = {
        "now": now,
        "sla_id0": sla_id0,
        **{f"{frequency}_last": window[1] for frequency, window in windows.items()},
    }
    with sql.bulk_load(Measurement._meta.db_table), connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [(seed % 1000) / 1000])
        cursor.execute(FIGURES_SQL, params)
        return cursor.rowcount


def generate(preset: Preset, seed=2026, log=print, today=None):
    """Create ``preset``'s vendors, centres, contracts, SLAs, measurements, staff and managers."""
    rng = random.Random(seed)
    today = today or timezone.localdate()
    now = timezone.now()
    timings = {}
    started = time.perf_counter()
    kpis = {k.code: k for k in KPI.objects.all()}
    home = settings.HOME_COUNTRY
    starts = month_starts(preset.months, today)
    contract_start = starts[0]

    with transaction.atomic():
        # Managers (contract owners) — one password hash shared, computed once.
        User = get_user_model()
        user_id0 = _next_id(User)
        password = make_password("scale-manager")
        managers = range(user_id0, user_id0 + preset.managers)
        write_rows(
            User,
            (
                {
                    "id": uid,
                    "username": f"scale_mgr_{uid}",
                    "email": f"scale_mgr_{uid}@example.com",
                    "password": password,
                    "first_name": "Scale",
                    "last_name": f"Manager {uid}",
                    "is_active": True,
                    "is_staff": False,
                    "is_superuser": False,
                    "date_joined": now,
                }
                for uid in managers
            ),
            {
                "id",
                "username",
                "email",
                "password",
                "first_name",
                "last_name",
                "is_active",
                "is_staff",
                "is_superuser",
                "date_joined",
            },
        )
        group, _ = Group.objects.get_or_create(name=MANAGERS_GROUP)
        write_rows(
            User.groups.through,
            ({"user_id": uid, "group_id": group.pk} for uid in managers),
            {"user_id", "group_id"},
        )
        reset_sequences(User)

        vendor_id0, centre_id0 = _next_id(Vendor), _next_id(DeliveryCenter)
        vendor_countries = [COUNTRIES[i % len(COUNTRIES)] for i in range(preset.vendors)]
        write_rows(
            Vendor,
            (
                {
                    "id": vendor_id0 + i,
                    "name": f"Scale Vendor {vendor_id0 + i:06d}",
                    "country": c[0],
                    "status": "active",
                    "risk_tier": rng.choice(["low", "medium", "high", "critical"]),
                    "created_at": now,
                    "updated_at": now,
                    "contact_email": f"vendor{vendor_id0 + i}@example.com",
                }
                for i, c in enumerate(vendor_countries)
            ),
            {"id", "name", "country", "status", "risk_tier", "created_at", "updated_at", "contact_email"},
        )
        write_rows(
            DeliveryCenter,
            (
                {
                    "id": centre_id0 + i,
                    "vendor_id": vendor_id0 + i,
                    "name": f"{c[1]} centre",
                    "city": c[1],
                    "country": c[0],
                    "timezone": c[2],
                    "seats": 100 + (i % 10) * 50,
                    "operates_24x7": i % 3 == 0,
                }
                for i, c in enumerate(vendor_countries)
            ),
            {"id", "vendor_id", "name", "city", "country", "timezone", "seats", "operates_24x7"},
        )
        reset_sequences(Vendor, DeliveryCenter)
        timings["vendors"] = time.perf_counter() - started

        contract_id0 = _next_id(Contract)
        contracts = []  # (contract_id, service_type, engagement) — small enough to keep (20k rows)
        contract_rows = []
        for v in range(preset.vendors):
            country = vendor_countries[v][0]
            sourcing = suggest_sourcing_model(country, home)
            for c in range(preset.contracts_per_vendor):
                cid = contract_id0 + len(contracts)
                service_type = SERVICE_TYPES[(v + c) % 4]
                engagement = ENGAGEMENTS[(v + 2 * c) % 3]
                end = today + datetime.timedelta(days=rng.randint(20, 900))
                notice = rng.choice([30, 60, 90])
                fee = Decimal(rng.randint(20, 400) * 1000)
                contracts.append((cid, service_type))
                contract_rows.append(
                    {
                        "id": cid,
                        "vendor_id": vendor_id0 + v,
                        "reference": f"SC-{cid:07d}",
                        "title": f"{service_type.replace('_', ' ').title()} services {cid}",
                        "owner_id": user_id0 + (cid % preset.managers),
                        "engagement_model": engagement,
                        "service_type": service_type,
                        "service_line": "",
                        "sourcing_model": sourcing,
                        "delivery_center_id": centre_id0 + v,
                        "start_date": contract_start,
                        "end_date": end,
                        "notice_days": notice,
                        "notice_deadline": end - datetime.timedelta(days=notice),
                        "auto_renew": c % 2 == 0,
                        "currency": "USD",
                        "monthly_fee": fee,
                        "baseline_monthly_cost": (fee * Decimal("1.4")).quantize(Decimal("1")),
                        "at_risk_percent": Decimal(rng.choice([8, 10, 12, 15])),
                        "contracted_headcount": preset.staff_per_contract,
                        "replacement_days": 30,
                        "reporting_grace_days": 5,
                        "missing_report_is_breach": True,
                        "earn_back_periods": rng.choice([0, 0, 2]),
                        "status": "active",
                        "notes": "",
                        "created_at": now,
                        "updated_at": now,
                    }
                )
        write_rows(Contract, contract_rows, set(contract_rows[0]))
        reset_sequences(Contract)
        timings["contracts"] = time.perf_counter() - started

        sla_id0 = _next_id(SLA)
        slas = []  # (sla_id, expected, minimum, higher_is_better)

        firsts = history_windows(preset, starts, today)

        def sla_rows():
            for cid, service_type in contracts:
                codes = SERVICE_KPIS[service_type][: preset.slas_per_contract]
                for code in codes:
                    expected, minimum = LEVELS[code]
                    sid = sla_id0 + len(slas)
                    slas.append((sid, expected, minimum, kpis[code].higher_is_better, code == "attrition_rate"))
                    frequency = pick_frequency(preset, rng) if preset.figures_in_sql else "monthly"
                    yield {
                        "id": sid,
                        "contract_id": cid,
                        "kpi_id": kpis[code].pk,
                        "expected": Decimal(expected),
                        "minimum": Decimal(minimum),
                        "frequency": frequency,
                        "credit_allocation_percent": Decimal(rng.choice([10, 20, 25, 30])),
                        # An SLA is in force from its first figure's period (else a daily SLA would owe
                        # two years of missing reports before its 240 days of figures).
                        "effective_from": firsts[frequency][0] if preset.figures_in_sql else contract_start,
                        "effective_to": None,
                        "active": True,
                    }

        write_rows(
            SLA,
            sla_rows(),
            {
                "id",
                "contract_id",
                "kpi_id",
                "expected",
                "minimum",
                "frequency",
                "credit_allocation_percent",
                "effective_from",
                "effective_to",
                "active",
            },
        )
        reset_sequences(SLA)
        timings["slas"] = time.perf_counter() - started

        period_ends = [period_end("monthly", s) for s in starts]

        measurement_id0 = _next_id(Measurement)  # before COPY starts: the connection is busy during it

        def measurement_rows():
            mid = measurement_id0
            for sid, expected, minimum, higher, _attrition in slas:
                spread = abs(expected - minimum) or 1
                for start, end in zip(starts, period_ends, strict=True):
                    roll = rng.random()
                    if roll < 0.01:
                        continue  # a missing report
                    if roll < 0.80:
                        delta = rng.uniform(0, spread)  # met
                    elif roll < 0.93:
                        delta = -rng.uniform(0.01, spread)  # minor
                    else:
                        delta = -spread - rng.uniform(0.01, spread)  # major
                    value = expected + delta if higher else expected - delta
                    value = min(max(value, 0), 100) if expected <= 100 else max(value, 0)
                    yield {
                        "id": mid,
                        "sla_id": sid,
                        "period_start": start,
                        "period_end": end,
                        "value": Decimal(f"{value:.2f}"),
                        "source": "import",
                        "recorded_by_id": None,
                        "recorded_at": now,
                        "updated_at": now,
                        "note": "",
                    }
                    mid += 1

        if preset.figures_in_sql:
            n_measurements = insert_figures_in_sql(sla_id0, firsts, now, seed)
        else:
            n_measurements = write_rows(
                Measurement,
                measurement_rows(),
                {
                    "id",
                    "sla_id",
                    "period_start",
                    "period_end",
                    "value",
                    "source",
                    "recorded_by_id",
                    "recorded_at",
                    "updated_at",
                    "note",
                },
            )
        reset_sequences(Measurement)
        timings["measurements"] = time.perf_counter() - started

        staff_id0 = _next_id(StaffMember)

        def staff_rows():
            sid = staff_id0
            for cid, _service_type in contracts:
                for n in range(preset.staff_per_contract):
                    joined = contract_start + datetime.timedelta(days=rng.randint(0, 120))
                    left = None
                    if rng.random() < 0.15:
                        left = joined + datetime.timedelta(days=rng.randint(30, 600))
                        left = left if left < today else None
                    yield {
                        "id": sid,
                        "contract_id": cid,
                        "employee_ref": f"S{sid:08d}",
                        "full_name": f"Agent {sid}",
                        "role": "Agent" if n else "Team lead",
                        "joined_on": joined,
                        "left_on": left,
                        "leave_reason": rng.choice(["voluntary", "involuntary"]) if left else "",
                    }
                    sid += 1

        n_staff = write_rows(
            StaffMember,
            staff_rows(),
            {"id", "contract_id", "employee_ref", "full_name", "role", "joined_on", "left_on", "leave_reason"},
        )
        reset_sequences(StaffMember)
        timings["staff"] = time.perf_counter() - started

    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # What autovacuum would have done by the time anyone looks: statistics, and the visibility map
        # (without it every index-only scan of the fresh tables fetches the heap row as well).
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    timings["total"] = time.perf_counter() - started
    counts = {
        "managers": preset.managers,
        "vendors": preset.vendors,
        "contracts": len(contracts),
        "slas": len(slas),
        "measurements": n_measurements,
        "staff": n_staff,
    }
    log(f"Generated {counts} in {timings['total']:.1f}s")
    return counts, timings
