"""Governance records (DESIGN.md "Governance"). Each hangs off one contract: a ``contract`` foreign key or
property, which is how the role policy finds whose it is."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.lookups import Exact
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from common.validators import LONG_TEXT_MAX_LENGTH, PLAUSIBLE_DATE, capped_text
from kpis.choices import BreachStatus

from .choices import (
    CLOSED_STATUSES,
    PENDING_STATUSES,
    ActionStatus,
    OwnerSide,
    RaciAssignment,
    StaffFigureSource,
)


class CorrectiveActionQuerySet(models.QuerySet):
    def for_list(self):
        return self.select_related("contract__vendor", "contract__owner", "done_by", "verified_by")

    def pending(self):
        return self.filter(status__in=PENDING_STATUSES)

    def overdue(self, today=None):
        """Still to be carried out (open or in progress) and past their due date."""
        today = today or timezone.localdate()
        return self.pending().filter(due_on__lt=today)

    def with_effectiveness(self):
        """Annotate ``ineffective``: a verified action whose SLA was breached again (any breach that still
        holds, i.e. not withdrawn) in a period starting after the verification and within the watch
        window (``watch_until``: the end of the third period of the action's SLAs after verification).
        One EXISTS subquery, whatever the number of actions."""
        repeat = (
            _breach_model()
            .objects.filter(
                sla__breaches__corrective_actions=OuterRef("pk"),
                period_start__gt=OuterRef("verified_on"),
                period_start__lte=OuterRef("watch_until"),
            )
            .exclude(status=BreachStatus.WITHDRAWN)
        )
        return self.annotate(
            ineffective=models.Case(
                models.When(Q(status=ActionStatus.VERIFIED) & Exists(repeat), then=models.Value(True)),
                default=models.Value(False),
                output_field=models.BooleanField(),
            )
        )


def _breach_model():
    from kpis.models import Breach

    return Breach


class CorrectiveAction(models.Model):
    contract = models.ForeignKey("contracts.Contract", on_delete=models.CASCADE, related_name="corrective_actions")
    breaches = models.ManyToManyField("kpis.Breach", related_name="corrective_actions", blank=True)
    title = models.CharField(max_length=200)
    root_cause = models.TextField(blank=True, **capped_text(LONG_TEXT_MAX_LENGTH))
    action = models.TextField("Action", **capped_text(LONG_TEXT_MAX_LENGTH))
    owner_side = models.CharField("Owner side", max_length=10, choices=OwnerSide, default=OwnerSide.VENDOR)
    owner_name = models.CharField("Owner", max_length=200)
    due_on = models.DateField(validators=PLAUSIBLE_DATE)
    status = models.CharField(max_length=20, choices=ActionStatus, default=ActionStatus.OPEN)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    opened_on = models.DateField(default=timezone.localdate)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    done_on = models.DateField(null=True, blank=True)
    # The vendor marks its own actions done through its API key: no person of ours did, so the key is named.
    done_by_key = models.CharField(
        "Marked done through", max_length=200, blank=True, editable=False, help_text="The vendor's API key."
    )
    progress_notes = models.TextField(
        "Progress notes",
        blank=True,
        help_text="Where the work stands: updated by the client or by the vendor (through its API key).",
        **capped_text(LONG_TEXT_MAX_LENGTH),
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    verified_on = models.DateField(null=True, blank=True)
    # Set on verification: the last day of the window in which a repeat breach of the same SLA makes the
    # action ineffective (the end of the third period after ``verified_on``).
    watch_until = models.DateField(null=True, blank=True, editable=False)
    closed_on = models.DateField(null=True, blank=True, editable=False, help_text="Done, verified or cancelled.")
    updated_at = models.DateTimeField(auto_now=True)

    # Reasons name who changed what (a vendor's key and several edits): longer than simple-history's 100.
    history = HistoricalRecords(history_change_reason_field=models.TextField(null=True))
    objects = CorrectiveActionQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = "corrective action"
        indexes = [
            models.Index(fields=["status", "due_on"], name="action_status_due_idx"),
            models.Index(fields=["contract", "status"], name="action_contract_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status__in=[ActionStatus.DONE, ActionStatus.VERIFIED])
                | (Q(done_on__isnull=False) & (Q(done_by__isnull=False) | ~Q(done_by_key=""))),
                name="action_done_has_who_and_when",
                violation_error_message="A done or verified action records who marked it done, and when.",
            ),
            models.CheckConstraint(
                condition=~Q(status=ActionStatus.VERIFIED)
                | (Q(verified_by__isnull=False, verified_on__isnull=False) & ~Q(verified_by=F("done_by"))),
                name="action_verified_by_someone_else",
                violation_error_message="An action is verified by someone other than the person who marked it done.",
            ),
        ]

    def __str__(self):
        return f"CA-{self.pk}: {self.title}" if self.pk else self.title

    def get_absolute_url(self):
        return reverse("governance:action_detail", args=[self.pk])

    @property
    def is_overdue(self):
        return self.status in PENDING_STATUSES and self.due_on is not None and self.due_on < timezone.localdate()

    @property
    def is_closed(self):
        return self.status in CLOSED_STATUSES

    @property
    def done_by_name(self):
        """Who marked it done: the person, or the vendor's key."""
        if self.done_by_id:
            return self.done_by.get_full_name() or self.done_by.username
        return self.done_by_key


class RaciEntryQuerySet(models.QuerySet):
    pass


class RaciEntry(models.Model):
    """One cell of a contract's RACI chart: ``party`` (a role on the client or vendor side) is R, A, C or I
    for ``activity``. An empty cell is no row. Exactly one A per contract and activity."""

    contract = models.ForeignKey("contracts.Contract", on_delete=models.CASCADE, related_name="raci_entries")
    activity = models.CharField(max_length=150)
    activity_order = models.PositiveSmallIntegerField(default=0)
    side = models.CharField(max_length=10, choices=OwnerSide)
    party = models.CharField(max_length=100, help_text="A role on the client or vendor side.")
    party_order = models.PositiveSmallIntegerField(default=0)
    assignment = models.CharField(max_length=1, choices=RaciAssignment)

    objects = RaciEntryQuerySet.as_manager()

    class Meta:
        ordering = ["contract", "activity_order", "party_order"]
        verbose_name = "RACI entry"
        verbose_name_plural = "RACI entries"
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "activity", "side", "party"],
                name="raci_one_cell_per_activity_party",
                violation_error_message="This party already has an assignment for this activity.",
            ),
            models.UniqueConstraint(
                fields=["contract", "activity"],
                condition=Q(assignment=RaciAssignment.ACCOUNTABLE),
                name="raci_one_accountable_per_activity",
                violation_error_message="Exactly one party is accountable (A) for an activity.",
            ),
        ]

    def __str__(self):
        return f"{self.contract.reference}: {self.activity} — {self.get_side_display()} {self.party}: {self.assignment}"


