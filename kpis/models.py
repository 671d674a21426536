import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from common.policy import RestrictQuerySet
from common.validators import (
    LONG_TEXT_MAX_LENGTH,
    PLAUSIBLE_DATE,
    SHORT_TEXT_MAX_LENGTH,
    capped_text,
    plausible_date_constraint,
    plausible_date_error,
    text_length_constraint,
)
from contracts.choices import ServiceType

from . import periods
from .choices import (
    OPEN_STATUSES,
    BreachKind,
    BreachStatus,
    Direction,
    Frequency,
    MeasurementSource,
    Severity,
    Unit,
)

PERCENT_VALIDATORS = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


class KPI(models.Model):
    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    unit = models.CharField(max_length=10, choices=Unit)
    direction = models.CharField(max_length=20, choices=Direction)
    description = models.TextField(blank=True, **capped_text(LONG_TEXT_MAX_LENGTH))
    service_types = models.JSONField(
        default=list, blank=True, help_text=f"Service types it suits: {', '.join(ServiceType.values)}."
    )
    is_computed = models.BooleanField(default=False, help_text="Computed by the app from staffing data, not reported.")

    class Meta:
        ordering = ["name"]
        verbose_name = "KPI"
        verbose_name_plural = "KPI catalogue"
        constraints = [text_length_constraint("kpi_description_length", "description", LONG_TEXT_MAX_LENGTH)]

    def __str__(self):
        return f"{self.name} ({self.get_unit_display()})"

    def clean(self):
        super().clean()
        unknown = set(self.service_types or []) - set(ServiceType.values)
        if unknown:
            raise ValidationError({"service_types": f"Unknown service types: {', '.join(sorted(unknown))}."})

    @property
    def higher_is_better(self):
        return self.direction == Direction.HIGHER_IS_BETTER


class SLAQuerySet(RestrictQuerySet):
    def active(self):
        return self.filter(active=True)

    def contract_ids(self, sla_ids):
        """The set of ids of the contracts the SLAs ``sla_ids`` belong to (no query for no SLA)."""
        return set(self.filter(pk__in=set(sla_ids)).values_list("contract_id", flat=True))

    def with_latest(self):
        """Annotate the latest figure: ``latest_value``, ``latest_period_start`` and ``latest_outcome``
        (``met`` / ``minor`` / ``major``, rule 1; None when nothing was reported)."""
        latest = Measurement.objects.filter(sla=models.OuterRef("pk")).order_by("-period_start")
        qs = self.annotate(
            latest_value=models.Subquery(
                latest.values("value")[:1], output_field=models.DecimalField(max_digits=14, decimal_places=2)
            ),
            latest_period_start=models.Subquery(latest.values("period_start")[:1]),
        )
        return qs.annotate(
            latest_outcome=models.Case(
                models.When(latest_value__isnull=True, then=models.Value(None)),
                default=rule_1_outcome("latest_value", "expected", "minimum", "kpi__direction"),
                output_field=models.CharField(),
            )
        )

    def at_risk(self):
        """Active SLAs whose latest figure missed the expected level (needs ``with_latest``)."""
        return self.active().filter(latest_outcome__in=[Severity.MINOR.value, Severity.MAJOR.value])


