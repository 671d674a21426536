"""Replacement obligations (DESIGN.md, ``ReplacementObligation``): one per departed staff member.

The breaches an overdue obligation raises are rule 4 of the SLA engine (``kpis.replacements``).
"""

from django.utils import timezone

from common import sql

from .models import Contract, ReplacementObligation, StaffMember


def ensure_obligation(staff_member):
    """A recorded departure creates (or re-dates, while unfulfilled) its replacement obligation at once; the
    hourly ``create_missing_obligations`` is the safety net."""
    if not staff_member.left_on:
        return None
    due_on = ReplacementObligation.due_date_for(staff_member)
    obligation, created = ReplacementObligation.objects.get_or_create(
        departed=staff_member, defaults={"due_on": due_on}
    )
    if not created and obligation.due_on != due_on and not obligation.is_fulfilled:
        obligation.due_on = due_on
        obligation.save(update_fields=["due_on", "updated_at"])
    return obligation


def create_missing_obligations(now=None, contract_ids=None):
    """One obligation per departed staff member of an active contract (of ``contract_ids`` only, when
    given), ``due_on`` = ``left_on`` + the contract's ``replacement_days``. An existing obligation is
    never rewritten: its dates may have been agreed or corrected by a person. One INSERT … ON CONFLICT
    DO NOTHING."""
    now = sql.adapt_datetime(now or timezone.now())
    restrict, params = sql.in_list("c.id", contract_ids)
    statement = f"""
        INSERT INTO {ReplacementObligation._meta.db_table} (departed_id, due_on, candidate_provided_on,
                    replacement_productive_on, replacement_id, created_at, updated_at)
        SELECT p.id, {sql.add_days("p.left_on", "c.replacement_days")}, NULL, NULL, NULL, %s, %s
        FROM {StaffMember._meta.db_table} p JOIN {Contract._meta.db_table} c ON c.id = p.contract_id
        WHERE p.left_on IS NOT NULL AND c.status = 'active' AND {restrict}
        ON CONFLICT (departed_id) DO NOTHING
    """  # nosec B608  # SQL assembled from model table names and code fragments; values are bound parameters
    return sql.execute(statement, [now, now, *params])
