"""Test helpers for two writers at once on PostgreSQL: a raw connection of a test's own (a person holding a row
lock), work run on another Django connection in a thread, and waiting until some backend waits on a lock."""

import threading
import time

import psycopg
from django.db import connection


def connect(autocommit=False):
    """A psycopg connection to the test database, outside Django's (its transaction is the test's to hold)."""
    settings = connection.settings_dict
    return psycopg.connect(
        dbname=settings["NAME"],
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        autocommit=autocommit,
    )


def in_another_connection(call):
    """Start ``call()`` in a thread (so on a Django connection of its own); return ``(thread, outcome)``:
    ``outcome["result"]`` or ``outcome["error"]`` once the thread has finished."""
    outcome = {}

    def run():
        try:
            outcome["result"] = call()
        except Exception as error:  # noqa: BLE001 — reported by the test
            outcome["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def wait_until_a_backend_waits_on_a_lock(message="nobody waited on a lock", timeout=20):
    with connect(autocommit=True) as watcher:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            query = (
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if watcher.execute(query).fetchone()[0]:
                return
            time.sleep(0.05)
    raise AssertionError(message)
