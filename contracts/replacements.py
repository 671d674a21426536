"""Rule 4 of DESIGN.md: replacement obligations and overdue-replacement breaches.

``check_replacement_obligations()`` is the whole job (``contracts.tasks.check_replacement_obligations``):
three set-based statements, whatever the number of staff.

* Every staff member who left an **active** contract gets their ``ReplacementObligation``
  (``due_on`` = ``left_on`` + the contract's ``replacement_days``). An existing obligation is never
  rewritten: its dates may have been agreed or corrected by a person.
* An obligation is fulfilled on ``candidate_provided_on`` for a ``bpo`` contract and on
  ``replacement_productive_on`` for ``bpm``/``bps`` (``ReplacementObligation.objects.with_fulfilment()``).
  Not fulfilled and ``due_on`` < today → a ``replacement`` breach (``major``, no credit), ``open``.
  Fulfilled after ``due_on`` → the breach is ``resolved`` (created resolved when the late fulfilment
  is recorded before the job ever saw it overdue): it stays on record.
* Status transitions the engine makes: ``open``/``acknowledged`` → ``resolved`` on late fulfilment;
  ``withdrawn`` → ``open`` when overdue again; ``open`` → ``withdrawn`` when a corrected date shows the
  obligation was met on time (or is no longer due). ``waived`` is a person's decision and is kept,
  as are ``notes``. The breach covers ``left_on`` … ``due_on``.
"""

import datetime

from django.utils import timezone

from kpis import sql
from kpis.breaches import BREACH_COLUMNS
from kpis.models import Breach

from .models import Contract, ReplacementObligation, StaffMember


def _tables():
    return {
        "B": Breach._meta.db_table,
        "O": ReplacementObligation._meta.db_table,
        "P": StaffMember._meta.db_table,
        "C": Contract._meta.db_table,
    }


FULFILLED_ON = "CASE WHEN c.engagement_model = 'bpo' THEN o.candidate_provided_on ELSE o.replacement_productive_on END"


def create_missing_obligations(now=None):
    """One obligation per departed staff member of an active contract. One INSERT … ON CONFLICT DO NOTHING."""
    t = _tables()
    now = sql.adapt_datetime(now or timezone.now())
    statement = f"""
        INSERT INTO {t["O"]} (departed_id, due_on, candidate_provided_on, replacement_productive_on,
                              replacement_id, created_at, updated_at)
        SELECT p.id, {sql.add_days("p.left_on", "c.replacement_days")}, NULL, NULL, NULL, %s, %s
        FROM {t["P"]} p JOIN {t["C"]} c ON c.id = p.contract_id
        WHERE p.left_on IS NOT NULL AND c.status = 'active'
        ON CONFLICT (departed_id) DO NOTHING
    """
    return sql.execute(statement, [now, now])


def record_replacement_breaches(today, now=None):
    """Rule 4: overdue obligations → ``open`` breach; late fulfilment → ``resolved``. One upsert."""
    t = _tables()
    B = t["B"]
    now = sql.adapt_datetime(now or timezone.now())
    today_sql = sql.date_literal(today)
    statement = f"""
        INSERT INTO {B} ({BREACH_COLUMNS})
        SELECT 'replacement', 'major', c.id, NULL, NULL, o.id, p.left_on, o.due_on, NULL, NULL, NULL, 0, 0, %s, %s,
               CASE WHEN ({FULFILLED_ON}) IS NULL THEN 'open' ELSE 'resolved' END, ''
        FROM {t["O"]} o
        JOIN {t["P"]} p ON p.id = o.departed_id
        JOIN {t["C"]} c ON c.id = p.contract_id
        WHERE c.status = 'active' AND p.left_on IS NOT NULL AND o.due_on >= p.left_on
          AND ((({FULFILLED_ON}) IS NULL AND o.due_on < {today_sql}) OR ({FULFILLED_ON}) > o.due_on)
        ON CONFLICT (obligation_id) DO UPDATE SET
            status = CASE
                WHEN excluded.status = 'resolved' AND {B}.status IN ('open', 'acknowledged') THEN 'resolved'
                WHEN excluded.status = 'open' AND {B}.status = 'withdrawn' THEN 'open'
                ELSE {B}.status END,
            detected_at = CASE
                WHEN excluded.status = 'open' AND {B}.status = 'withdrawn' THEN excluded.detected_at
                ELSE {B}.detected_at END,
            period_start = excluded.period_start,
            period_end = excluded.period_end,
            updated_at = excluded.updated_at
        WHERE (excluded.status = 'resolved' AND {B}.status IN ('open', 'acknowledged'))
           OR (excluded.status = 'open' AND {B}.status = 'withdrawn')
           OR {B}.period_start <> excluded.period_start
           OR {B}.period_end <> excluded.period_end
    """
    return sql.execute(statement, [now, now])


def withdraw_met_obligation_breaches(today, now=None):
    """An ``open`` replacement breach whose obligation turns out met on time (a corrected date) or not
    yet due (a corrected due date) is withdrawn. One UPDATE."""
    t = _tables()
    B = t["B"]
    today_sql = sql.date_literal(today)
    statement = f"""
        UPDATE {B} SET status = 'withdrawn', updated_at = %s
        WHERE kind = 'replacement' AND status = 'open' AND obligation_id IN (
            SELECT o.id FROM {t["O"]} o
            JOIN {t["P"]} p ON p.id = o.departed_id
            JOIN {t["C"]} c ON c.id = p.contract_id
            WHERE (({FULFILLED_ON}) IS NULL AND o.due_on >= {today_sql})
               OR (({FULFILLED_ON}) IS NOT NULL AND ({FULFILLED_ON}) <= o.due_on)
        )
    """
    return sql.execute(statement, [sql.adapt_datetime(now or timezone.now())])


def check_replacement_obligations(today: datetime.date | None = None):
    """The whole rule-4 job in one locked transaction; returns the rows each step wrote."""
    today = today or timezone.localdate()
    now = timezone.now()
    with sql.job_lock("contracts.check_replacement_obligations"):
        return {
            "obligations_created": create_missing_obligations(now),
            "replacement_breaches_recorded": record_replacement_breaches(today, now),
            "replacement_breaches_withdrawn": withdraw_met_obligation_breaches(today, now),
        }


def overdue_obligations(today=None, contracts=None):
    """Open overdue obligations (not fulfilled, past due) with what a list needs, for the digest/dashboard."""
    queryset = ReplacementObligation.objects.overdue(today).select_related("departed__contract__vendor")
    if contracts is not None:
        queryset = queryset.filter(departed__contract__in=contracts)
    return queryset.order_by("due_on", "pk")
