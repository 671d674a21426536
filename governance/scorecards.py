"""Individual scorecards: staff figures recorded under the rules of contract figures, and who performs best.

A staff member's figure for a KPI is judged against the contract's SLA for that KPI (rule 1 of DESIGN.md:
met / minor / major) and takes the SLA's periods. It may be recorded when the contract figure could be
(``kpis.recording``: the SLA's own period, in force, and over), the value is one the contract figure would
take (``kpis.imports.parse_value``: finite, two decimals at most, not negative, a percentage at most 100),
and the person was on the roster for some of the period.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from kpis import periods, recording
from kpis.choices import Unit
from kpis.imports import RowError, _parse_date, _show, parse_value
from kpis.models import SLA

from .choices import StaffFigureSource
from .models import StaffMeasurement


def contract_slas(contract):
    """{kpi_id: SLA} of the contract's active SLAs on reported KPIs (one query)."""
    slas = {}
    for sla in SLA.objects.filter(contract=contract, active=True, kpi__is_computed=False).select_related(
        "kpi", "contract"
    ):
        slas.setdefault(sla.kpi_id, sla)
    return slas


def on_roster(member, start, end):
    return member.joined_on <= end and (member.left_on is None or member.left_on >= start)


def figure_problems(sla, member, start, value, today):
    """The reasons (clauses) a figure of ``member`` for ``sla``'s period starting ``start`` is refused."""
    problems = []
    period_problem = recording.figure_period_error(sla, start, today)
    if period_problem:
        problems.append(period_problem)
    elif not on_roster(member, start, periods.period_end(sla.frequency, start)):
        label = periods.describe_period(sla.frequency, start)
        problems.append(f"{member.full_name} was not on the roster in {label}")
    if value is not None:
        if value < 0:
            problems.append("a KPI figure cannot be negative")
        elif sla.kpi.unit == Unit.PERCENT and value > 100:
            problems.append(f"{sla.kpi.name} is a percentage: give a value between 0 and 100")
    return problems


@dataclass
class SaveResult:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    errors: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.errors


def write_figures(figures, user, source=StaffFigureSource.MANUAL, delete=()):
    """Write validated ``figures`` [(member, kpi, start, end, value)] and delete ``delete`` [(member, kpi,
    start)] in one transaction: new rows created, changed ones updated, with history."""
    result = SaveResult()
    with transaction.atomic():
        keys = {(m.pk, k.pk, s) for m, k, s, _e, _v in figures} | {(m.pk, k.pk, s) for m, k, s in delete}
        existing = {}
        if keys:
            condition = Q()
            for member_id, kpi_id, start in keys:
                condition |= Q(staff_member_id=member_id, kpi_id=kpi_id, period_start=start)
            existing = {
                (f.staff_member_id, f.kpi_id, f.period_start): f
                for f in StaffMeasurement.objects.select_for_update().filter(condition)
            }
        now = timezone.now()
        new, changed = [], []
        for member, kpi, start, end, value in figures:
            current = existing.get((member.pk, kpi.pk, start))
            if current is None:
                new.append(
                    StaffMeasurement(
                        staff_member=member,
                        kpi=kpi,
                        period_start=start,
                        period_end=end,
                        value=value,
                        source=source,
                        recorded_by=user,
                        recorded_at=now,
                    )
                )
            elif current.value != value:
                current.value, current.source, current.recorded_by, current.recorded_at = value, source, user, now
                changed.append(current)
            else:
                result.unchanged += 1
        gone = [existing[(m.pk, k.pk, s)].pk for m, k, s in delete if (m.pk, k.pk, s) in existing]
        if gone:
            result.deleted = StaffMeasurement.objects.filter(pk__in=gone).delete()[0]
        if new:
            bulk_create_with_history(new, StaffMeasurement, batch_size=1000, default_user=user)
            result.created = len(new)
        if changed:
            bulk_update_with_history(
                changed, StaffMeasurement, ["value", "source", "recorded_by", "recorded_at"], default_user=user
            )
            result.updated = len(changed)
    return result


