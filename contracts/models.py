import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, F, Q, When
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from common.policy import RestrictQuerySet
from common.validators import (
    LONG_TEXT_MAX_LENGTH,
    PLAUSIBLE_DATE,
    capped_text,
    plausible_date_constraint,
    text_length_constraint,
)
from vendors.choices import SourcingModel
from vendors.geography import suggest_sourcing_model

from .choices import ContractStatus, Currency, EngagementModel, LeaveReason, ObligationState, ServiceType

PERCENT_VALIDATORS = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]
NON_NEGATIVE = [MinValueValidator(Decimal("0"))]


def _today():
    return timezone.localdate()


def contract_display_status(status, end_date, today=None):
    """What a contract's status reads as: an active contract past its end date is "Expired"."""
    if status == ContractStatus.ACTIVE and end_date < (today or _today()):
        return "Expired"
    return dict(ContractStatus.choices).get(status, status)


def obligation_state(due_on, fulfilled_on, today=None):
    """A replacement obligation's state from its due date and the date that fulfilled it (None: not yet)."""
    if fulfilled_on is None:
        return ObligationState.OVERDUE if due_on < (today or _today()) else ObligationState.PENDING
    return ObligationState.FULFILLED_LATE if fulfilled_on > due_on else ObligationState.FULFILLED_ON_TIME


class ContractQuerySet(RestrictQuerySet):
    def active(self):
        return self.filter(status=ContractStatus.ACTIVE)

    def owned_by(self, user):
        return self.filter(owner=user)

    def current(self, today=None):
        return self.filter(end_date__gte=today or _today())

    def not_in_force(self, today=None):
        """The contracts ``active().current(today)`` leaves out."""
        return self.filter(~Q(status=ContractStatus.ACTIVE) | Q(end_date__lt=today or _today()))

    def notice_due_within(self, days=30, today=None):
        """Active, unexpired contracts whose last day to give notice is between today and today + days."""
        today = today or _today()
        return (
            self.active()
            .current(today)
            .filter(notice_deadline__gte=today, notice_deadline__lte=today + datetime.timedelta(days=days))
        )

    def expiring_within(self, days, today=None):
        """Contracts whose end date falls between today and today + ``days``."""
        today = today or _today()
        return self.filter(end_date__gte=today, end_date__lte=today + datetime.timedelta(days=days))

    def for_list(self):
        return self.select_related("vendor", "owner", "delivery_center")


