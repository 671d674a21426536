"""Corrective actions' workflow: open → in progress → done → verified (by someone else) or cancelled.

One function changes an existing action, whatever the door (the action page, its edit form, the API):
:func:`update_action`. It locks the row, applies a person's edits, the progress notes and one workflow
step, checks who may take that step, and writes one history row naming who did it.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kpis import periods

from .choices import TRANSITIONS, ActionStatus, OwnerSide
from .models import CorrectiveAction

WATCH_PERIODS = 3  # a repeat breach within this many periods after verification: the action was ineffective

# The steps the vendor takes on the actions it owns; verifying (a second person on the client side checks the
# fix) and cancelling are the client's.
VENDOR_STATUSES = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS, ActionStatus.DONE)


# A history row written by the vendor (no user) starts its reason with this (the action page names the vendor).
VENDOR_REASON_PREFIX = "vendor "


class TransitionError(ValueError):
    """The change is not possible (not a status, a step the workflow does not have, a bad value); ``field``
    names what was wrong (``status``, ``progress_notes``)."""

    def __init__(self, message, field="status"):
        super().__init__(message)
        self.field = field


class StepForbidden(TransitionError):
    """The step exists, but this actor may not take it (self-verification, the vendor verifying…)."""


@dataclass(frozen=True)
class Actor:
    """Who changes an action: a person of ours (``user``), or the vendor itself through one of its API keys
    (no user; ``key_name`` names the key in the history). ``via`` says through which door (``"API"``)."""

    user: object = None
    key_name: str = ""
    via: str = ""

    @classmethod
    def person(cls, user, via=""):
        return cls(user=user, via=via)

    @classmethod
    def vendor_key(cls, key_name):
        return cls(key_name=key_name, via="API")

    @property
    def is_vendor(self):
        return self.user is None

    def reason(self, what):
        """The history's reason for ``what`` this actor did."""
        if self.is_vendor:
            return f"{VENDOR_REASON_PREFIX}via {self.key_name}: {what}"
        return f"{self.via}: {what}" if self.via else what


def vendor_may_update(action):
    """The vendor updates the actions it owns (owner side vendor), never the client's."""
    return action.owner_side == OwnerSide.VENDOR


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


def _take_step(action, new_status, actor, today):
    if new_status not in ActionStatus.values:
        raise TransitionError(f"“{str(new_status)[:30]}” is not a status.")
    if actor.is_vendor and action.status not in VENDOR_STATUSES:
        raise StepForbidden(f"This action is {action.get_status_display().lower()}: only the client reopens it.")
    if actor.is_vendor and new_status not in VENDOR_STATUSES:
        raise StepForbidden(
            f"The vendor cannot mark an action {ActionStatus(new_status).label.lower()}: "
            "the client verifies or cancels it."
        )
    if new_status not in TRANSITIONS[ActionStatus(action.status)]:
        current = action.get_status_display().lower()
        raise TransitionError(
            f"{'An' if current[0] in 'aeiou' else 'A'} {current} action cannot become "
            f"{ActionStatus(new_status).label.lower()}."
        )
    if new_status == ActionStatus.VERIFIED and action.done_by_id is not None and action.done_by_id == actor.user.pk:
        raise StepForbidden(
            "You marked this action done, so someone else must verify it: a second person checks the fix."
        )
    action.status = new_status
    if new_status == ActionStatus.DONE:
        action.done_by, action.done_by_key, action.done_on = actor.user, actor.key_name, today
    elif new_status == ActionStatus.VERIFIED:
        action.verified_by, action.verified_on = actor.user, today
        action.watch_until = watch_until(action, today)
    elif new_status in (ActionStatus.OPEN, ActionStatus.IN_PROGRESS):
        action.done_by = action.done_on = action.verified_by = action.verified_on = action.watch_until = None
        action.done_by_key = ""
    action.closed_on = today if action.is_closed else None


def _checked_progress(action, text):
    try:
        return CorrectiveAction._meta.get_field("progress_notes").clean(text, action)
    except ValidationError as error:
        raise TransitionError(" ".join(error.messages), field="progress_notes") from None


def update_action(action_id, actor, *, status=None, progress_notes=None, fields=None, breaches=None, today=None):
    """Change the action as ``actor`` in one locked step: a person's ``fields`` and ``breaches`` (values the
    action form has validated), ``progress_notes`` and/or a workflow step to ``status`` (the same status again
    is no step). Raises :class:`TransitionError` (or :class:`StepForbidden`) with the reason, nothing changed.
    Returns the action; one history row per change, none when nothing changed."""
    today = today or timezone.localdate()
    with transaction.atomic():
        action = CorrectiveAction.objects.select_for_update().get(pk=action_id)
        if actor.is_vendor:
            if fields or breaches is not None:
                raise StepForbidden("The vendor updates an action's status and progress notes only.", field=None)
            if not vendor_may_update(action):
                raise StepForbidden("This action is the client's: the vendor cannot change it.", field=None)
        changed = []
        for name, value in (fields or {}).items():
            if getattr(action, name) != value:
                setattr(action, name, value)
                changed.append(CorrectiveAction._meta.get_field(name).verbose_name)
        if progress_notes is not None and progress_notes != action.progress_notes:
            action.progress_notes = _checked_progress(action, progress_notes)
            changed.append("progress notes")
        what = [f"edited {', '.join(str(c) for c in changed)}"] if changed else []
        if status is not None and status != action.status:
            _take_step(action, status, actor, today)
            what.append(f"status → {action.get_status_display().lower()}")
        if breaches is not None and {b.pk for b in breaches} != set(action.breaches.values_list("pk", flat=True)):
            action.breaches.set(breaches)
            what.append("breaches linked: " + (", ".join(f"#{b.pk}" for b in breaches) or "none"))
        if what:
            action._change_reason = actor.reason("; ".join(what))
            action._history_user = actor.user
            action.save()
    return action


def change_status(action_id, new_status, user, today=None):
    """Move the action to ``new_status`` as ``user`` (the action page's buttons)."""
    if new_status in (None, ""):
        raise TransitionError("Choose a status.")
    return update_action(action_id, Actor.person(user), status=new_status, today=today)