def import_staff_figures(contract, rows, user, today=None):
    """Rows (from ``kpis.imports.read_rows``) of employee ref, KPI code, period start, value for
    ``contract``: every row checked, then all written or none (errors per line)."""
    today = today or timezone.localdate()
    result = SaveResult()
    if rows and len(rows[0][1]) >= 4 and parse_value(rows[0][1][3])[0] is None and _parse_date(rows[0][1][2]) is None:
        rows = rows[1:]  # a header
    if not rows:
        result.errors.append(RowError(1, "The file has no data rows."))
        return result
    if not user.has_perm("contracts.change_contract", contract):
        result.errors.append(RowError(rows[0][0], f"You may not enter figures for contract {contract.reference}."))
        return result
    members = {m.employee_ref: m for m in contract.staff.all()}
    slas = {sla.kpi.code: sla for sla in contract_slas(contract).values()}
    figures, seen = [], {}
    for line, cells in rows:
        cells = list(cells) + [""] * (4 - len(cells))
        ref, code = str(cells[0]).strip(), str(cells[1]).strip()
        problems = []
        member = members.get(ref)
        if not ref:
            problems.append("the employee reference is empty")
        elif member is None:
            problems.append(f"no one with employee reference “{_show(ref)}” on contract {contract.reference}")
        sla = slas.get(code)
        if not code:
            problems.append("the KPI code is empty")
        elif sla is None:
            problems.append(f"contract {contract.reference} has no active SLA for KPI “{_show(code)}”")
        start = _parse_date(cells[2])
        if start is None:
            problems.append(f"“{_show(cells[2])}” is not a date (write YYYY-MM-DD)")
        value, value_problem = parse_value(cells[3])
        if value_problem:
            problems.append(value_problem)
        if member is not None and sla is not None and start is not None:
            problems += figure_problems(sla, member, start, value, today)
            key = (member.pk, sla.kpi_id, start)
            if key in seen:
                problems.append(f"the same person, KPI and period is already on line {seen[key]}")
            seen.setdefault(key, line)
        if problems:
            result.errors.append(RowError(line, "; ".join(problems) + "."))
        else:
            figures.append((member, sla.kpi, start, periods.period_end(sla.frequency, start), value))
    if result.errors:
        return result
    written = write_figures(figures, user, source=StaffFigureSource.IMPORT)
    written.errors = []
    return written


def outcome(sla, value):
    """``met``, ``minor`` or ``major`` (rule 1) of an individual figure against the contract's SLA."""
    return sla.evaluate(value) or "met"


@dataclass
class Performer:
    member: object
    measured: int = 0
    met: int = 0
    figures: list = field(default_factory=list)  # [(kpi name, value, outcome)]

    @property
    def percent(self):
        return round(self.met * 100 / self.measured, 1) if self.measured else None


def performers(contract, today=None):
    """``(period label, top, bottom)`` of the contract's last period with individual figures (the latest
    ``period_start`` of a monthly-or-coarser figure): each person's share of figures meeting the SLA, best
    first. Three queries, whatever the roster size."""
    slas = contract_slas(contract)
    latest = (
        StaffMeasurement.objects.for_contract(contract)
        .filter(kpi__in=list(slas))
        .order_by("-period_start")
        .values_list("period_start", flat=True)
        .first()
    )
    if latest is None:
        return None, [], []
    rows = {}
    for figure in (
        StaffMeasurement.objects.for_contract(contract)
        .filter(period_start=latest, kpi__in=list(slas))
        .select_related("staff_member", "kpi")
    ):
        sla = slas[figure.kpi_id]
        performer = rows.setdefault(figure.staff_member_id, Performer(figure.staff_member))
        result = outcome(sla, figure.value)
        performer.measured += 1
        performer.met += result == "met"
        performer.figures.append((figure.kpi.name, figure.value, result))
    ranked = sorted(rows.values(), key=lambda p: (-(p.percent or 0), p.member.full_name))
    frequency = next(iter(slas.values())).frequency if slas else "monthly"
    label = periods.describe_period(frequency, latest)
    count = min(3, len(ranked) // 2) or 1
    top = ranked[:count]
    bottom = list(reversed(ranked[-count:])) if len(ranked) > 1 else []
    return label, top, bottom


def member_scorecard(member):
    """A staff member's figures by KPI against the contract's SLAs, with chart configs (two queries)."""
    from kpis.charts import measurement_chart

    slas = contract_slas(member.contract)
    by_kpi = defaultdict(list)
    for figure in StaffMeasurement.objects.filter(staff_member=member).select_related("kpi").order_by("period_start"):
        by_kpi[figure.kpi_id].append(figure)
    cards = []
    for kpi_id, figures in by_kpi.items():
        sla = slas.get(kpi_id)
        met = 0
        for figure in figures:
            figure.outcome = outcome(sla, figure.value) if sla else "met"
            met += figure.outcome == "met"
        cards.append(
            {
                "kpi": figures[0].kpi,
                "sla": sla,
                "figures": figures,
                "latest": figures[-1],
                "met": met,
                "measured": len(figures),
                "percent": round(met * 100 / len(figures), 1),
                "chart": measurement_chart(sla, figures[-12:]) if sla else None,
                "chart_id": f"staff-chart-{kpi_id}",
            }
        )
    cards.sort(key=lambda c: c["kpi"].name)
    return cards


def period_choices(sla, today, count=12):
    """The last ``count`` ended periods of ``sla`` (newest first), as (param, label)."""
    start = periods.previous_period_start(sla.frequency, today)
    choices = []
    for _ in range(count):
        choices.append((periods.period_param(sla.frequency, start), periods.describe_period(sla.frequency, start)))
        start = periods.previous_period_start(sla.frequency, start)
    return choices


def last_ended_period(sla, today):
    return periods.previous_period_start(sla.frequency, today or datetime.date.today())
