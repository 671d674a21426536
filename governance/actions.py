"""Corrective actions' workflow: open → in progress → done → verified (by someone else) or cancelled."""

from django.db import transaction
from django.utils import timezone

from kpis import periods

from .choices import TRANSITIONS, ActionStatus
from .models import CorrectiveAction

WATCH_PERIODS = 3  # a repeat breach within this many periods after verification: the action was ineffective


class TransitionError(ValueError):
    pass


def watch_until(action, verified_on):
    """The end of the ``WATCH_PERIODS``-th period after ``verified_on`` of the SLAs the action's breaches
    are on (the longest window of them); None when no breach has an SLA (replacements)."""
    ends = []
    for frequency in {b.sla.frequency for b in action.breaches.select_related("sla") if b.sla_id}:
        start = periods.next_period_start(frequency, verified_on)
        for _ in range(WATCH_PERIODS - 1):
            start = periods.next_period_start(frequency, start)
        ends.append(periods.period_end(frequency, start))
    return max(ends) if ends else None


def change_status(action_id, new_status, user, today=None):
    """Move the action to ``new_status`` as ``user``; raises ``TransitionError`` with the reason when the
    workflow does not allow it (nothing changed). Locks the row so two people cannot cross."""
    today = today or timezone.localdate()
    with transaction.atomic():
        action = CorrectiveAction.objects.select_for_update().get(pk=action_id)
        allowed = TRANSITIONS[ActionStatus(action.status)]
        if new_status not in ActionStatus.values:
            raise TransitionError(f"“{new_status}” is not a status.")
        if new_status not in allowed:
            raise TransitionError(
                f"A {action.get_status_display().lower()} action cannot become "
                f"{ActionStatus(new_status).label.lower()}."
            )
        if new_status == ActionStatus.VERIFIED and action.done_by_id == user.pk:
            raise TransitionError(
                "You marked this action done, so someone else must verify it: a second person checks the fix."
            )
        action.status = new_status
        if new_status == ActionStatus.DONE:
            action.done_by, action.done_on = user, today
        elif new_status == ActionStatus.VERIFIED:
            action.verified_by, action.verified_on = user, today
            action.watch_until = watch_until(action, today)
        elif new_status in (ActionStatus.OPEN, ActionStatus.IN_PROGRESS):
            action.done_by = action.done_on = action.verified_by = action.verified_on = action.watch_until = None
        action.closed_on = today if action.is_closed else None
        action._change_reason = f"status → {action.get_status_display().lower()}"
        action.save()
    return action
