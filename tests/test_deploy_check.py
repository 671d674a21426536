"""Production settings: ``manage.py check --deploy`` reports nothing, and they refuse to start half-configured.

``wsgi.py``, ``asgi.py`` and ``config/celery.py`` default to them (only ``manage.py`` defaults to local).
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = ("SECRET_KEY", "ALLOWED_HOSTS", "EMAIL_URL", "SITE_URL")


def production_env(tmp_path, **overrides):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DEBUG", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "CSRF_TRUSTED_ORIGINS")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="example.com",
        EMAIL_URL="smtp+tls://mailer:pw@mail.example.com:587",
        SITE_URL="https://sla.example.com",
        DATABASE_URL=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sla_tracker"),
        DATA_DIR=str(tmp_path),
    )
    env.update(overrides)
    return {key: value for key, value in env.items() if value is not None}


def run(tmp_path, args, **overrides):
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=production_env(tmp_path, **overrides),
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_deploy_check(tmp_path, **overrides):
    return run(tmp_path, ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **overrides)


def test_production_settings_pass_the_deploy_check(tmp_path):
    result = run_deploy_check(tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output
    assert "WARNING" not in output and "?: (security." not in output


@pytest.mark.parametrize("name", REQUIRED)
@pytest.mark.parametrize("value", ["", None], ids=["empty", "unset"])
def test_production_settings_refuse_to_start_without_a_required_variable(tmp_path, name, value):
    result = run_deploy_check(tmp_path, **{name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"need these environment variables: {name} (" in result.stderr


def test_the_message_names_every_missing_variable_at_once(tmp_path):
    result = run_deploy_check(tmp_path, SECRET_KEY=None, SITE_URL=None)
    assert result.returncode != 0
    assert "SECRET_KEY (" in result.stderr and "SITE_URL (" in result.stderr
    assert "ALLOWED_HOSTS (" not in result.stderr


def test_production_reads_email_and_site_url_from_the_environment(tmp_path):
    code = "from django.conf import settings as s; print(s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_USE_TLS, s.SITE_URL)"
    result = run(tmp_path, ["-c", f"import django; django.setup(); {code}"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["mail.example.com", "587", "True", "https://sla.example.com"]


@pytest.mark.parametrize("module", ["config.wsgi", "config.asgi", "config.celery"])
def test_servers_and_celery_default_to_production_settings(tmp_path, module):
    """Without DJANGO_SETTINGS_MODULE, gunicorn / uvicorn / celery load production settings, which refuse
    to run without their secrets; manage.py (development) stays on local settings."""
    code = (
        f"import os, {module}; from django.conf import settings; settings.DEBUG; "
        "print(os.environ['DJANGO_SETTINGS_MODULE'])"
    )
    result = run(tmp_path, ["-c", code], DJANGO_SETTINGS_MODULE=None, SECRET_KEY=None)
    assert result.returncode != 0
    assert "config.settings.production" in result.stderr and "SECRET_KEY (" in result.stderr
    result = run(tmp_path, ["-c", code], DJANGO_SETTINGS_MODULE=None)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "config.settings.production"


def test_production_installs_no_benchmark_or_dev_only_app(tmp_path):
    script = "import django; django.setup(); from django.conf import settings; print(' '.join(settings.INSTALLED_APPS))"
    result = run(tmp_path, ["-c", script])
    assert result.returncode == 0, result.stderr
    apps = result.stdout.split()
    assert "demo" in apps  # installed, so that seed_demo can refuse
    assert "bench" not in apps
    result = run(tmp_path, ["manage.py", "help", "seed_scale"])
    assert result.returncode != 0 and "Unknown command: 'seed_scale'" in result.stderr


def test_seed_demo_refuses_the_production_settings(tmp_path):
    """Refused before touching the database (no DATABASE_URL needed to tell), unless --force."""
    result = run(tmp_path, ["manage.py", "seed_demo"])
    assert result.returncode != 0
    assert "production settings" in result.stderr and "--force" in result.stderr
