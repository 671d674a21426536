"""The rule tables again, on the embedded SQLite database (the ``make run`` default).

The engine's SQL differs per backend in a few fragments (``common.sql``), so the same rule tests run in a
subprocess with ``config.settings.test_sqlite``.
"""

import pytest
from django.db import connection

from tests.workers import run_on_sqlite

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
    run_on_sqlite(RULE_MODULES, tmp_path)
