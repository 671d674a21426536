from django.db import models
from django.urls import reverse
from django_countries.fields import CountryField

from common.fields import HttpsURLField, TimeZoneField
from common.queries import subquery_count
from common.validators import LONG_TEXT_MAX_LENGTH, capped_text, text_length_constraint
from kpis.periods import month_window_start

from .choices import RiskTier, VendorStatus


class Certification(models.Model):
    """A security / compliance certification a vendor may hold (ISO 27001, SOC 2, ...)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class VendorQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=VendorStatus.ACTIVE)

    def with_counts(self):
        """``contract_count``, ``active_contract_count`` and ``center_count`` (one query, subqueries)."""
        from contracts.models import Contract

        return self.annotate(
            contract_count=subquery_count(Contract.objects.all(), "vendor"),
            active_contract_count=subquery_count(Contract.objects.active(), "vendor"),
            center_count=subquery_count(DeliveryCenter.objects.all(), "vendor"),
        )

    def with_headcount(self, today=None, months=12):
        """``headcount`` (active staff today), ``contracted_headcount`` (active, current contracts),
        ``departures`` in the last ``months`` calendar months up to today and ``attrition_percent``
        (departures ÷ headcount × 100): the staffing columns of ``with_scorecard``, alone (correlated
        subqueries: cheap for a page of vendors, whatever the size of the roster table)."""
        from django.db.models import ExpressionWrapper, FloatField, OuterRef, Subquery, Sum
        from django.db.models.functions import Cast, Coalesce, NullIf
        from django.utils import timezone

        from contracts.models import Contract, StaffMember

        today = today or timezone.localdate()
        since = month_window_start(today, months)
        contracted = (
            Contract.objects.active()
            .current(today)
            .filter(vendor=OuterRef("pk"))
            .order_by()
            .values("vendor")
            .annotate(total=Sum("contracted_headcount"))
            .values("total")[:1]
        )
        return self.annotate(
            headcount=subquery_count(StaffMember.objects.active_on(today), "contract__vendor"),
            contracted_headcount=Coalesce(Subquery(contracted, output_field=models.IntegerField()), 0),
            departures=subquery_count(
                StaffMember.objects.filter(left_on__gte=since, left_on__lte=today), "contract__vendor"
            ),
        ).annotate(
            attrition_percent=ExpressionWrapper(
                Cast("departures", FloatField()) * 100.0 / NullIf(Cast("headcount", FloatField()), 0.0),
                output_field=FloatField(),
            ),
        )

    def with_scorecard(self, today=None, months=12):
        """The vendor scorecard over the last ``months`` calendar months, as annotations.

        ``measurement_count``, ``met_count``, ``compliance_percent`` (met ÷ measured × 100),
        ``breach_count``, ``major_breach_count``, ``open_breach_count``,
        ``overdue_replacements``, ``headcount`` (active staff today), ``contracted_headcount``
        (active contracts), ``departures`` and ``attrition_percent`` (departures in the window ÷
        headcount today × 100). Every figure is a correlated subquery: one query for any number
        of vendors, no row multiplication between the joins.
        """

        from django.db.models import ExpressionWrapper, FloatField
        from django.db.models.functions import Cast, NullIf
        from django.utils import timezone

        from contracts.models import ReplacementObligation
        from kpis.models import Breach, Measurement

        today = today or timezone.localdate()
        since = month_window_start(today, months)
        measured = Measurement.objects.filter(period_end__gte=since, period_end__lte=today).with_outcome()
        breaches = scorecard_breaches(since)
        qs = self.with_headcount(today, months).annotate(
            measurement_count=subquery_count(measured, "sla__contract__vendor"),
            met_count=subquery_count(measured.filter(met=True), "sla__contract__vendor"),
            breach_count=subquery_count(breaches, "contract__vendor"),
            major_breach_count=subquery_count(breaches.filter(severity="major"), "contract__vendor"),
            open_breach_count=subquery_count(Breach.objects.open(), "contract__vendor"),
            overdue_replacements=subquery_count(
                ReplacementObligation.objects.overdue(today), "departed__contract__vendor"
            ),
        )
        return qs.annotate(
            compliance_percent=ExpressionWrapper(
                Cast("met_count", FloatField()) * 100.0 / NullIf(Cast("measurement_count", FloatField()), 0.0),
                output_field=FloatField(),
            ),
        )


def scorecard_breaches(since):
    """The breaches a vendor scorecard counts: period ending since ``since``, not withdrawn."""
    from kpis.models import Breach

    return Breach.objects.filter(period_end__gte=since).exclude(status="withdrawn")


class Vendor(models.Model):
    name = models.CharField(max_length=200)
    country = CountryField(help_text="Country of the vendor's headquarters.")
    website = HttpsURLField(blank=True)
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(blank=True)
    status = models.CharField(max_length=20, choices=VendorStatus, default=VendorStatus.ACTIVE)
    risk_tier = models.CharField(max_length=20, choices=RiskTier, default=RiskTier.MEDIUM)
    certifications = models.ManyToManyField(Certification, blank=True, related_name="vendors")
    notes = models.TextField(blank=True, **capped_text(LONG_TEXT_MAX_LENGTH))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = VendorQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["status"], name="vendor_status_idx"),
            models.Index(fields=["country"], name="vendor_country_idx"),
            models.Index(fields=["risk_tier"], name="vendor_risk_tier_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["name"],
                name="vendor_name_unique",
                violation_error_message="A vendor with this name already exists.",
            ),
            text_length_constraint("vendor_notes_length", "notes", LONG_TEXT_MAX_LENGTH),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("vendors:vendor_detail", args=[self.pk])

    def service_credits(self, today=None, months=12):
        """The scorecard window's service credits (``with_scorecard``'s breaches) as a ``MoneyTotal``: per
        contract currency and in the reporting currency, each month at its rate. Two queries at most."""
        from django.utils import timezone

        from contracts.exchange import money_total

        since = month_window_start(today or timezone.localdate(), months)
        return money_total(scorecard_breaches(since).filter(contract__vendor=self).credit_by_month())


class DeliveryCenter(models.Model):
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="delivery_centers")
    name = models.CharField(max_length=200)
    city = models.CharField(max_length=100)
    country = CountryField()
    # max_length as the CharField it replaced (django-timezone-field's default is 63): the column is unchanged.
    timezone = TimeZoneField(max_length=64, default="UTC", help_text="IANA time zone, e.g. Asia/Manila.")
    seats = models.PositiveIntegerField(default=0)
    operates_24x7 = models.BooleanField("Operates 24×7", default=False)

    class Meta:
        ordering = ["name"]
        verbose_name = "delivery centre"
        verbose_name_plural = "delivery centres"
        constraints = [
            models.UniqueConstraint(
                fields=["vendor", "name"],
                name="delivery_center_vendor_name_unique",
                violation_error_message="This vendor already has a delivery centre with this name.",
            ),
            models.CheckConstraint(
                condition=models.Q(seats__gte=0),
                name="delivery_center_seats_non_negative",
                violation_error_message="Seats cannot be negative.",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.city}, {self.country.code})"
