from django.db import models

from vendors.choices import SourcingModel  # noqa: F401  (re-exported for convenience)


class EngagementModel(models.TextChoices):
    BPO = "bpo", "BPO (provider supplies candidates)"
    BPM = "bpm", "BPM (managed service)"
    BPS = "bps", "BPS (process services)"


class ServiceType(models.TextChoices):
    FRONT_OFFICE = "front_office", "Front office"
    BACK_OFFICE = "back_office", "Back office"
    KPO = "kpo", "KPO (knowledge process)"
    LPO = "lpo", "LPO (legal process)"


class ContractStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    TERMINATED = "terminated", "Terminated"


class LeaveReason(models.TextChoices):
    VOLUNTARY = "voluntary", "Voluntary"
    INVOLUNTARY = "involuntary", "Involuntary"
    TRANSFER = "transfer", "Transfer"
    OTHER = "other", "Other"


class ObligationState(models.TextChoices):
    PENDING = "pending", "Pending"
    OVERDUE = "overdue", "Overdue"
    FULFILLED_ON_TIME = "fulfilled_on_time", "Fulfilled on time"
    FULFILLED_LATE = "fulfilled_late", "Fulfilled late"


class Currency(models.TextChoices):
    USD = "USD", "USD — US dollar"
    EUR = "EUR", "EUR — euro"
    GBP = "GBP", "GBP — pound sterling"
    CAD = "CAD", "CAD — Canadian dollar"
    AUD = "AUD", "AUD — Australian dollar"
    INR = "INR", "INR — Indian rupee"
    PHP = "PHP", "PHP — Philippine peso"
    MXN = "MXN", "MXN — Mexican peso"
    COP = "COP", "COP — Colombian peso"
    PLN = "PLN", "PLN — Polish złoty"
    ZAR = "ZAR", "ZAR — South African rand"
    CHF = "CHF", "CHF — Swiss franc"
    JPY = "JPY", "JPY — Japanese yen"
    SGD = "SGD", "SGD — Singapore dollar"
