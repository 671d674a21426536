"""The event feed: what happened, read set-based from the breach history and the digest deliveries, and
the deliveries it owes to each webhook endpoint and breach alert.

Breach events come from the history rows the engine writes with every breach it inserts or updates
(``kpis.breaches.write_breach_rows``: who ``ENGINE``, ``+`` insert / ``~`` update), read past a high-water
mark on ``history_id`` (``FeedPosition``), one ``INSERT … SELECT`` per batch:

- ``breach.recorded``: a breach inserted, or one the engine brought back from ``withdrawn``;
- ``breach.withdrawn``: a breach the engine withdrew (it was not withdrawn just before);
- ``obligation.overdue``: a replacement breach recorded (rule 4) that is not already resolved (a late
  fulfilment recorded before the check ever saw it overdue).

Ids of a sequence are handed out before commit, so a transaction still running may commit a row with a
lower id than one already read. The feed therefore reads while holding the engine's job locks
(``common.sql.job_lock``): no engine transaction is then in flight, every engine row below the top is
committed, and every later one gets a higher id. On SQLite every write transaction is serialised anyway.

Events are derived only for the types someone listens to (an active endpoint, or an active alert for
``breach.recorded``); otherwise the mark just moves on, so a run with no endpoints costs one ``MAX()``.
``digest.sent`` comes from the digest deliveries marked sent since the last read.
"""

import datetime

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from common import sql
from contracts.models import Contract
from kpis.breaches import ENGINE
from kpis.models import Breach, DigestDelivery

from .choices import BREACH_EVENT_TYPES, DeliveryStatus, EventType
from .models import AlertSubscription, Delivery, Event, FeedPosition, WebhookEndpoint

EVENTS = Event._meta.db_table
DELIVERIES = Delivery._meta.db_table
HISTORY = Breach.history.model._meta.db_table
DIGESTS = DigestDelivery._meta.db_table
CONTRACTS = Contract._meta.db_table
ALERTS = AlertSubscription._meta.db_table
USERS = get_user_model()._meta.db_table

BATCH_SIZE = 50_000  # history rows read per transaction
# The engine's job locks (kpis.replacements / kpis.breaches), in the order kpis.pending takes them.
ENGINE_JOBS = ("contracts.check_replacement_obligations", "kpis.detect_breaches")
# A digest marked sent is read again for this long (its row may commit a moment after a later one).
DIGEST_LOOKBACK = datetime.timedelta(minutes=15)
# A pending delivery whose retry message is this late was lost (a broker restart): the sweep queues it again.
LOST_AFTER = datetime.timedelta(minutes=2)


def literal(value):
    """An event type as an SQL literal: only ever one of ``EventType``'s own values."""
    if value not in EventType.values:
        raise ValueError(f"Unknown event type {value!r}.")
    return f"'{value}'"


def rows_select(rows, columns):
    """A derived table of constant rows (ints and event types), as ``SELECT … UNION ALL SELECT …``."""
    selects = [
        "SELECT " + ", ".join(f"{value if isinstance(value, int) else literal(value)} AS {column}"
                              for value, column in zip(row, columns, strict=True))
        for row in rows
    ]  # fmt: skip
    return " UNION ALL ".join(selects)


def listeners():
    """``(endpoint_id, event_type)`` of every active endpoint, and whether any breach alert is on."""
    pairs = [
        (pk, event_type)
        for pk, types in WebhookEndpoint.objects.filter(active=True).values_list("pk", "events")
        for event_type in types or ()
        if event_type in EventType.values
    ]
    return pairs, AlertSubscription.objects.filter(active=True).exists()


def record_breach_events(after, upto, types, now):
    """One INSERT … SELECT: the events of ``types`` in the engine's history rows ``after`` < id ≤ ``upto``."""
    statement = f"""
        INSERT INTO {EVENTS} (type, breach_history_id, breach_id, contract_id, kind, severity, status,
                              digest_delivery_id, occurred_at, created_at)
        SELECT w.type, t.history_id, t.id, t.contract_id, t.kind, t.severity, t.status, NULL, t.history_date, %s
        FROM (
            SELECT h.history_id, h.id, h.contract_id, h.kind, h.severity, h.status, h.history_type, h.history_date,
                   CASE WHEN h.history_type = '~' THEN (
                       SELECT p.status FROM {HISTORY} p WHERE p.id = h.id AND p.history_id < h.history_id
                       ORDER BY p.history_id DESC LIMIT 1
                   ) END AS previous_status
            FROM {HISTORY} h
            WHERE h.history_id > %s AND h.history_id <= %s AND h.history_change_reason = %s
        ) t
        JOIN ({rows_select([(t,) for t in sorted(types)], ["type"])}) w ON (
            (t.status <> 'withdrawn' AND (t.history_type = '+' OR t.previous_status = 'withdrawn') AND (
                w.type = 'breach.recorded'
                OR (w.type = 'obligation.overdue' AND t.kind = 'replacement' AND t.status <> 'resolved')))
            OR (w.type = 'breach.withdrawn' AND t.status = 'withdrawn' AND t.history_type = '~'
                AND COALESCE(t.previous_status, '') <> 'withdrawn')
        )
        ORDER BY t.history_id, w.type
    """  # nosec B608  # SQL assembled from model table names and event-type constants; values are bound parameters
    return sql.execute(statement, [sql.adapt_datetime(now), after, upto, ENGINE])


