"""Which period a KPI figure may be recorded for: one rule for the KPI entry form, the import (and the
API), so a figure the form would refuse cannot come in through a file.

A figure for an SLA's period may be recorded when the period

1. starts on a plausible date (``common.validators``: 2000-01-01 to ten years after today);
2. is one of the SLA's periods (calendar day, ISO week from Monday, calendar month or quarter);
3. is in force: it overlaps the SLA's ``effective_from``–``effective_to`` and the contract's
   ``start_date``–``end_date`` (a period the contract or SLA covers only in part still takes a figure,
   as the KPI entry form always allowed); and
4. has ended: its last day is before today. A month's figure is known once the month is over; a figure
   for a period still running (or in the future) would be judged, and credited, as if it were final.
"""

import datetime

from common.validators import plausible_date_error

from . import periods


def figure_due(sla, start: datetime.date, end: datetime.date) -> bool:
    """Whether ``sla`` and its contract are in force for some of ``start``..``end`` (rule 3 above): the
    period may take a figure. Not whether a missing figure is a missing report: see ``report_owed``."""
    contract = sla.contract
    return not (
        sla.effective_from > end
        or (sla.effective_to and sla.effective_to < start)
        or start > contract.end_date
        or end < contract.start_date
    )


def report_owed(sla, start: datetime.date, end: datetime.date) -> bool:
    """Whether the period ``start``..``end`` owes a report (DESIGN.md rule 3): it lies *within* both the
    contract's ``start_date``–``end_date`` and the SLA's ``effective_from``–``effective_to``. The same test
    as the engine's missing-report SQL (``kpis.breaches.candidates_select``), which is the authority: a
    period the contract covers only in part may take a figure (``figure_due``) but is never missing."""
    contract = sla.contract
    return (
        start >= contract.start_date
        and end <= contract.end_date
        and start >= sla.effective_from
        and (sla.effective_to is None or end <= sla.effective_to)
    )


def not_in_force_reason(sla, start: datetime.date, end: datetime.date) -> str | None:
    """Why ``sla``'s period ``start``..``end`` is outside the SLA's or the contract's dates, or None."""
    contract = sla.contract
    if start > contract.end_date or end < contract.start_date:
        return (
            f"contract {contract.reference} runs from {contract.start_date:%Y-%m-%d} to "
            f"{contract.end_date:%Y-%m-%d}, not in {periods.describe_period(sla.frequency, start)}"
        )
    if sla.effective_from > end or (sla.effective_to and sla.effective_to < start):
        until = f" to {sla.effective_to:%Y-%m-%d}" if sla.effective_to else ""
        return (
            f"the {sla.kpi.name} SLA is in effect from {sla.effective_from:%Y-%m-%d}{until}, "
            f"not in {periods.describe_period(sla.frequency, start)}"
        )
    return None


def not_ended_reason(sla, start: datetime.date, end: datetime.date, today: datetime.date) -> str | None:
    """Why the period ``start``..``end`` cannot take its figure yet, or None when it has ended."""
    if end < today:
        return None
    label = periods.describe_period(sla.frequency, start)
    return f"{label} has not ended yet: its figure can be recorded from {end + periods.ONE_DAY:%Y-%m-%d}"


def figure_period_error(sla, period_start: datetime.date, today: datetime.date) -> str | None:
    """Why no figure can be recorded for ``sla``'s period starting ``period_start`` on ``today``, or None.

    The message is a clause ("… not in Dec 2028") for the caller to put in its sentence.
    """
    implausible = plausible_date_error(period_start, today)
    if implausible:
        return implausible.rstrip(".")
    start, end = periods.period_bounds(sla.frequency, period_start)
    if start != period_start:
        return (
            f"this SLA is reported {sla.get_frequency_display().lower()}: the period starts on "
            f"{start:%Y-%m-%d}, not {period_start:%Y-%m-%d}"
        )
    return not_in_force_reason(sla, start, end) or not_ended_reason(sla, start, end, today)


def as_sentence(clause: str) -> str:
    """``"the period …"`` → ``"The period …."``, for a message shown on its own."""
    return clause[:1].upper() + clause[1:] + ("" if clause.endswith(".") else ".")