class SLA(models.Model):
    contract = models.ForeignKey("contracts.Contract", on_delete=models.CASCADE, related_name="slas")
    kpi = models.ForeignKey(KPI, on_delete=models.PROTECT, related_name="slas", verbose_name="KPI")
    expected = models.DecimalField(max_digits=14, decimal_places=2, help_text="The agreed service level.")
    minimum = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        help_text="The floor: worse than this is a major breach. Equal to expected when there is one level.",
    )
    frequency = models.CharField(max_length=10, choices=Frequency, default=Frequency.MONTHLY)
    credit_allocation_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=PERCENT_VALIDATORS,
        help_text="Share of the contract's at-risk amount this SLA carries (0–100).",
    )
    effective_from = models.DateField(validators=PLAUSIBLE_DATE)
    effective_to = models.DateField(null=True, blank=True, validators=PLAUSIBLE_DATE)
    active = models.BooleanField(default=True)

    history = HistoricalRecords()
    objects = SLAQuerySet.as_manager()

    class Meta:
        ordering = ["contract", "kpi__name"]
        verbose_name = "SLA"
        verbose_name_plural = "SLAs"
        indexes = [
            models.Index(fields=["active", "frequency"], name="sla_active_frequency_idx"),
            # The engine's calendar starts at each frequency's earliest SLA: one index probe per frequency.
            models.Index(fields=["frequency", "effective_from"], name="sla_frequency_from_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "kpi", "effective_from"],
                name="sla_contract_kpi_from_unique",
                violation_error_message="This contract already has an SLA for this KPI starting on that date.",
            ),
            models.CheckConstraint(
                condition=Q(credit_allocation_percent__gte=0, credit_allocation_percent__lte=100),
                name="sla_credit_allocation_range",
                violation_error_message="The credit allocation must be between 0 and 100 %.",
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                name="sla_effective_to_after_from",
                violation_error_message="The SLA cannot end before it takes effect.",
            ),
            plausible_date_constraint(
                "sla_dates_plausible", "effective_from", "effective_to", nullable=("effective_to",)
            ),
        ]

    def __str__(self):
        return f"{self.contract.reference}: {self.kpi.name}"

    def get_absolute_url(self):
        return reverse("contracts:sla_detail", args=[self.pk])

    def clean(self):
        super().clean()
        errors = {}
        kpi = self.kpi if self.kpi_id else None
        if kpi and self.expected is not None and self.minimum is not None:
            if kpi.higher_is_better and self.minimum > self.expected:
                errors["minimum"] = (
                    f"For {kpi.name} higher is better, so the minimum ({self.minimum}) "
                    f"cannot be above the expected level ({self.expected})."
                )
            if not kpi.higher_is_better and self.minimum < self.expected:
                errors["minimum"] = (
                    f"For {kpi.name} lower is better, so the minimum ({self.minimum}) "
                    f"cannot be below the expected level ({self.expected})."
                )
        if kpi and kpi.unit == Unit.PERCENT:
            for field in ("expected", "minimum"):
                value = getattr(self, field)
                if value is not None and not (0 <= value <= 100) and field not in errors:
                    errors[field] = f"{kpi.name} is a percentage: give a value between 0 and 100."
        if self.effective_to and self.effective_from and self.effective_to < self.effective_from:
            errors["effective_to"] = "The SLA cannot end before it takes effect."
        if errors:
            raise ValidationError(errors)

    # Rule 1, for one value. The set-based engine in kpis/breaches.py applies the same rule in SQL.
    def evaluate(self, value):
        """None when ``value`` meets the SLA, else the breach severity (``minor`` / ``major``)."""
        better_or_equal = (lambda a, b: a >= b) if self.kpi.higher_is_better else (lambda a, b: a <= b)
        if better_or_equal(value, self.expected):
            return None
        if better_or_equal(value, self.minimum):
            return Severity.MINOR
        return Severity.MAJOR


def _better_or_equal(value, threshold, direction):
    """Q: ``value`` is at least as good as ``threshold`` given the KPI ``direction`` (field paths)."""
    return Q(**{direction: Direction.HIGHER_IS_BETTER, f"{value}__gte": F(threshold)}) | Q(
        **{direction: Direction.LOWER_IS_BETTER, f"{value}__lte": F(threshold)}
    )


def rule_1_outcome(value, expected, minimum, direction):
    """Rule 1 as one SQL expression: ``met``, ``minor`` or ``major`` (arguments are field paths).

    The ORM twin of ``SLA.evaluate``; ``common.sql.better_or_equal`` is the raw-SQL one.
    """
    return models.Case(
        models.When(_better_or_equal(value, expected, direction), then=models.Value("met")),
        models.When(_better_or_equal(value, minimum, direction), then=models.Value(Severity.MINOR.value)),
        default=models.Value(Severity.MAJOR.value),
        output_field=models.CharField(),
    )


class MeasurementQuerySet(RestrictQuerySet):
    def with_outcome(self):
        """Annotate ``outcome`` (rule 1): ``met``, ``minor`` or ``major``, and ``met`` as a boolean.

        Rule 1 in the ORM (``rule_1_outcome``) for pages and reports; the breach engine uses its raw-SQL
        twin, ``common.sql.better_or_equal``.
        """
        met = _better_or_equal("value", "sla__expected", "sla__kpi__direction")
        return self.annotate(
            outcome=rule_1_outcome("value", "sla__expected", "sla__minimum", "sla__kpi__direction"),
            met=models.Case(
                models.When(met, then=models.Value(True)),
                default=models.Value(False),
                output_field=models.BooleanField(),
            ),
        )

    def compliance_by_month(self):
        """Rows of ``month`` (first day), ``total`` and ``met`` per calendar month of ``period_end``."""
        from django.db.models.functions import TruncMonth

        return (
            self.with_outcome()
            .annotate(month=TruncMonth("period_end"))
            .order_by()
            .values("month")
            .annotate(total=models.Count("pk"), met_total=models.Count("pk", filter=Q(met=True)))
            .order_by("month")
        )

    def recent_compliance_by_month(self, today, months=12):
        """``compliance_by_month()`` rows of the figures whose period ended in the last ``months`` calendar
        months up to ``today`` (the compliance bars of the vendor page and the dashboard)."""
        since = periods.month_window_start(today, months)
        return list(self.filter(period_end__gte=since, period_end__lte=today).compliance_by_month())


