"""Rule 6 of DESIGN.md: monthly attrition, computed from the staff roster.

Attrition % = departures in the month (``left_on`` within it) ÷ average of the headcount at the
month's start and end × 100, rounded half-up to 2 decimals.

* start headcount: ``joined_on`` ≤ the 1st and (``left_on`` empty or ≥ the 1st);
* end headcount: ``joined_on`` ≤ the last day and (``left_on`` empty or after the last day);

so everyone who leaves during the month counts at the start and not at the end.

Every active contract with an active, monthly ``attrition_rate`` SLA in effect that month gets the
figure as a ``computed`` measurement (one ``INSERT … SELECT … ON CONFLICT DO UPDATE``). A figure a
person recorded for that month (source other than ``computed``) is never overwritten. A contract with
no staff at either end of the month has no defined rate and gets no figure. The new figures then go
through the same breach rules (``kpis.breaches.detect_breaches``) for those SLAs.
"""

import datetime
import functools
import re
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from common import sql
from contracts.models import Contract, StaffMember

from . import periods
from .breaches import detect_breaches
from .choices import Frequency, MeasurementSource
from .models import KPI, SLA, Measurement

ATTRITION_KPI = "attrition_rate"
_MONTH = re.compile(r"^(\d{4})-(\d{2})(?:-\d{2})?$")


def parse_month(month=None, today=None) -> datetime.date:
    """``None`` → the previous calendar month; ``"2026-05"``, ``"2026-05-01"`` or a date → that month's 1st."""
    if month is None:
        today = today or timezone.localdate()
        return (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    if isinstance(month, datetime.date):
        return month.replace(day=1)
    match = _MONTH.match(str(month).strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"“{month}” is not a month; write it like 2026-05.")
    return datetime.date(int(match.group(1)), int(match.group(2)), 1)


@functools.lru_cache(maxsize=8192)  # small integers that repeat across thousands of vendor-months
def attrition_percent(departures: int, start_headcount: int, end_headcount: int):
    """Rule 6 for one contract-month (or a group's): departures ÷ average of start and end headcount × 100,
    to 2 decimals half-up, as departures × 200 ÷ (start + end) — the same number, one Decimal division.
    None when both headcounts are 0. The one Python definition (reports, tests, demo data); the engine's
    SQL in ``record_attrition_measurements`` computes the same."""
    both = start_headcount + end_headcount
    if not both:
        return None
    return (Decimal(departures * 200) / both).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def record_attrition_measurements(first: datetime.date, now=None, contract_ids=None):
    """Upsert the month's computed attrition figure for every eligible SLA. One statement."""
    last = periods.period_end(Frequency.MONTHLY, first)
    M, S, K = Measurement._meta.db_table, SLA._meta.db_table, KPI._meta.db_table
    C, P = Contract._meta.db_table, StaffMember._meta.db_table
    d1, dn = sql.date_literal(first), sql.date_literal(last)
    now = sql.adapt_datetime(now or timezone.now())
    scope, scope_params = sql.in_list("c.id", contract_ids)
    heads = "(h.start_headcount + h.end_headcount)"
    # round-half-up(departures × 200 / heads, 2 dp) in hundredths = (2 × departures × 20000 + heads) / (2 × heads)
    hundredths = f"((2 * h.departures * 20000 + {heads}) / (2 * {heads}))"
    statement = f"""
        INSERT INTO {M} (sla_id, period_start, period_end, value, source, recorded_by_id, recorded_at, updated_at, note)
        SELECT s.id, {d1}, {dn}, {sql.from_cents(hundredths)}, '{MeasurementSource.COMPUTED}', NULL, %s, %s,
               'Computed from the staff roster.'
        FROM {S} s
        JOIN {K} k ON k.id = s.kpi_id
        JOIN {C} c ON c.id = s.contract_id
        JOIN (
            SELECT contract_id,
                   SUM(CASE WHEN left_on >= {d1} AND left_on <= {dn} THEN 1 ELSE 0 END) AS departures,
                   SUM(CASE WHEN joined_on <= {d1} AND (left_on IS NULL OR left_on >= {d1})
                            THEN 1 ELSE 0 END) AS start_headcount,
                   SUM(CASE WHEN joined_on <= {dn} AND (left_on IS NULL OR left_on > {dn})
                            THEN 1 ELSE 0 END) AS end_headcount
            FROM {P} GROUP BY contract_id
        ) h ON h.contract_id = c.id
        WHERE k.code = '{ATTRITION_KPI}' AND s.active AND s.frequency = '{Frequency.MONTHLY}' AND c.status = 'active'
          AND s.effective_from <= {dn} AND (s.effective_to IS NULL OR s.effective_to >= {d1})
          AND {heads} > 0 AND {scope}
        ON CONFLICT (sla_id, period_start) DO UPDATE SET
            value = excluded.value, period_end = excluded.period_end, updated_at = excluded.updated_at
        WHERE {M}.source = '{MeasurementSource.COMPUTED}'
          AND ({M}.value <> excluded.value OR {M}.period_end <> excluded.period_end)
    """  # nosec B608  # table names from model _meta, dates from sql.date_literal, choices constants; values bound
    return sql.execute(statement, [now, now, *scope_params])


def compute_attrition(month=None, today=None, contract_ids=None):
    """Rule 6 for one month (default: the previous calendar month), then rules 1–3/5 for those SLAs."""
    first = parse_month(month, today)
    with sql.job_lock("kpis.compute_attrition"):
        written = record_attrition_measurements(first, contract_ids=contract_ids)
        sla_ids = list(
            SLA.objects.filter(kpi__code=ATTRITION_KPI, measurements__period_start=first)
            .filter(**({"contract_id__in": contract_ids} if contract_ids is not None else {}))
            .values_list("pk", flat=True)
            .distinct()
        )
    breaches = detect_breaches(figures=[(pk, first) for pk in sla_ids], today=today) if sla_ids else {}
    return {"month": first.strftime("%Y-%m"), "measurements_written": written, "sla_ids": sla_ids, "breaches": breaches}
