"""A breach's history in plain words (rule 5): who changed what, when, and why.

Every change is a django-simple-history row: people's through the model (forms, admin), the engine's
written set-based by the engine itself with ``history_change_reason`` = ``kpis.breaches.ENGINE`` and no
user. ``breach_history(breach)`` pairs each row with the one before it and says what changed
("credit 2,304.00 → 0.00") and, for the engine, why ("figure corrected to 87.00").
"""

from dataclasses import dataclass, field

from .breaches import ENGINE
from .choices import BreachKind, BreachStatus

TRACKED = (
    ("status", "status", False),
    ("severity", "severity", False),
    ("actual", "actual", False),
    ("expected", "expected", False),
    ("minimum", "minimum", False),
    ("service_credit", "credit", True),
    ("credit_earned_back", "earned back", True),
    ("period_start", "period start", False),
    ("period_end", "period end", False),
    ("notes", "notes", False),
)


@dataclass
class Change:
    label: str
    old: object
    new: object
    money: bool = False


@dataclass
class HistoryEntry:
    when: object
    who: str
    event: str
    changes: list = field(default_factory=list)
    by_engine: bool = False


def _display(record, name):
    value = getattr(record, name)
    if name in ("status", "severity") and value:
        return getattr(record, f"get_{name}_display")()
    return value


def _person(record):
    user = record.history_user
    if user is None:
        return "someone (no user recorded)"
    return user.get_full_name() or user.get_username()


def _engine_event(record, previous):
    """Why the engine wrote this row, in words."""
    kind = record.kind
    if previous is None:
        if kind == BreachKind.PERFORMANCE:
            return f"recorded: figure {record.actual} against expected {record.expected}"
        if kind == BreachKind.MISSING_REPORT:
            return "recorded: no figure reported in time"
        return f"recorded: replacement not fulfilled by {record.period_end:%Y-%m-%d}"
    figure_changed = record.actual != previous.actual and record.actual is not None
    if record.status == BreachStatus.WITHDRAWN and previous.status != BreachStatus.WITHDRAWN:
        if kind == BreachKind.PERFORMANCE:
            if record.measurement_id is None:
                return "withdrawn: figure deleted"
            return f"withdrawn: figure corrected to {record.actual}, which meets the SLA"
        if kind == BreachKind.MISSING_REPORT:
            return "withdrawn: the missing report arrived"
        return "withdrawn: the replacement turned out to be in time"
    if kind == BreachKind.REPLACEMENT and record.status == BreachStatus.RESOLVED != previous.status:
        return "resolved: the replacement was fulfilled late"
    if previous.status == BreachStatus.WITHDRAWN and record.status != BreachStatus.WITHDRAWN:
        cause = f"figure corrected to {record.actual}" if figure_changed else "it holds again"
        return f"back as {record.get_status_display().lower()}: {cause}"
    if figure_changed:
        return f"figure corrected to {record.actual}"
    if record.credit_earned_back > previous.credit_earned_back:
        return "credit earned back: the SLA met expected in the following periods"
    if record.service_credit != previous.service_credit:
        return "credit re-computed for its month (monthly cap, waivers, earn-back)"
    return "facts re-computed"


def breach_history(breach, limit=200):
    """The breach's history, newest first, as ``HistoryEntry`` rows. One query."""
    records = list(breach.history.select_related("history_user").order_by("history_date", "history_id")[:limit])
    entries, previous = [], None
    for record in records:
        by_engine = record.history_user_id is None and record.history_change_reason == ENGINE
        changes = []
        if previous is not None:
            for name, label, money in TRACKED:
                old, new = _display(previous, name), _display(record, name)
                if old != new:
                    changes.append(Change(label, old, new, money))
        if by_engine:
            event = _engine_event(record, previous)
        elif previous is None:
            event = "recorded"
        elif record.history_change_reason:
            event = record.history_change_reason
        else:
            event = "status changed" if record.status != previous.status else "notes edited"
        entries.append(
            HistoryEntry(
                when=record.history_date,
                who=ENGINE if by_engine else _person(record),
                event=event,
                changes=changes,
                by_engine=by_engine,
            )
        )
        previous = record
    return entries[::-1]