class Contract(models.Model):
    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.PROTECT, related_name="contracts")
    reference = models.CharField(max_length=50, help_text="Your contract number, e.g. CX-2026-014.")
    title = models.CharField(max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_contracts",
        help_text="The vendor manager responsible for this contract.",
    )
    engagement_model = models.CharField(max_length=3, choices=EngagementModel, default=EngagementModel.BPO)
    service_type = models.CharField(max_length=20, choices=ServiceType)
    service_line = models.CharField(max_length=100, blank=True, help_text="e.g. voice support, data entry, payroll.")
    sourcing_model = models.CharField(
        max_length=10,
        choices=SourcingModel,
        blank=True,
        help_text="Left blank, it is derived from the delivery centre's country against the home country.",
    )
    delivery_center = models.ForeignKey(
        "vendors.DeliveryCenter", on_delete=models.PROTECT, null=True, blank=True, related_name="contracts"
    )
    start_date = models.DateField(validators=PLAUSIBLE_DATE)
    end_date = models.DateField(validators=PLAUSIBLE_DATE)
    notice_days = models.PositiveIntegerField(default=90, help_text="Days of notice needed to end or renegotiate.")
    notice_deadline = models.DateField(
        editable=False, null=True, help_text="Last day to give notice: end date − notice days (kept by save())."
    )
    auto_renew = models.BooleanField(default=False)
    currency = models.CharField(max_length=3, choices=Currency, default=Currency.USD)
    monthly_fee = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"), validators=NON_NEGATIVE)
    baseline_monthly_cost = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        default=Decimal("0"),
        validators=NON_NEGATIVE,
        help_text="What the same work cost (or would cost) in-house per month.",
    )
    at_risk_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("10"),
        validators=PERCENT_VALIDATORS,
        help_text="Share of the monthly fee at risk for service credits (0–100).",
    )
    contracted_headcount = models.PositiveIntegerField(default=0)
    replacement_days = models.PositiveIntegerField(
        default=30, help_text="Days the vendor has to replace a departed staff member."
    )
    reporting_grace_days = models.PositiveIntegerField(
        default=5, help_text="Days after a period ends before a missing KPI report counts."
    )
    missing_report_is_breach = models.BooleanField(
        default=True, help_text="A missing report is a major breach with a service credit (otherwise minor, no credit)."
    )
    earn_back_periods = models.PositiveIntegerField(
        default=0, help_text="Consecutive met periods after a major breach that earn its credit back (0: no earn-back)."
    )
    status = models.CharField(max_length=20, choices=ContractStatus, default=ContractStatus.ACTIVE)
    notes = models.TextField(blank=True, **capped_text(LONG_TEXT_MAX_LENGTH))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()
    objects = ContractQuerySet.as_manager()

    class Meta:
        ordering = ["reference"]
        indexes = [
            models.Index(fields=["vendor", "status"], name="contract_vendor_status_idx"),
            models.Index(fields=["owner", "status"], name="contract_owner_status_idx"),
            models.Index(fields=["status", "end_date"], name="contract_status_end_idx"),
            models.Index(fields=["status", "notice_deadline"], name="contract_status_notice_idx"),
            models.Index(fields=["service_type"], name="contract_service_type_idx"),
            models.Index(fields=["sourcing_model"], name="contract_sourcing_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["reference"],
                name="contract_reference_unique",
                violation_error_message="A contract with this reference already exists.",
            ),
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")),
                name="contract_end_after_start",
                violation_error_message="The end date cannot be before the start date.",
            ),
            models.CheckConstraint(
                condition=Q(at_risk_percent__gte=0, at_risk_percent__lte=100),
                name="contract_at_risk_percent_range",
                violation_error_message="The share of the fee at risk must be between 0 and 100 %.",
            ),
            models.CheckConstraint(
                condition=Q(monthly_fee__gte=0),
                name="contract_monthly_fee_non_negative",
                violation_error_message="The monthly fee cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(baseline_monthly_cost__gte=0),
                name="contract_baseline_non_negative",
                violation_error_message="The in-house baseline cost cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(contracted_headcount__gte=0),
                name="contract_headcount_non_negative",
                violation_error_message="The contracted headcount cannot be negative.",
            ),
            plausible_date_constraint("contract_dates_plausible", "start_date", "end_date"),
            text_length_constraint("contract_notes_length", "notes", LONG_TEXT_MAX_LENGTH),
        ]

    def __str__(self):
        return f"{self.reference} — {self.title}"

    def get_absolute_url(self):
        return reverse("contracts:contract_detail", args=[self.pk])

    def clean(self):
        super().clean()
        errors = {}
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = "The end date cannot be before the start date."
        if self.delivery_center_id and self.vendor_id and self.delivery_center.vendor_id != self.vendor_id:
            errors["delivery_center"] = "This delivery centre belongs to another vendor."
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        if not self.sourcing_model:
            self.sourcing_model = self.suggested_sourcing_model() or ""
        self.notice_deadline = self.compute_notice_deadline()
        super().save(*args, **kwargs)

    # --- derived values ---------------------------------------------------------------
    def suggested_sourcing_model(self):
        """Onshore / nearshore / offshore from the delivery centre's country (or the vendor's HQ)."""
        country = None
        if self.delivery_center_id:
            country = self.delivery_center.country
        elif self.vendor_id:
            country = self.vendor.country
        if not country:
            return None
        return suggest_sourcing_model(country.code, settings.HOME_COUNTRY)

    def compute_notice_deadline(self):
        if self.end_date is None:
            return None
        return self.end_date - datetime.timedelta(days=self.notice_days or 0)

    def is_expired(self, today=None):
        return self.end_date < (today or _today())

    def is_within_notice_window(self, today=None, days=30):
        """True when the last day to give notice is today or within the next ``days`` days."""
        today = today or _today()
        return today <= self.compute_notice_deadline() <= today + datetime.timedelta(days=days)

    @property
    def display_status(self):
        return contract_display_status(self.status, self.end_date)

    @property
    def monthly_saving(self):
        return self.baseline_monthly_cost - self.monthly_fee

    @property
    def saving_percent(self):
        if not self.baseline_monthly_cost:
            return None
        return (self.monthly_saving / self.baseline_monthly_cost * 100).quantize(Decimal("0.1"))

    @property
    def credit_cap(self):
        """The most this contract can pay in service credits in one calendar month."""
        return (self.monthly_fee * self.at_risk_percent / 100).quantize(Decimal("0.01"))

    def replacement_fulfilment_field(self):
        return ReplacementObligation.fulfilment_field_for(self.engagement_model)


class StaffMemberQuerySet(RestrictQuerySet):
    def active_on(self, day):
        return self.filter(joined_on__lte=day).filter(Q(left_on__isnull=True) | Q(left_on__gte=day))