class StaffMeasurementQuerySet(models.QuerySet):
    def for_contract(self, contract):
        return self.filter(staff_member__contract=contract)


class StaffMeasurement(models.Model):
    """An individual figure: one staff member's value of a KPI for one period (the contract SLA's periods)."""

    contract_path = "staff_member__contract"  # the access policy's way to the contract it hangs off

    staff_member = models.ForeignKey(
        "contracts.StaffMember", on_delete=models.CASCADE, related_name="measurements", db_index=False
    )
    kpi = models.ForeignKey("kpis.KPI", on_delete=models.PROTECT, related_name="staff_measurements", verbose_name="KPI")
    period_start = models.DateField(validators=PLAUSIBLE_DATE)
    period_end = models.DateField(validators=PLAUSIBLE_DATE)
    value = models.DecimalField(max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    source = models.CharField(max_length=10, choices=StaffFigureSource, default=StaffFigureSource.MANUAL)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()
    objects = StaffMeasurementQuerySet.as_manager()

    class Meta:
        ordering = ["-period_start", "staff_member"]
        verbose_name = "individual figure"
        indexes = [models.Index(fields=["kpi", "period_start"], name="staff_figure_kpi_period_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["staff_member", "kpi", "period_start"],
                name="staff_figure_member_kpi_period_unique",
                violation_error_message="A figure for this staff member, KPI and period has already been recorded.",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")),
                name="staff_figure_period_end_after_start",
                violation_error_message="The period cannot end before it starts.",
            ),
            models.CheckConstraint(
                condition=Q(value__gte=0),
                name="staff_figure_value_non_negative",
                violation_error_message="A KPI figure cannot be negative.",
            ),
        ]

    def __str__(self):
        return f"{self.staff_member.full_name} — {self.kpi.name} {self.period_start:%Y-%m-%d}: {self.value}"

    @property
    def contract(self):
        return self.staff_member.contract


class ScorecardPolicyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)


