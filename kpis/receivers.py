"""Rule 5's "within seconds": the model changes that decide what is owed ask for the checks they need
(``kpis.pending``), in the change's own transaction, whichever door the change came through (web,
admin, API, shell). Bulk writes that send no signals (imports, admin bulk actions) ask explicitly.

Connected in ``KpisConfig.ready``. The engine's own writes are raw SQL and send no signals.
"""

from django.db.models.signals import post_delete, post_save

from contracts.models import Contract, ReplacementObligation, StaffMember

from . import pending
from .choices import BreachKind
from .models import SLA, Breach, Measurement


def figure_changed(sender, instance, **kwargs):
    pending.request_figure_check([(instance.sla_id, instance.period_start)])


def breach_changed_by_a_person(sender, instance, created=False, **kwargs):
    """A waiver given or taken back changes the month's credits (the engine's writes send no signal)."""
    if instance.kind != BreachKind.REPLACEMENT and instance.sla_id:
        pending.request_figure_check([(instance.sla_id, instance.period_start)])


def contract_terms_changed(sender, instance, **kwargs):
    """Fee, at-risk %, dates, earn-back, status, grace days: every period of the contract."""
    pending.request_contract_check([instance.pk])
    pending.request_staffing_check([instance.pk])


def sla_changed(sender, instance, **kwargs):
    pending.request_contract_check([instance.contract_id])


def staffing_changed(sender, instance, **kwargs):
    pending.request_staffing_check([instance.contract_id])


def obligation_changed(sender, instance, **kwargs):
    contract_id = StaffMember.objects.filter(pk=instance.departed_id).values_list("contract_id", flat=True).first()
    if contract_id is not None:
        pending.request_staffing_check([contract_id])


def connect():
    uid = "kpis.receivers."
    for signal in (post_save, post_delete):
        signal.connect(figure_changed, sender=Measurement, dispatch_uid=f"{uid}figure.{signal}")
        signal.connect(sla_changed, sender=SLA, dispatch_uid=f"{uid}sla.{signal}")
        signal.connect(staffing_changed, sender=StaffMember, dispatch_uid=f"{uid}staff.{signal}")
        signal.connect(obligation_changed, sender=ReplacementObligation, dispatch_uid=f"{uid}obligation.{signal}")
    post_save.connect(breach_changed_by_a_person, sender=Breach, dispatch_uid=f"{uid}breach")
    post_save.connect(contract_terms_changed, sender=Contract, dispatch_uid=f"{uid}contract")
