"""Model fields shared by the apps."""

from django.db import models


class HttpsURLField(models.URLField):
    """A URL whose form fields — the app's forms and the admin's alike — read "example.com" as
    https://example.com (Django 6's default; Django 5 still assumes http and warns)."""

    def formfield(self, **kwargs):
        return super().formfield(**{"assume_scheme": "https", **kwargs})