PERCENT = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


class ScorecardPolicy(models.Model):
    """The vendor scorecard's weights and bands, kept by admins. One row is active (a partial unique
    index); without one the defaults apply (compliance 60, reporting 15, replacements 15, retention 10)."""

    name = models.CharField(max_length=100, default="Standard")
    active = models.BooleanField(default=True)
    compliance_weight = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("60"), validators=PERCENT)
    reporting_weight = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("15"), validators=PERCENT)
    replacements_weight = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("15"), validators=PERCENT)
    retention_weight = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("10"), validators=PERCENT)
    strategic_from = models.DecimalField(
        "Strategic from (score ≥)", max_digits=5, decimal_places=2, default=Decimal("90"), validators=PERCENT
    )
    performing_from = models.DecimalField(
        "Performing from (score ≥)", max_digits=5, decimal_places=2, default=Decimal("75"), validators=PERCENT
    )
    watch_from = models.DecimalField(
        "Watch from (score ≥)", max_digits=5, decimal_places=2, default=Decimal("60"), validators=PERCENT
    )
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()
    objects = ScorecardPolicyQuerySet.as_manager()

    WEIGHT_FIELDS = ("compliance_weight", "reporting_weight", "replacements_weight", "retention_weight")

    class Meta:
        verbose_name = "scorecard policy"
        verbose_name_plural = "scorecard policies"
        constraints = [
            models.UniqueConstraint(
                fields=["active"],
                condition=Q(active=True),
                name="scorecard_policy_one_active",
                violation_error_message="Only one scorecard policy can be active: deactivate the other one first.",
            ),
            models.CheckConstraint(
                condition=Q(
                    compliance_weight__gte=0,
                    reporting_weight__gte=0,
                    replacements_weight__gte=0,
                    retention_weight__gte=0,
                ),
                name="scorecard_policy_weights_non_negative",
                violation_error_message="Weights cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Exact(
                    F("compliance_weight") + F("reporting_weight") + F("replacements_weight") + F("retention_weight"),
                    Decimal("100"),
                ),
                name="scorecard_policy_weights_sum_100",
                violation_error_message="The four weights must add up to 100.",
            ),
            models.CheckConstraint(
                condition=Q(strategic_from__gt=F("performing_from"), performing_from__gt=F("watch_from")),
                name="scorecard_policy_bands_descending",
                violation_error_message="Bands go down: Strategic above Performing above Watch.",
            ),
        ]

    def __str__(self):
        return f"{self.name}{' (active)' if self.active else ''}"

    def clean(self):
        super().clean()
        weights = [getattr(self, name) for name in self.WEIGHT_FIELDS]
        if all(w is not None for w in weights) and sum(weights) != 100:
            raise ValidationError(
                {"retention_weight": f"The four weights must add up to 100 (they add up to {sum(weights):g})."}
            )
        if None not in (self.strategic_from, self.performing_from, self.watch_from) and not (
            self.strategic_from > self.performing_from > self.watch_from
        ):
            raise ValidationError({"performing_from": "Bands go down: Strategic above Performing above Watch."})
