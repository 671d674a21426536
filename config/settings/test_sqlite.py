"""Test settings on the embedded SQLite database; the rule tests also run on it (kpis/tests/test_rules_on_sqlite.py).

Usage: ``pytest --ds=config.settings.test_sqlite kpis/tests/test_rules.py``.
"""

import os

os.environ["DATABASE_URL"] = "sqlite:///" + os.path.join(os.environ.get("DATA_DIR", "/tmp/engine-data"), "test.sqlite3")  # nosec B108  # test settings; DATA_DIR overrides the scratch directory

from .test import *  # noqa: E402,F403
