"""Rule 4 of DESIGN.md: overdue-replacement breaches.

``check_replacement_obligations()`` is the whole job (``contracts.tasks.check_replacement_obligations``):
a handful of set-based statements, whatever the number of staff, for every contract or only some
(``contract_ids``: a departure or a replacement just recorded).

* Every staff member who left an **active** contract gets their ``ReplacementObligation``
  (``contracts.replacements.create_missing_obligations``).
* An obligation is fulfilled on ``candidate_provided_on`` for a ``bpo`` contract and on
  ``replacement_productive_on`` for ``bpm``/``bps``. Not fulfilled and ``due_on`` < today → a
  ``replacement`` breach (``major``, no credit), ``open``. Fulfilled after ``due_on`` → the breach is
  ``resolved`` (created resolved when the late fulfilment is recorded before the job ever saw it
  overdue): it stays on record. The breach covers ``left_on`` … ``due_on``.
* Rule 5 as for the other breaches (``kpis.breaches``): a breach whose obligation turns out met on
  time (a corrected date) or not yet due is ``withdrawn`` whatever its status, which it gets back if
  it holds again; a late fulfilment resolves an ``open`` or ``acknowledged`` one; ``waived`` and
  ``notes`` are a person's. Every row written gets a history row (who: the SLA engine).
"""

import datetime

from django.utils import timezone

from common import sql
from contracts.models import Contract, ReplacementObligation, StaffMember
from contracts.replacements import create_missing_obligations

from .breaches import BREACH_COLUMNS, HOLDING_STATUS, write_breach_rows
from .models import Breach

BREACHES = Breach._meta.db_table
OBLIGATIONS = ReplacementObligation._meta.db_table
STAFF = StaffMember._meta.db_table
CONTRACTS = Contract._meta.db_table
FULFILLED_ON = "CASE WHEN c.engagement_model = 'bpo' THEN o.candidate_provided_on ELSE o.replacement_productive_on END"


def _obligations(contract_ids):
    """``FROM`` the obligations of departed staff with their contract ``c`` (of ``contract_ids`` only)."""
    restrict, params = sql.in_list("c.id", contract_ids)
    return (
        f"FROM {OBLIGATIONS} o JOIN {STAFF} p ON p.id = o.departed_id JOIN {CONTRACTS} c ON c.id = p.contract_id "
        f"WHERE {restrict}",
        params,
    )


def _overdue(today, contract_ids):
    """The obligations whose breach holds: ``(contract_id, obligation_id, period_start, period_end,
    engine_status)`` — ``open`` while unfulfilled past due, ``resolved`` when fulfilled late."""
    source, params = _obligations(contract_ids)
    today_sql = sql.date_literal(today)
    return (
        f"""SELECT c.id AS contract_id, o.id AS obligation_id, p.left_on AS period_start, o.due_on AS period_end,
                   CASE WHEN ({FULFILLED_ON}) IS NULL THEN 'open' ELSE 'resolved' END AS engine_status
            {source} AND c.status = 'active' AND p.left_on IS NOT NULL AND o.due_on >= p.left_on
              AND ((({FULFILLED_ON}) IS NULL AND o.due_on < {today_sql}) OR ({FULFILLED_ON}) > o.due_on)""",
        params,
    )


def record_replacement_breaches(today, now, contract_ids=None):
    """Rule 4: a breach for each overdue obligation that has none (``open``, or ``resolved`` when fulfilled
    late). One INSERT; the unique obligation key forbids a second row."""
    overdue, params = _overdue(today, contract_ids)
    statement = f"""
        INSERT INTO {BREACHES} ({BREACH_COLUMNS})
        SELECT 'replacement', 'major', d.contract_id, NULL, NULL, d.obligation_id, d.period_start, d.period_end,
               NULL, NULL, NULL, 0, 0, %s, %s, d.engine_status, '', ''
        FROM ({overdue}) d
        WHERE NOT EXISTS (SELECT 1 FROM {BREACHES} b WHERE b.obligation_id = d.obligation_id)
    """  # nosec B608  # SQL assembled from model table names and code fragments; values are bound parameters
    adapted = sql.adapt_datetime(now)
    return write_breach_rows(statement, [adapted, adapted, *params], "+", now)


def update_replacement_breaches(today, now, contract_ids=None):
    """Recorded replacement breaches that hold: a late fulfilment resolves an ``open`` or ``acknowledged``
    one; a withdrawn one comes back with the status a person last gave it (detected anew); the period
    follows corrected dates. The status is decided from the row as it is when it is written."""
    overdue, params = _overdue(today, contract_ids)
    holding = HOLDING_STATUS.format(breach=BREACHES)
    statement = f"""
        UPDATE {BREACHES} SET
            status = CASE WHEN d.engine_status = 'resolved' AND {holding} IN ('open', 'acknowledged') THEN 'resolved'
                          ELSE {holding} END,
            status_before_withdrawal = '',
            detected_at = CASE WHEN {BREACHES}.status = 'withdrawn' THEN %s ELSE {BREACHES}.detected_at END,
            period_start = d.period_start,
            period_end = d.period_end,
            updated_at = %s
        FROM ({overdue}) d
        WHERE {BREACHES}.obligation_id = d.obligation_id AND (
            {BREACHES}.status = 'withdrawn'
            OR (d.engine_status = 'resolved' AND {BREACHES}.status IN ('open', 'acknowledged'))
            OR {BREACHES}.period_start <> d.period_start
            OR {BREACHES}.period_end <> d.period_end
        )
    """  # nosec B608  # SQL assembled from model table names and code fragments; values are bound parameters
    adapted = sql.adapt_datetime(now)
    return write_breach_rows(statement, [adapted, adapted, *params], "~", now)


def withdraw_met_obligation_breaches(today, now, contract_ids=None):
    """A replacement breach whose obligation turns out met on time (a corrected date) or not yet due (a
    corrected due date) is withdrawn, whatever its status (kept for when it holds again). One UPDATE."""
    source, params = _obligations(contract_ids)
    today_sql = sql.date_literal(today)
    statement = f"""
        UPDATE {BREACHES} SET status = 'withdrawn', status_before_withdrawal = {BREACHES}.status, updated_at = %s
        WHERE kind = 'replacement' AND status <> 'withdrawn' AND obligation_id IN (
            SELECT o.id {source}
              AND ((({FULFILLED_ON}) IS NULL AND o.due_on >= {today_sql})
                   OR (({FULFILLED_ON}) IS NOT NULL AND ({FULFILLED_ON}) <= o.due_on))
        )
    """  # nosec B608  # SQL assembled from model table names and code fragments; values are bound parameters
    return write_breach_rows(statement, [sql.adapt_datetime(now), *params], "~", now)


def check_replacement_obligations(today: datetime.date | None = None, contract_ids=None):
    """The whole rule-4 job in one locked transaction, for every contract or only ``contract_ids``;
    returns the rows each step wrote."""
    today = today or timezone.localdate()
    now = timezone.now()
    with sql.job_lock("contracts.check_replacement_obligations"):
        created = create_missing_obligations(now, contract_ids)
        withdrawn = withdraw_met_obligation_breaches(today, now, contract_ids)
        updated = update_replacement_breaches(today, now, contract_ids)
        recorded = record_replacement_breaches(today, now, contract_ids)
        return {
            "obligations_created": created,
            "replacement_breaches_recorded": recorded + updated,
            "replacement_breaches_withdrawn": withdrawn,
        }
