"""Outbound webhooks and chat alerts (issue 15, "Outbound").

``Event``: something that happened, read from the breach history and the digest deliveries by
``outbound.events`` (one row per happening and type, whoever listens). ``Delivery``: one event for one
target — a ``WebhookEndpoint`` an admin registered, or a manager's ``AlertSubscription`` — unique per
event and target, so nothing is ever delivered twice; each try is a ``DeliveryAttempt``.
"""

import secrets

from django.conf import settings
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from common.fields import HttpsURLField
from common.policy import RestrictQuerySet

from .choices import AlertChannel, DeliveryStatus, EventType

HTTP_URL = URLValidator(schemes=["http", "https"], message="Enter an http:// or https:// URL.", code="not_http")


def new_secret():
    return secrets.token_urlsafe(32)


class FeedPosition(models.Model):
    """The one row saying how far the event feed has read (``outbound.events``)."""

    admin_only = True

    breach_history_id = models.BigIntegerField(default=0, help_text="The last breach history row read.")
    digest_sent_at = models.DateTimeField(null=True, blank=True, help_text="The last digest send read.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"breach history read to #{self.breach_history_id}"


class Event(models.Model):
    admin_only = True

    type = models.CharField(max_length=32, choices=EventType)
    # A breach event is read from one row of the breach's history (kpis_historicalbreach), immutable:
    # the payload is built from it, so it says what the breach was at that moment.
    breach_history_id = models.BigIntegerField(null=True, blank=True)
    breach = models.ForeignKey(
        "kpis.Breach", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    contract = models.ForeignKey(
        "contracts.Contract", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    kind = models.CharField(max_length=20, blank=True)
    severity = models.CharField(max_length=10, blank=True)
    status = models.CharField(max_length=20, blank=True)
    digest_delivery = models.ForeignKey(
        "kpis.DigestDelivery", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["type", "breach_history_id"], name="outbound_event_once_per_history_row"),
            models.UniqueConstraint(fields=["type", "digest_delivery"], name="outbound_event_once_per_digest"),
        ]

    def __str__(self):
        return f"{self.type} #{self.pk}"


class WebhookEndpoint(models.Model):
    """A URL an admin registered to receive events, signed with ``secret`` (README, "Webhooks and alerts")."""

    admin_only = True  # the access policy (access/rules.py): only admins see or change endpoints

    name = models.CharField(max_length=100, help_text="Who receives it, e.g. “ServiceNow incidents”.")
    url = HttpsURLField(
        "URL", max_length=500, validators=[HTTP_URL], help_text="Receives a JSON POST per event (http or https)."
    )
    secret = models.CharField(
        max_length=128,
        default=new_secret,
        help_text="Signs every delivery (X-SLA-Signature); give it to the receiver to check signatures.",
    )
    events = models.JSONField(default=list, blank=True, help_text="The event types sent to this URL.")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        ordering = ["name"]
        verbose_name = "webhook endpoint"

    def __str__(self):
        return self.name


class AlertSubscription(models.Model):
    """A manager's choice to be told at once of major breaches on the contracts they manage."""

    personal = True  # the access policy (access/rules.py): only the user themself makes or changes it

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="breach_alerts")
    channel = models.CharField(max_length=10, choices=AlertChannel, default=AlertChannel.EMAIL)
    webhook_url = HttpsURLField("webhook URL", max_length=500, blank=True)
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictQuerySet.as_manager()

    class Meta:
        verbose_name = "breach alert"
        constraints = [
            models.CheckConstraint(
                condition=Q(channel=AlertChannel.EMAIL) | ~Q(webhook_url=""), name="outbound_alert_chat_needs_url"
            ),
        ]

    def __str__(self):
        return f"{self.user} by {self.get_channel_display()}"


class Delivery(models.Model):
    admin_only = True

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    subscription = models.ForeignKey(
        AlertSubscription, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(max_length=10, choices=DeliveryStatus, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # What was sent, fixed at the first try so every retry sends the same bytes.
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "deliveries"
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbound_delivery_due_idx")]
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="outbound_delivery_once_per_endpoint"),
            models.UniqueConstraint(fields=["event", "subscription"], name="outbound_delivery_once_per_alert"),
            models.CheckConstraint(
                condition=Q(endpoint__isnull=False, subscription__isnull=True)
                | Q(endpoint__isnull=True, subscription__isnull=False),
                name="outbound_delivery_one_target",
            ),
        ]

    def __str__(self):
        return f"{self.event} → {self.endpoint or self.subscription}"

    @property
    def idempotency_key(self):
        """X-SLA-Delivery: the same on every try of this event to this target, different for any other."""
        return f"{self.event_id}-{self.endpoint_id or f'a{self.subscription_id}'}"


class DeliveryAttempt(models.Model):
    admin_only = True

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    succeeded = models.BooleanField(default=False)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    response_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="outbound_attempt_number_unique")]

    def __str__(self):
        return f"try {self.number} of {self.delivery_id}"