class Measurement(models.Model):
    # No separate index: the unique (sla, period_start) constraint leads with sla.
    sla = models.ForeignKey(
        SLA, on_delete=models.CASCADE, related_name="measurements", verbose_name="SLA", db_index=False
    )
    period_start = models.DateField(validators=PLAUSIBLE_DATE)
    period_end = models.DateField(validators=PLAUSIBLE_DATE)
    value = models.DecimalField(max_digits=14, decimal_places=2)
    source = models.CharField(max_length=10, choices=MeasurementSource, default=MeasurementSource.MANUAL)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    note = models.TextField(blank=True, **capped_text(SHORT_TEXT_MAX_LENGTH))

    history = HistoricalRecords()
    objects = MeasurementQuerySet.as_manager()
    contract_path = "sla__contract"  # the contract it hangs off (access policy, querysets)

    class Meta:
        ordering = ["-period_start"]
        indexes = [
            # (period_start, id): also the changelist's order (-period_start, -pk), where 100,000
            # figures share the latest period.
            models.Index(fields=["period_start", "id"], name="measurement_period_start_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["sla", "period_start"],
                name="measurement_sla_period_unique",
                violation_error_message="A figure for this SLA and period has already been recorded.",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")),
                name="measurement_period_end_after_start",
                violation_error_message="The period cannot end before it starts.",
            ),
            models.CheckConstraint(
                condition=Q(value__gte=0),
                name="measurement_value_non_negative",
                violation_error_message="A KPI figure cannot be negative.",
            ),
            plausible_date_constraint("measurement_period_plausible", "period_start", "period_end"),
            text_length_constraint("measurement_note_length", "note", SHORT_TEXT_MAX_LENGTH),
        ]

    def __str__(self):
        return f"{self.sla} — {self.period_label}: {self.value}"

    @property
    def contract(self):
        return self.sla.contract

    @property
    def period_label(self):
        return periods.describe_period(self.sla.frequency, self.period_start)

    def _fill_period_end(self):
        # An implausible start (year 9999) is left to the field's validator: its period's end may not exist.
        if (
            self.period_start
            and self.period_end is None
            and self.sla_id
            and not plausible_date_error(self.period_start)
        ):
            self.period_end = periods.period_end(self.sla.frequency, self.period_start)

    def clean_fields(self, exclude=None):
        self._fill_period_end()
        super().clean_fields(exclude=exclude)

    def clean(self):
        super().clean()
        if not self.sla_id or not self.period_start or plausible_date_error(self.period_start):
            return  # the field's own validator has said what is wrong with the date
        sla = self.sla
        start, end = periods.period_bounds(sla.frequency, self.period_start)
        label = sla.get_frequency_display().lower()
        if start != self.period_start:
            raise ValidationError(
                {
                    "period_start": f"This SLA is reported {label}: the period starts on "
                    f"{start:%Y-%m-%d} ({periods.describe_period(sla.frequency, start)}), "
                    f"not {self.period_start:%Y-%m-%d}."
                }
            )
        if self.period_end != end:
            raise ValidationError({"period_end": f"A {label} period starting {start:%Y-%m-%d} ends on {end:%Y-%m-%d}."})
        if self.value is not None:
            if self.value < 0:
                raise ValidationError({"value": "A KPI figure cannot be negative."})
            if sla.kpi.unit == Unit.PERCENT and self.value > 100:
                raise ValidationError({"value": f"{sla.kpi.name} is a percentage: give a value between 0 and 100."})

    def save(self, *args, **kwargs):
        self._fill_period_end()
        super().save(*args, **kwargs)


