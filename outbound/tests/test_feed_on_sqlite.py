"""The event feed, deliveries and alerts again on the embedded SQLite database (the ``make run`` default): the
feed's INSERT … SELECT statements are plain SQL both databases must run."""

import pytest
from django.db import connection

from tests.workers import run_on_sqlite

MODULES = ["outbound/tests/test_events.py", "outbound/tests/test_deliveries.py", "outbound/tests/test_alerts.py"]


@pytest.mark.skipif(connection.vendor == "sqlite", reason="already running on SQLite")
def test_the_feed_and_deliveries_pass_on_sqlite(tmp_path):
    run_on_sqlite(MODULES, tmp_path)
