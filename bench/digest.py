"""Weekly digest at scale: every manager with breaches that week gets one e-mail (dummy backend)."""

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kpis.digest import deliver_digest, plan_weekly_digest
from kpis.models import Breach, DigestDelivery
from kpis.periods import iso_week_label, parse_iso_week


def spread_detection_dates():
    """As if the hourly check had run all along: each breach detected 6 days after its period ended.

    Returns the ISO week in which last month's breaches were detected (the week the digest covers).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Breach._meta.db_table} SET detected_at = (period_end + 6)::timestamp AT TIME ZONE 'UTC'"  # nosec B608  # SQL from model table names and fragments built in code; values are bound parameters
        )
    last_month_end = timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
    return iso_week_label(last_month_end + datetime.timedelta(days=6))


def run_digest(week):
    DigestDelivery.objects.filter(week=week).delete()
    delivery_ids = plan_weekly_digest(week)
    sent = 0
    with CaptureQueriesContext(connection) as queries:
        for delivery_id in delivery_ids:
            sent += deliver_digest(delivery_id) == "sent"
    return {
        "week": week,
        "recipients": len(delivery_ids),
        "emails": sent,
        "send_queries": len(queries),
        "queries_per_email": round(len(queries) / max(sent, 1), 2),
        "breaches_in_week": Breach.objects.detected_between(*parse_iso_week(week)).count(),
    }