class BreachQuerySet(RestrictQuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def major_first(self):
        return self.order_by(models.Case(models.When(severity=Severity.MAJOR, then=0), default=1), "-period_end", "-pk")

    def major_first_top(self, limit):
        """``for_list().major_first()[:limit]`` as a list, read in two index-friendly queries (majors, newest
        first, then the others) instead of one sort of every row by a CASE expression."""
        newest = ("-period_end", "-pk")
        others = [value for value in Severity.values if value != Severity.MAJOR]
        majors = list(self.filter(severity=Severity.MAJOR).for_list().order_by(*newest)[:limit])
        rest = list(self.filter(severity__in=others).for_list().order_by(*newest)[:limit])
        return (majors + rest)[:limit]

    def detected_between(self, start, end):
        """Detected on a day from ``start`` to ``end`` in the current time zone: a range of ``detected_at``
        (``breach_detected_at_idx`` serves it; ``detected_at__date`` would compute a date for every row)."""
        zone = timezone.get_current_timezone()
        day_after = end + datetime.timedelta(days=1)
        return self.filter(
            detected_at__gte=datetime.datetime.combine(start, datetime.time.min, tzinfo=zone),
            detected_at__lt=datetime.datetime.combine(day_after, datetime.time.min, tzinfo=zone),
        )

    def for_list(self):
        return self.select_related("contract__vendor", "contract__owner", "sla__kpi")

    def credit_by_month(self):
        """``(currency, month, service credit)`` per contract currency and month of ``period_end``: one
        aggregate query, the rows ``contracts.exchange.money_total`` converts (rule 2, "Currencies")."""
        from django.db.models import Sum
        from django.db.models.functions import TruncMonth

        return (
            self.order_by()
            .annotate(credit_month=TruncMonth("period_end"))
            .values_list("contract__currency", "credit_month")
            .annotate(amount=Sum("service_credit"))
            .filter(amount__gt=0)
        )


class Breach(models.Model):
    kind = models.CharField(max_length=20, choices=BreachKind)
    severity = models.CharField(max_length=10, choices=Severity)
    # contract and sla get no index of their own: (contract, period_end) and the unique
    # (sla, period_start, kind) lead with them, and every index slows the engine's bulk writes.
    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.CASCADE, related_name="breaches", db_index=False
    )
    sla = models.ForeignKey(
        SLA,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="breaches",
        verbose_name="SLA",
        db_index=False,
    )
    # No database foreign key: the engine derives measurement from (sla, period_start) on every run,
    # and the key's check at commit locked every breached figure (FOR KEY SHARE): 7 s of a first run
    # over 2.4 M figures. Deleting a figure through Django still sets this to NULL.
    measurement = models.OneToOneField(
        Measurement, on_delete=models.SET_NULL, null=True, blank=True, related_name="breach", db_constraint=False
    )
    obligation = models.OneToOneField(
        "contracts.ReplacementObligation", on_delete=models.CASCADE, null=True, blank=True, related_name="breach"
    )
    period_start = models.DateField()
    period_end = models.DateField()
    expected = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    minimum = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    actual = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    service_credit = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    credit_earned_back = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    detected_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    status = models.CharField(max_length=20, choices=BreachStatus, default=BreachStatus.OPEN)
    # The status a person last gave a breach the engine withdrew: it comes back with it if it holds again.
    status_before_withdrawal = models.CharField(max_length=20, choices=BreachStatus, blank=True)
    notes = models.TextField(blank=True, **capped_text(LONG_TEXT_MAX_LENGTH))

    # The engine writes history rows set-based (kpis.history); only the ids and dates are indexed there.
    history = HistoricalRecords(no_db_index=["contract", "sla", "measurement", "obligation"])
    objects = BreachQuerySet.as_manager()

    class Meta:
        ordering = ["-detected_at", "-pk"]
        verbose_name_plural = "breaches"
        indexes = [
            models.Index(fields=["status", "severity"], name="breach_status_severity_idx"),
            # (detected_at, id): the changelist's order; a first run gives every breach the same time.
            models.Index(fields=["detected_at", "id"], name="breach_detected_at_idx"),
            # The dashboard's open breaches, major first, newest first: an index scan, not a sort.
            models.Index(
                fields=["severity", "period_end", "id"],
                condition=Q(status__in=OPEN_STATUSES),
                name="breach_open_by_severity_idx",
            ),
            # A contract's breaches by period; severity too, so a figure check reads the major breaches
            # around its figures (the only ones that share the credit cap) without visiting the others.
            models.Index(fields=["contract", "period_end", "severity"], name="breach_contract_period_idx"),
            # Overdue replacements still open (the weekly digest lists them for each batch of managers): few
            # rows among millions, which would otherwise take a scan of the whole table.
            models.Index(
                fields=["contract"],
                condition=Q(kind=BreachKind.REPLACEMENT, status__in=OPEN_STATUSES),
                name="breach_open_replacement_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["sla", "period_start", "kind"],
                name="breach_sla_period_kind_unique",
                violation_error_message="This SLA already has a breach of this kind for this period.",
            ),
            models.CheckConstraint(
                condition=Q(service_credit__gte=0, credit_earned_back__gte=0),
                name="breach_credit_non_negative",
                violation_error_message="Service credits cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(kind=BreachKind.REPLACEMENT, obligation__isnull=False)
                | (~Q(kind=BreachKind.REPLACEMENT) & Q(sla__isnull=False)),
                name="breach_kind_has_subject",
                violation_error_message="A replacement breach needs its obligation; any other breach needs its SLA.",
            ),
            models.CheckConstraint(
                condition=Q(status=BreachStatus.WITHDRAWN) | Q(status_before_withdrawal=""),
                name="breach_status_before_withdrawal_only_when_withdrawn",
                violation_error_message="Only a withdrawn breach remembers the status it had before.",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")),
                name="breach_period_end_after_start",
                violation_error_message="The period cannot end before it starts.",
            ),
        ]

    def __str__(self):
        subject = self.sla.kpi.name if self.sla_id else "replacement"
        return f"{self.get_severity_display()} {self.get_kind_display().lower()} — {self.contract.reference} {subject}"

    def get_absolute_url(self):
        return reverse("kpis:breach_detail", args=[self.pk])

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES

    def save_workflow(self):
        """Save what a person owns (status and notes, rule 5), deciding from the row as it is now: the engine
        may have withdrawn the breach, or brought it back, since the page was read. A status chosen for a
        breach that was withdrawn meanwhile is the one it comes back with if it holds again; a withdrawn
        breach's status (which nobody can change) is not written back over one the engine restored."""
        with transaction.atomic():
            current = Breach.objects.select_for_update().values_list("status", flat=True).get(pk=self.pk)
            if self.status == BreachStatus.WITHDRAWN:
                self.save(update_fields=["notes", "updated_at"])
                return
            if current == BreachStatus.WITHDRAWN:
                self.status_before_withdrawal, self.status = self.status, BreachStatus.WITHDRAWN
            self.save(update_fields=["status", "status_before_withdrawal", "notes", "updated_at"])