class StaffMember(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="staff")
    employee_ref = models.CharField("Employee ref.", max_length=50)
    full_name = models.CharField(max_length=200)
    role = models.CharField(max_length=100, blank=True)
    joined_on = models.DateField(validators=PLAUSIBLE_DATE)
    left_on = models.DateField(null=True, blank=True, validators=PLAUSIBLE_DATE)
    leave_reason = models.CharField(max_length=20, choices=LeaveReason, blank=True)

    history = HistoricalRecords()
    objects = StaffMemberQuerySet.as_manager()

    class Meta:
        ordering = ["full_name"]
        verbose_name = "staff member"
        indexes = [
            models.Index(fields=["contract", "joined_on"], name="staff_contract_joined_idx"),
            models.Index(fields=["contract", "left_on"], name="staff_contract_left_idx"),
            models.Index(fields=["left_on"], name="staff_left_on_idx", condition=Q(left_on__isnull=False)),
            # the admin's default order (name): a page of 200,000 staff without sorting them all
            models.Index(fields=["full_name"], name="staff_full_name_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "employee_ref"],
                name="staff_contract_employee_ref_unique",
                violation_error_message="This employee reference is already on the contract's roster.",
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=F("joined_on")),
                name="staff_left_after_joined",
                violation_error_message="The leaving date cannot be before the joining date.",
            ),
            plausible_date_constraint("staff_dates_plausible", "joined_on", "left_on", nullable=("left_on",)),
        ]

    def __str__(self):
        return f"{self.full_name} ({self.employee_ref})"

    def get_absolute_url(self):
        return reverse("staff:staff_detail", args=[self.pk])

    def clean(self):
        super().clean()
        errors = {}
        if self.left_on and self.joined_on and self.left_on < self.joined_on:
            errors["left_on"] = "The leaving date cannot be before the joining date."
        if self.left_on and not self.leave_reason:
            errors["leave_reason"] = "Say why the staff member left."
        if self.leave_reason and not self.left_on:
            errors["left_on"] = "Give the leaving date, or clear the leave reason."
        if errors:
            raise ValidationError(errors)

    @property
    def is_active(self):
        return self.left_on is None


class ReplacementObligationQuerySet(RestrictQuerySet):
    def with_fulfilment(self):
        """Annotate ``fulfilment_date``: the candidate date for BPO contracts, the productive date for
        BPM/BPS. (Not ``fulfilled_on``: that is the model property, and rows must load as instances.)"""
        return self.annotate(
            fulfilment_date=Case(
                When(departed__contract__engagement_model=EngagementModel.BPO, then=F("candidate_provided_on")),
                default=F("replacement_productive_on"),
                output_field=models.DateField(),
            )
        )

    def unfulfilled(self):
        return self.with_fulfilment().filter(fulfilment_date__isnull=True)

    def overdue(self, today=None):
        """Not fulfilled and past their due date."""
        return self.unfulfilled().filter(due_on__lt=today or _today())

    def fulfilled_late(self):
        return self.with_fulfilment().filter(fulfilment_date__gt=F("due_on"))


