from django.db import models


class VendorStatus(models.TextChoices):
    PROSPECT = "prospect", "Prospect"
    ACTIVE = "active", "Active"
    ON_HOLD = "on_hold", "On hold"
    OFFBOARDED = "offboarded", "Offboarded"


class RiskTier(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class SourcingModel(models.TextChoices):
    ONSHORE = "onshore", "Onshore"
    NEARSHORE = "nearshore", "Nearshore"
    OFFSHORE = "offshore", "Offshore"
