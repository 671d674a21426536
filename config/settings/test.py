"""Test settings: PostgreSQL by default (DATABASE_URL overrides), fast hashing, locmem e-mail."""

import os

os.environ.setdefault("SECRET_KEY", "django-insecure-test-key")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sla_tracker")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("ALLOWED_HOSTS", "*")

from .base import *  # noqa: E402,F403

INSTALLED_APPS = [*INSTALLED_APPS, *DEV_ONLY_APPS]  # noqa: F405  (the benchmark: local and test only)

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SITE_URL = "http://testserver"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CELERY_TASK_ALWAYS_EAGER = False
