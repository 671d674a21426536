"""The parts of ``/health/``: each returns ``{"ok": bool, ...}`` with nothing secret in it (no host names,
no credentials: the reason of a failure goes to the log, the response names only its kind)."""

import logging

from django.conf import settings
from django.db import connection
from django.utils import timezone
from kombu import Connection

from . import heartbeats

logger = logging.getLogger(__name__)


def database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        logger.warning("health: database unavailable: %s", error)
        return {"ok": False, "error": f"unavailable ({type(error).__name__})"}
    return {"ok": True}


def broker():
    """Connect to the Celery broker (Redis: connect and PING) with a short timeout, no retries."""
    timeout = settings.HEALTH_BROKER_TIMEOUT_SECONDS
    options = {**getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})}
    if settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        options.update(socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=timeout, transport_options=options) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)
    except Exception as error:
        logger.warning("health: broker unavailable: %s", error)
        return {"ok": False, "error": f"unreachable ({type(error).__name__})"}
    return {"ok": True}


def freshness(seen, name, max_age_seconds, what):
    """How long ago heartbeat ``name`` was recorded, against the allowed age."""
    if seen is None:
        return {"ok": False, "error": "database unavailable", "max_age_seconds": max_age_seconds}
    at = seen.get(name)
    if at is None:
        return {"ok": False, "error": f"no {what} recorded yet", "max_age_seconds": max_age_seconds}
    age = max(0, round((timezone.now() - at).total_seconds()))
    result = {"ok": age <= max_age_seconds, "last": at.isoformat(), "age_seconds": age}
    result["max_age_seconds"] = max_age_seconds
    if not result["ok"]:
        result["error"] = f"last {what} {age} s ago (allowed: {max_age_seconds} s)"
    return result


def run(names):
    """Run the checks ``names`` (a subset of ``NAMES``), the heartbeats read with one query."""
    results = {}
    if "database" in names:
        results["database"] = database()
    if "broker" in names:
        results["broker"] = broker()
    if {"breach_check", "beat"} & set(names):
        try:
            seen = heartbeats.last_seen()
        except Exception as error:
            logger.warning("health: heartbeats unreadable: %s", error)
            seen = None
        if "breach_check" in names:
            results["breach_check"] = freshness(
                seen, heartbeats.BREACH_CHECK, settings.HEALTH_BREACH_CHECK_MAX_AGE_SECONDS, "finished breach check"
            )
        if "beat" in names:
            results["beat"] = freshness(seen, heartbeats.BEAT, settings.HEALTH_BEAT_MAX_AGE_SECONDS, "beat tick")
    return results


NAMES = ("database", "broker", "breach_check", "beat")