def record_digest_events(since, now):
    """``digest.sent`` for each digest e-mail marked sent after ``since`` that has no event yet."""
    statement = f"""
        INSERT INTO {EVENTS} (type, breach_history_id, breach_id, contract_id, kind, severity, status,
                              digest_delivery_id, occurred_at, created_at)
        SELECT 'digest.sent', NULL, NULL, NULL, '', '', '', d.id, d.sent_at, %s
        FROM {DIGESTS} d
        WHERE d.status = %s AND d.sent_at IS NOT NULL AND d.sent_at > %s
          AND NOT EXISTS (SELECT 1 FROM {EVENTS} e WHERE e.type = 'digest.sent' AND e.digest_delivery_id = d.id)
        ORDER BY d.sent_at, d.id
    """  # nosec B608  # SQL assembled from model table names; values are bound parameters
    return sql.execute(statement, [sql.adapt_datetime(now), DigestDelivery.Status.SENT, sql.adapt_datetime(since)])


def create_deliveries(after_event, endpoint_pairs, alerts_on, now):
    """One delivery per new event (id > ``after_event``) and target listening to it: each endpoint
    subscribed to its type, and the contract owner's breach alert for a major breach recorded."""
    created = 0
    adapted = sql.adapt_datetime(now)
    columns = "event_id, endpoint_id, subscription_id, status, attempts, next_attempt_at, body, created_at"
    if endpoint_pairs:
        statement = f"""
            INSERT INTO {DELIVERIES} ({columns})
            SELECT e.id, s.endpoint_id, NULL, %s, 0, %s, '', %s
            FROM {EVENTS} e JOIN ({rows_select(endpoint_pairs, ["endpoint_id", "type"])}) s ON s.type = e.type
            WHERE e.id > %s
            ORDER BY e.id, s.endpoint_id
        """  # nosec B608  # SQL assembled from model table names, ids and event-type constants; values are bound parameters
        created += sql.execute(statement, [DeliveryStatus.PENDING, adapted, adapted, after_event])
    if alerts_on:
        statement = f"""
            INSERT INTO {DELIVERIES} ({columns})
            SELECT e.id, NULL, a.id, %s, 0, %s, '', %s
            FROM {EVENTS} e
            JOIN {CONTRACTS} c ON c.id = e.contract_id
            JOIN {ALERTS} a ON a.user_id = c.owner_id AND a.active = %s
            JOIN {USERS} u ON u.id = a.user_id AND u.is_active = %s AND (a.channel <> 'email' OR u.email <> '')
            WHERE e.id > %s AND e.type = 'breach.recorded' AND e.severity = 'major'
              AND e.status NOT IN ('resolved', 'waived')
            ORDER BY e.id
        """  # nosec B608  # SQL assembled from model table names; values are bound parameters
        created += sql.execute(statement, [DeliveryStatus.PENDING, adapted, adapted, True, True, after_event])
    return created


def hold_engine_locks():
    """Wait until no engine transaction is in flight, and keep it so until this transaction ends."""
    if sql.is_postgresql():
        with connection.cursor() as cursor:
            for name in ENGINE_JOBS:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [sql.lock_key(name)])


def dispatch_events(batch_size=BATCH_SIZE, now=None):
    """Read what happened since the last call into events and deliveries, batch by batch (one
    transaction each). Returns the counts and ``delivery_ids``: the deliveries to send now (new ones,
    and pending ones whose retry message was lost)."""
    summary = {"batches": 0, "events": 0, "deliveries": 0, "delivery_ids": []}
    first = True
    while True:
        now = now or timezone.now()
        with sql.job_lock("outbound.dispatch_events"):
            hold_engine_locks()
            position, _ = FeedPosition.objects.get_or_create(pk=1)
            top = Breach.history.model.objects.aggregate(top=Max("history_id"))["top"] or 0
            after = min(position.breach_history_id, top)  # a history emptied and restarted: start from its top
            upto = min(top, after + batch_size)
            pairs, alerts_on = listeners()
            types = {event_type for _, event_type in pairs} | ({EventType.BREACH_RECORDED} if alerts_on else set())
            before_event = Event.objects.aggregate(last=Max("pk"))["last"] or 0
            before_delivery = Delivery.objects.aggregate(last=Max("pk"))["last"] or 0
            breach_types = types & set(BREACH_EVENT_TYPES)
            if breach_types and upto > after:
                summary["events"] += record_breach_events(after, upto, breach_types, now)
            summary["batches"] += 1
            position.breach_history_id = upto
            if first:
                if EventType.DIGEST_SENT in types and position.digest_sent_at is not None:
                    summary["events"] += record_digest_events(position.digest_sent_at - DIGEST_LOOKBACK, now)
                position.digest_sent_at = now
            position.save()
            summary["deliveries"] += create_deliveries(before_event, pairs, alerts_on, now)
            summary["delivery_ids"] += list(
                Delivery.objects.filter(pk__gt=before_delivery).order_by("pk").values_list("pk", flat=True)
            )
        if first:
            summary["delivery_ids"] += lost_deliveries(now, exclude=summary["delivery_ids"])
            first = False
        if upto >= top:
            return summary
        now = None


def lost_deliveries(now, exclude=()):
    """Pending deliveries whose (re)try is overdue by ``LOST_AFTER``: their message was lost."""
    due = Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now - LOST_AFTER)
    return list(due.exclude(pk__in=list(exclude)).order_by("pk").values_list("pk", flat=True)[:10_000])
