from django.db import models


class OwnerSide(models.TextChoices):
    CLIENT = "client", "Client"
    VENDOR = "vendor", "Vendor"


class ActionStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    VERIFIED = "verified", "Verified"
    CANCELLED = "cancelled", "Cancelled"


# Statuses of an action still to be carried out: overdue once its due date has passed.
PENDING_STATUSES = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS)
CLOSED_STATUSES = (ActionStatus.DONE, ActionStatus.VERIFIED, ActionStatus.CANCELLED)

# The workflow: status → the statuses it may move to.
TRANSITIONS = {
    ActionStatus.OPEN: (ActionStatus.IN_PROGRESS, ActionStatus.DONE, ActionStatus.CANCELLED),
    ActionStatus.IN_PROGRESS: (ActionStatus.DONE, ActionStatus.OPEN, ActionStatus.CANCELLED),
    ActionStatus.DONE: (ActionStatus.VERIFIED, ActionStatus.IN_PROGRESS),
    ActionStatus.VERIFIED: (),
    ActionStatus.CANCELLED: (ActionStatus.OPEN,),
}


class RaciAssignment(models.TextChoices):
    RESPONSIBLE = "R", "Responsible"
    ACCOUNTABLE = "A", "Accountable"
    CONSULTED = "C", "Consulted"
    INFORMED = "I", "Informed"


class StaffFigureSource(models.TextChoices):
    MANUAL = "manual", "Manual"
    IMPORT = "import", "Import"
