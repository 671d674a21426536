"""API keys (DESIGN.md "API"): personal keys act as their user; vendor keys act for one vendor.

Only a SHA-256 hash of the key is stored. A key is 32 random bytes (``secrets``), so a plain hash is
enough: there is nothing to guess, and a slow hash would only slow every request. The first characters
(``prefix``) are kept in clear to tell keys apart in lists and logs.
"""

import datetime
import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

KEY_PREFIX = "sla_"  # every key starts so: easy to spot in a leaked file or a secret scanner
PREFIX_LENGTH = len(KEY_PREFIX) + 8
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)  # last_used_at is written at most once a minute


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiKeyQuerySet(models.QuerySet):
    def usable(self, now=None):
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


class ApiKey(models.Model):
    class Kind(models.TextChoices):
        PERSONAL = "personal", "Personal (acts as its user)"
        VENDOR = "vendor", "Vendor (pushes figures and rosters for one vendor)"

    name = models.CharField(max_length=100, help_text="What the key is for, e.g. “Acme WFM export”.")
    kind = models.CharField(max_length=10, choices=Kind, default=Kind.PERSONAL)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="api_keys"
    )
    vendor = models.ForeignKey(
        "vendors.Vendor", null=True, blank=True, on_delete=models.CASCADE, related_name="api_keys"
    )
    prefix = models.CharField(max_length=PREFIX_LENGTH, editable=False, db_index=True)
    hashed_key = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="personal", user__isnull=False, vendor__isnull=True))
                | Q(kind="vendor", vendor__isnull=False, user__isnull=True),
                name="api_key_personal_has_user_vendor_has_vendor",
                violation_error_message="A personal key belongs to a user; a vendor key to a vendor (not both).",
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_vendor_key(self):
        return self.kind == self.Kind.VENDOR

    def is_usable(self, now=None):
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def state(self):
        if self.revoked_at:
            return "revoked"
        if self.expires_at and self.expires_at <= timezone.now():
            return "expired"
        return "active"

    def set_new_key(self) -> str:
        """Give this key a fresh secret; returns it (the only time it is ever seen)."""
        raw = KEY_PREFIX + secrets.token_urlsafe(32)
        self.prefix = raw[:PREFIX_LENGTH]
        self.hashed_key = hash_key(raw)
        return raw

    def revoke(self):
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])

    def touch(self, now=None):
        """Record use, at most once per ``LAST_USED_RESOLUTION`` (a conditional UPDATE, no read)."""
        now = now or timezone.now()
        if self.last_used_at and now - self.last_used_at < LAST_USED_RESOLUTION:
            return
        ApiKey.objects.filter(pk=self.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
        self.last_used_at = now

    @classmethod
    def create_key(cls, *, name, user=None, vendor=None, expires_at=None, created_by=None):
        """A new key for ``user`` (personal) or ``vendor``: ``(ApiKey, raw key)``."""
        kind = cls.Kind.VENDOR if vendor is not None else cls.Kind.PERSONAL
        key = cls(name=name, kind=kind, user=user, vendor=vendor, expires_at=expires_at, created_by=created_by)
        raw = key.set_new_key()
        key.full_clean()
        key.save()
        return key, raw
