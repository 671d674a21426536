"""Local / demo settings: SQLite and the embedded filesystem broker unless the environment says otherwise."""

import os

os.environ.setdefault("SECRET_KEY", "django-insecure-local-demo-key-change-me")
os.environ.setdefault("DEBUG", "True")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],0.0.0.0")

from .base import *  # noqa: E402,F403

INSTALLED_APPS = [*INSTALLED_APPS, *DEV_ONLY_APPS]  # noqa: F405  (the benchmark: local and test only)
