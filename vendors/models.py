from django.conf import settings
from django.db import models
from django.urls import reverse
from django_countries.fields import CountryField

from common.fields import HttpsURLField, TimeZoneField
from common.policy import RestrictQuerySet
from common.validators import LONG_TEXT_MAX_LENGTH, capped_text, text_length_constraint

from .choices import RiskTier, VendorStatus


class Certification(models.Model):
    """A security / compliance certification a vendor may hold (ISO 27001, SOC 2, ...)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class VendorQuerySet(RestrictQuerySet):
    """Figures about vendors that come from contracts and the SLA engine are computed up there, where those
    apps can see vendors: ``contracts.figures`` (counts) and ``kpis.figures`` (headcount, scorecard, credits)."""

    def active(self):
        return self.filter(status=VendorStatus.ACTIVE)


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
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who added the vendor: a manager may edit it until a contract with it exists.",
    )
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


class DeliveryCenter(models.Model):
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="delivery_centers")
    name = models.CharField(max_length=200)
    city = models.CharField(max_length=100)
    country = CountryField()
    # max_length as the CharField it replaced (django-timezone-field's default is 63): the column is unchanged.
    timezone = TimeZoneField(max_length=64, default="UTC", help_text="IANA time zone, e.g. Asia/Manila.")
    seats = models.PositiveIntegerField(default=0)
    operates_24x7 = models.BooleanField("Operates 24×7", default=False)

    objects = RestrictQuerySet.as_manager()

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
