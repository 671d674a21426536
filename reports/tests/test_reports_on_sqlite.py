"""The reports and the dashboard again, on the embedded SQLite database (the ``make run`` default).

The reports read their page rows with SQL written for PostgreSQL where it pays (a scorecard ranked in one
statement, a month's credits read in index order); on SQLite they take the portable path. These tests run
in a subprocess with ``config.settings.test_sqlite`` so that path keeps giving the same pages.
"""

import pytest
from django.db import connection

from tests.workers import run_on_sqlite

# test_report_pages.py and test_summaries.py also pin the PostgreSQL paths themselves (rows sorted in SQL,
# the roster read from the summary), which SQLite does not take: they are not run here.
REPORT_MODULES = [
    "reports/tests/test_reports.py",
    "reports/tests/test_report_money.py",
    "dashboard/tests/test_dashboard.py",
]


@pytest.mark.skipif(connection.vendor == "sqlite", reason="already running on SQLite")
def test_reports_pass_on_sqlite(tmp_path):
    run_on_sqlite(REPORT_MODULES, tmp_path)
