"""Weekly digest at scale: every manager with breaches that week gets one e-mail (dummy backend)."""

import datetime

from django.core.mail.backends.base import BaseEmailBackend
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


# Gmail clips an HTML part past 102 KB ("[Message clipped] View entire message"): stay clear of it.
HTML_LIMIT_BYTES = 100_000


class MeasuringBackend(BaseEmailBackend):
    """Sends nothing; keeps the size of the largest HTML and text parts it was given."""

    largest_html = largest_text = 0
    largest_subject = ""

    def send_messages(self, messages):
        for message in messages:
            html = max((len(content.encode()) for content, _type in message.alternatives), default=0)
            if html > self.largest_html:
                self.largest_html, self.largest_subject = html, message.subject
            self.largest_text = max(self.largest_text, len(message.body.encode()))
        return len(messages)


def run_digest(week):
    DigestDelivery.objects.filter(week=week).delete()
    delivery_ids = plan_weekly_digest(week)
    sent = 0
    backend = MeasuringBackend()
    with CaptureQueriesContext(connection) as queries:
        for delivery_id in delivery_ids:
            sent += deliver_digest(delivery_id, connection=backend) == "sent"
    if backend.largest_html >= HTML_LIMIT_BYTES:
        raise AssertionError(
            f"the largest digest's HTML part is {backend.largest_html:,} bytes ({backend.largest_subject}); "
            f"Gmail clips past 102 KB"
        )
    return {
        "largest_html_bytes": backend.largest_html,
        "largest_text_bytes": backend.largest_text,
        "largest_subject": backend.largest_subject,
        "week": week,
        "recipients": len(delivery_ids),
        "emails": sent,
        "send_queries": len(queries),
        "queries_per_email": round(len(queries) / max(sent, 1), 2),
        "breaches_in_week": Breach.objects.detected_between(*parse_iso_week(week)).count(),
    }