class DigestDelivery(models.Model):
    """One row per recipient and ISO week: claimed before sending so a digest never goes out twice.
    Born ``pending`` (planned, never tried); ``sending`` once a worker has claimed it; then ``sent`` or
    ``failed`` (tried again by the next run)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_deliveries")
    week = models.CharField(max_length=8, help_text="ISO week, e.g. 2026-W47.")
    all_vendors = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    subject = models.CharField(max_length=255, blank=True)
    breach_count = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-week", "recipient"]
        verbose_name_plural = "digest deliveries"
        constraints = [
            models.UniqueConstraint(fields=["recipient", "week"], name="digest_delivery_recipient_week_unique"),
        ]

    def __str__(self):
        return f"{self.week} → {self.recipient}"


class PendingCheck(models.Model):
    """A breach check owed because something that decides what is owed changed (rule 5), written in the
    same transaction as the change (an outbox): the worker runs it within seconds (``kpis.pending``)
    and the every-minute sweep runs whatever a lost message left, so a save never depends on the broker.

    ``figure``: the SLA period ``(sla_id, period_start)`` and the contract-months it bears on;
    ``contract``: every period of the contract's SLAs (fee, dates, SLAs, a waiver changed);
    ``staffing``: rule 4 for the contract (a departure or a replacement recorded).
    No foreign keys: a check for something deleted since finds nothing to do.
    """

    class Kind(models.TextChoices):
        FIGURE = "figure", "Figure"
        CONTRACT = "contract", "Contract"
        STAFFING = "staffing", "Staffing"

    kind = models.CharField(max_length=10, choices=Kind)
    contract_id = models.BigIntegerField(null=True, blank=True)
    sla_id = models.BigIntegerField(null=True, blank=True)
    period_start = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="figure", sla_id__isnull=False, period_start__isnull=False)
                | (~Q(kind="figure") & Q(contract_id__isnull=False)),
                name="pending_check_has_subject",
            ),
        ]

    def __str__(self):
        subject = f"SLA {self.sla_id} {self.period_start}" if self.kind == "figure" else f"contract {self.contract_id}"
        return f"{self.get_kind_display()} check of {subject}"
