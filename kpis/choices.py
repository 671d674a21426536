from django.db import models


class Unit(models.TextChoices):
    PERCENT = "percent", "%"
    SECONDS = "seconds", "seconds"
    MINUTES = "minutes", "minutes"
    HOURS = "hours", "hours"
    DAYS = "days", "days"
    COUNT = "count", "count"
    SCORE = "score", "score"


class Direction(models.TextChoices):
    HIGHER_IS_BETTER = "higher_is_better", "Higher is better"
    LOWER_IS_BETTER = "lower_is_better", "Lower is better"


class Frequency(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"


class MeasurementSource(models.TextChoices):
    MANUAL = "manual", "Manual entry"
    IMPORT = "import", "Import"
    API = "api", "API"
    COMPUTED = "computed", "Computed"


class BreachKind(models.TextChoices):
    PERFORMANCE = "performance", "Performance"
    MISSING_REPORT = "missing_report", "Missing report"
    REPLACEMENT = "replacement", "Overdue replacement"


class Severity(models.TextChoices):
    MINOR = "minor", "Minor"
    MAJOR = "major", "Major"


class BreachStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    WAIVED = "waived", "Waived"
    RESOLVED = "resolved", "Resolved"
    WITHDRAWN = "withdrawn", "Withdrawn"


# Statuses in which a breach still needs attention.
OPEN_STATUSES = (BreachStatus.OPEN, BreachStatus.ACKNOWLEDGED)
