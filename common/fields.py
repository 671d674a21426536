"""Model fields shared by the apps."""

import timezone_field
from django.core.exceptions import ValidationError
from django.db import models


class HttpsURLField(models.URLField):
    """A URL whose form fields — the app's forms and the admin's alike — read "example.com" as
    https://example.com (Django 6's default; Django 5 still assumes http and warns)."""

    def formfield(self, **kwargs):
        return super().formfield(**{"assume_scheme": "https", **kwargs})


UNKNOWN_TIME_ZONE = "“%(value)s” is not a known time zone: choose one from the list (e.g. Asia/Manila)."


class TimeZoneField(timezone_field.TimeZoneField):
    """An IANA time zone (django-timezone-field: a ``zoneinfo.ZoneInfo`` in Python, its name in the database).

    Its form field — the app's forms and the admin's alike — is a select of every zone, searchable where
    JavaScript runs (Tom Select through ``data-searchable``, see ``static/js/lookup.js``), and an unknown zone
    is refused with :data:`UNKNOWN_TIME_ZONE`, in a form and in ``full_clean`` (imports, the API) alike."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValidationError:
            raise ValidationError(UNKNOWN_TIME_ZONE, code="invalid", params={"value": value}) from None

    def formfield(self, **kwargs):
        field = super().formfield(**{"error_messages": {"invalid_choice": UNKNOWN_TIME_ZONE}, **kwargs})
        field.widget.attrs.setdefault("data-searchable", "1")
        return field
