"""``{% figures_url sla period_start %}``: the KPI entry page opened on exactly that period of the SLA."""

from django import template

from kpis.entry import sla_entry_url

register = template.Library()


@register.simple_tag
def figures_url(sla, period_start):
    return sla_entry_url(sla, period_start)
