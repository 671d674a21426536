"""Checks owed after a change (rule 5: "within seconds, not at the next hourly run"), as an outbox.

Whatever changes what is owed — a figure saved, imported or deleted; a breach waived or un-waived; a
contract's fee, at-risk %, dates or earn-back; an SLA added, changed or removed; a departure or a
replacement — calls one of the ``request_*`` functions inside its own transaction. They write
``PendingCheck`` rows there, so the check is owed exactly when the change commits, and ask the worker
(after commit, with a bounded wait on the broker) to run ``run_pending_checks()``. If the broker is
down or the message is lost, the every-minute sweep (``kpis.tasks.run_pending_checks`` in beat) and
the hourly run find the rows: a save never waits on, nor depends on, the broker.
"""

import datetime
import logging
import threading

from celery import current_app
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from common import sql

from .breaches import detect_breaches
from .models import SLA, PendingCheck
from .replacements import check_replacement_obligations

logger = logging.getLogger(__name__)
_last_publish = threading.local()
RUN_PENDING_CHECKS = "kpis.tasks.run_pending_checks"
# A page waits at most about this long on a broker that accepts the connection and never answers.
PUBLISH_TIMEOUT = 1
PUBLISH_TRANSPORT_OPTIONS = {
    "socket_timeout": PUBLISH_TIMEOUT,
    "socket_connect_timeout": PUBLISH_TIMEOUT,
    "max_retries": 0,
}

FIGURE, CONTRACT, STAFFING = PendingCheck.Kind.FIGURE, PendingCheck.Kind.CONTRACT, PendingCheck.Kind.STAFFING


def request_figure_check(figures):
    """``figures``: ``(sla_id, period_start)`` of each figure recorded, corrected or deleted. One
    ``INSERT … SELECT`` whatever their number (an API push queues 10,000 at once)."""
    rows = sorted({(int(sla_id), _date(day)) for sla_id, day in figures})
    if not rows:
        return
    select, params = sql.rows_select([("sla_id", "bigint"), ("period_start", "date")], rows)
    table = PendingCheck._meta.db_table
    sql.execute(
        f"INSERT INTO {table} (kind, sla_id, period_start, created_at) "  # nosec B608  # SQL from the model's table name; values are bound parameters
        f"SELECT %s, f.sla_id, f.period_start, %s FROM ({select}) f",
        [FIGURE, sql.adapt_datetime(timezone.now()), *params],
    )
    _queued()


def request_contract_check(contract_ids):
    """Every period of these contracts' SLAs: their fee, dates, SLAs or a breach's waiver changed."""
    _request([PendingCheck(kind=CONTRACT, contract_id=int(pk)) for pk in sorted(set(contract_ids))])


def request_staffing_check(contract_ids):
    """Rule 4 for these contracts: a departure, an obligation or a replacement changed."""
    _request([PendingCheck(kind=STAFFING, contract_id=int(pk)) for pk in sorted(set(contract_ids))])


def _date(day):
    return day if isinstance(day, datetime.date) else datetime.date.fromisoformat(day)


def _request(rows):
    if not rows:
        return
    PendingCheck.objects.bulk_create(rows, batch_size=5000)
    _queued()


def _queued():
    _last_publish.queued = None  # not yet: publish() says, once the transaction commits
    _publish_on_commit()


def _publish_on_commit():
    """Ask the worker once per transaction, after it commits (nothing is sent for a rolled-back one)."""
    if connection.in_atomic_block and any(func is publish for _, func, _ in connection.run_on_commit):
        return
    transaction.on_commit(publish)


def publish():
    """Queue ``run_pending_checks`` now; False (logged) when the broker did not take it in time — the
    sweep runs the rows within a minute of the broker's return. Never raises, never waits long
    (``CELERY_BROKER_*`` timeouts)."""
    options = {**(current_app.conf.broker_transport_options or {}), **PUBLISH_TRANSPORT_OPTIONS}
    try:
        # A connection of its own with short timeouts (the worker's keep the settings' longer ones); the
        # task by name: the rules never import their tasks.
        with current_app.connection_for_write(connect_timeout=PUBLISH_TIMEOUT, transport_options=options) as conn:
            current_app.send_task(RUN_PENDING_CHECKS, retry=False, connection=conn)
    except Exception:
        logger.warning("Could not queue the pending breach checks; the sweep will run them.", exc_info=True)
        _last_publish.queued = False
        return False
    _last_publish.queued = True
    return True


def queued_message(saved):
    """What a page tells the user after saving: the truth about when the breach check runs (call it
    after the save's transaction committed, so ``publish`` has run)."""
    if getattr(_last_publish, "queued", None) is not False:
        return f"{saved} Breaches are checked in the background within seconds."
    return f"{saved} The task queue did not answer: breaches will be checked within a few minutes."


def run_pending_checks(today=None):
    """Run every check owed, in one transaction: the rows are taken (deleted) and the checks run; if a
    check fails the rows come back with the rollback. Rows written while this runs wait for the next
    call. Returns what ran, with ``contract_ids``: the contracts whose breaches may have changed."""
    with transaction.atomic():
        last = PendingCheck.objects.aggregate(last=Max("pk"))["last"]
        if last is None:
            return {"figures": 0, "contracts": 0, "staffing": 0, "contract_ids": []}
        # DELETE … RETURNING: a concurrent run waits on these rows and then finds them gone.
        taken = PendingCheck.objects.filter(pk__lte=last)
        rows = list(taken.select_for_update().values_list("kind", "contract_id", "sla_id", "period_start"))
        taken.delete()
        staffing = sorted({contract for kind, contract, _, _ in rows if kind == STAFFING})
        contracts = sorted({contract for kind, contract, _, _ in rows if kind == CONTRACT})
        figures = sorted({(sla, day) for kind, _, sla, day in rows if kind == FIGURE})
        if staffing:
            check_replacement_obligations(contract_ids=staffing)
        if contracts:
            detect_breaches(contract_ids=contracts, today=today)
        if figures:
            # A figure of a contract just checked whole is already done; checking it again is harmless.
            detect_breaches(figures=figures, today=today)
        figure_contracts = SLA.objects.contract_ids(sla for sla, _ in figures)
        contract_ids = sorted(set(staffing) | set(contracts) | figure_contracts)
    return {
        "figures": len(figures),
        "contracts": len(contracts),
        "staffing": len(staffing),
        "contract_ids": contract_ids,
    }
