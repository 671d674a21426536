"""The rule tables again, on the embedded SQLite database (the ``make run`` default).

The engine's SQL differs per backend in a few fragments (``common.sql``), so the same rule tests run in a
subprocess with ``config.settings.test_sqlite``.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

BASE_DIR = Path(__file__).resolve().parents[2]
RULE_MODULES = [
    "kpis/tests/test_rules.py",
    "kpis/tests/test_attrition.py",
    "kpis/tests/test_jobs.py",
    "kpis/tests/test_digest.py",
    "kpis/tests/test_replacement_breaches.py",
    "kpis/tests/test_record.py",
    # The figure writes (UPDATE … FROM / INSERT … SELECT with their history rows) of the import and the API.
    "kpis/tests/test_imports.py",
    "api/tests/test_measurement_push.py",
]


@pytest.mark.skipif(connection.vendor == "sqlite", reason="already running on SQLite")
def test_rules_pass_on_sqlite(tmp_path):
    env = {**os.environ, "DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings.test_sqlite"}
    env.pop("DATABASE_URL", None)
    modules = [m for m in RULE_MODULES if (BASE_DIR / m).exists()]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--ds=config.settings.test_sqlite", "-q", "-p", "no:cacheprovider", *modules],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