class ReplacementObligation(models.Model):
    departed = models.OneToOneField(StaffMember, on_delete=models.CASCADE, related_name="replacement_obligation")
    due_on = models.DateField(validators=PLAUSIBLE_DATE)
    candidate_provided_on = models.DateField(null=True, blank=True, validators=PLAUSIBLE_DATE)
    replacement_productive_on = models.DateField(null=True, blank=True, validators=PLAUSIBLE_DATE)
    replacement = models.ForeignKey(
        StaffMember,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="replaces",
        help_text="The staff member who took over.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()
    objects = ReplacementObligationQuerySet.as_manager()
    contract_path = "departed__contract"  # the contract it hangs off (access policy, querysets)

    class Meta:
        ordering = ["due_on"]
        indexes = [
            models.Index(fields=["due_on"], name="obligation_due_on_idx"),
        ]
        constraints = [
            plausible_date_constraint(
                "obligation_dates_plausible",
                "due_on",
                "candidate_provided_on",
                "replacement_productive_on",
                nullable=("candidate_provided_on", "replacement_productive_on"),
            ),
        ]

    def __str__(self):
        return f"Replace {self.departed.full_name} by {self.due_on:%Y-%m-%d}"

    @staticmethod
    def fulfilment_field_for(engagement_model):
        if engagement_model == EngagementModel.BPO:
            return "candidate_provided_on"
        return "replacement_productive_on"

    @staticmethod
    def due_date_for(staff_member):
        return staff_member.left_on + datetime.timedelta(days=staff_member.contract.replacement_days)

    def clean(self):
        super().clean()
        errors = {}
        left_on = self.departed.left_on if self.departed_id else None
        for field in ("candidate_provided_on", "replacement_productive_on"):
            value = getattr(self, field)
            if value and left_on and value < left_on:
                errors[field] = "This date cannot be before the staff member left."
        if (
            self.candidate_provided_on
            and self.replacement_productive_on
            and self.replacement_productive_on < self.candidate_provided_on
        ):
            errors["replacement_productive_on"] = (
                "The replacement cannot be productive before the candidate was provided."
            )
        if self.replacement_id and self.departed_id and self.replacement_id == self.departed_id:
            errors["replacement"] = "A staff member cannot replace themselves."
        if errors:
            raise ValidationError(errors)

    def replacement_candidates(self):
        """Who may be recorded as the replacement: staff on the same contract who joined on or after the
        departure and have not left."""
        departed = self.departed
        return (
            StaffMember.objects.filter(contract_id=departed.contract_id, left_on__isnull=True)
            .filter(joined_on__gte=departed.left_on)
            .exclude(pk=departed.pk)
        )

    def replacement_problem(self, member):
        """Why ``member`` cannot be recorded as the replacement (a sentence), or "" when they can."""
        departed = self.departed
        if member.pk == departed.pk:
            return "A staff member cannot replace themselves."
        if member.contract_id != departed.contract_id:
            return f"{member.full_name} is not on {departed.contract.reference}: choose someone on the same contract."
        if member.left_on is not None:
            return f"{member.full_name} left on {member.left_on:%Y-%m-%d}: choose someone still on the contract."
        if departed.left_on and member.joined_on < departed.left_on:
            return (
                f"{member.full_name} joined on {member.joined_on:%Y-%m-%d}, before {departed.full_name} left on "
                f"{departed.left_on:%Y-%m-%d}: the replacement is someone who joined on or after the departure."
            )
        return ""

    @property
    def contract(self):
        return self.departed.contract

    @property
    def fulfilled_on(self):
        return getattr(self, self.fulfilment_field_for(self.departed.contract.engagement_model))

    @property
    def is_fulfilled(self):
        return self.fulfilled_on is not None

    def state(self, today=None):
        return obligation_state(self.due_on, self.fulfilled_on, today)

    def is_overdue(self, today=None):
        return self.state(today) == ObligationState.OVERDUE


class ExchangeRateQuerySet(RestrictQuerySet):
    def for_pairs(self, pairs):
        """The rates of these (currency, first of month) pairs: one query over their currencies and months
        (a few rows more than asked for at most), whatever the number of pairs."""
        pairs = set(pairs)
        if not pairs:
            return self.none()
        return self.filter(currency__in={c for c, _ in pairs}, month__in={m for _, m in pairs})


class ExchangeRate(models.Model):
    """What one unit of ``currency`` was worth in the organisation's ``REPORTING_CURRENCY`` in ``month``.

    Kept by admins in the admin site; ``contracts.exchange`` converts totals over several currencies with
    it, month by month. A month without a rate is shown as missing, never guessed from another month."""

    currency = models.CharField(
        max_length=3, choices=Currency, help_text="ISO 4217 code, as on contracts (the currency converted)."
    )
    month = models.DateField(help_text="The first day of the month the rate applies to.")
    rate = models.DecimalField(
        max_digits=20,
        decimal_places=10,
        validators=[MinValueValidator(Decimal("0.0000000001"))],
        help_text="Value of 1 unit of the currency in the reporting currency (e.g. 0.012 for INR → USD).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ExchangeRateQuerySet.as_manager()

    class Meta:
        ordering = ["-month", "currency"]
        constraints = [
            models.UniqueConstraint(
                fields=["currency", "month"],
                name="exchange_rate_currency_month_unique",
                violation_error_message="This currency already has a rate for this month.",
            ),
            models.CheckConstraint(
                condition=Q(rate__gt=0), name="exchange_rate_positive", violation_error_message="A rate is above 0."
            ),
            models.CheckConstraint(
                condition=Q(month__day=1),
                name="exchange_rate_month_first_day",
                violation_error_message="The month is given by its first day.",
            ),
        ]

    def __str__(self):
        return f"1 {self.currency} = {self.rate.normalize():f} {settings.REPORTING_CURRENCY} ({self.month:%Y-%m})"

    def clean(self):
        super().clean()
        errors = {}
        if self.month and self.month.day != 1:
            errors["month"] = f"Give the month by its first day ({self.month:%Y-%m}-01)."
        if self.rate is not None and self.rate <= 0:
            errors["rate"] = "A rate is above 0."
        if self.currency and self.currency == settings.REPORTING_CURRENCY:
            errors["currency"] = (
                f"{self.currency} is the reporting currency: it needs no rate (1 {self.currency} is 1 {self.currency})."
            )
        if errors:
            raise ValidationError(errors)
