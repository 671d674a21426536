"""The event feed and deliveries again on the embedded SQLite database (the ``make run`` default): the feed's
INSERT … SELECT statements are plain SQL both databases must run (``kpis/tests/test_rules_on_sqlite.py``'s way)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

BASE_DIR = Path(__file__).resolve().parents[2]
MODULES = ["outbound/tests/test_events.py", "outbound/tests/test_deliveries.py", "outbound/tests/test_alerts.py"]


@pytest.mark.skipif(connection.vendor == "sqlite", reason="already running on SQLite")
def test_the_feed_and_deliveries_pass_on_sqlite(tmp_path):
    env = {**os.environ, "DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings.test_sqlite"}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--ds=config.settings.test_sqlite", "-q", "-p", "no:cacheprovider", *MODULES],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
