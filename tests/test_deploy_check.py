"""``manage.py check --deploy`` with the production settings reports nothing."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_deploy_check(tmp_path, **overrides):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DEBUG", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "CSRF_TRUSTED_ORIGINS")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="example.com",
        DATABASE_URL=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sla_tracker"),
        DATA_DIR=str(tmp_path),
    )
    env.update(overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check(tmp_path):
    result = run_deploy_check(tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output
    assert "WARNING" not in output and "?: (security." not in output


def test_production_settings_refuse_to_start_without_a_secret_key(tmp_path):
    env_without_key = {"SECRET_KEY": ""}
    result = run_deploy_check(tmp_path, **env_without_key)
    assert result.returncode != 0
