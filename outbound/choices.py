from django.db import models


class EventType(models.TextChoices):
    BREACH_RECORDED = "breach.recorded", "breach.recorded — the engine recorded a breach (or one came back)"
    BREACH_WITHDRAWN = "breach.withdrawn", "breach.withdrawn — a breach no longer holds"
    OBLIGATION_OVERDUE = "obligation.overdue", "obligation.overdue — a staff replacement is overdue"
    DIGEST_SENT = "digest.sent", "digest.sent — a weekly breach digest e-mail went out"


# The event types read from the breach history (the rest come from elsewhere).
BREACH_EVENT_TYPES = (EventType.BREACH_RECORDED, EventType.BREACH_WITHDRAWN, EventType.OBLIGATION_OVERDUE)


class AlertChannel(models.TextChoices):
    EMAIL = "email", "E-mail"
    SLACK = "slack", "Slack (incoming webhook)"
    TEAMS = "teams", "Microsoft Teams (incoming webhook or workflow)"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # not sent yet, or failed and to be tried again at next_attempt_at
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"  # every try failed: given up
    CANCELLED = "cancelled", "Cancelled"  # its endpoint or alert was switched off before it went
