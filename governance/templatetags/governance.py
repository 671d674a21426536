"""Governance panels on pages of lower apps (contract, breach, staff member): those apps' templates load this
library; their views know nothing of governance. Each panel runs a fixed number of queries."""

from django import template

from access import permissions

from .. import raci, scorecards
from ..models import CorrectiveAction

register = template.Library()


@register.inclusion_tag("governance/panels/contract.html", takes_context=True)
def contract_governance(context, contract):
    label, top, bottom = scorecards.performers(contract)
    return {
        "contract": contract,
        "can_edit": permissions.can_change(context["request"].user, contract),
        "actions": list(
            CorrectiveAction.objects.filter(contract=contract).with_effectiveness().order_by("-opened_on", "-pk")[:10]
        ),
        "grid": raci.grid_of(contract),
        "performers_period": label,
        "top": top,
        "bottom": bottom,
    }


@register.inclusion_tag("governance/panels/breach.html", takes_context=True)
def breach_governance(context, breach):
    return {
        "breach": breach,
        "can_edit": context.get("can_edit"),
        "actions": list(breach.corrective_actions.with_effectiveness().order_by("-opened_on", "-pk")),
    }


@register.inclusion_tag("governance/panels/breach_selection.html")
def breach_selection_form():
    """The breach list's form: the breaches ticked in its table (``kpis.tables.BreachSelectColumn``) open a
    corrective action."""
    return {}


@register.inclusion_tag("governance/panels/staff.html")
def staff_scorecard(member):
    return {"member": member, "cards": scorecards.member_scorecard(member)}
