from django import template
from django.utils.html import format_html

from common.money import format_money

register = template.Library()

_BADGES = {
    # breach severity / status, obligation state, outcome, contract & vendor status, risk
    "major": "danger",
    "minor": "warning",
    "open": "danger",
    "acknowledged": "warning",
    "waived": "secondary",
    "resolved": "success",
    "withdrawn": "light",
    "overdue": "danger",
    "pending": "info",
    "fulfilled_on_time": "success",
    "fulfilled_late": "warning",
    "met": "success",
    # corrective actions
    "in_progress": "info",
    "done": "primary",
    "verified": "success",
    "cancelled": "light",
    "active": "success",
    "draft": "secondary",
    "terminated": "dark",
    "expired": "dark",
    "prospect": "info",
    "on_hold": "warning",
    "offboarded": "dark",
    "low": "success",
    "medium": "info",
    "high": "warning",
    "critical": "danger",
    "none": "light",
}


@register.simple_tag
def badge(value, label=None):
    """A coloured Bootstrap badge for a choice value: ``{% badge breach.status breach.get_status_display %}``."""
    key = str(value or "none").lower()
    colour = _BADGES.get(key, "secondary")
    text_class = " text-dark" if colour in ("warning", "light", "info") else ""
    return format_html('<span class="badge text-bg-{}{}">{}</span>', colour, text_class, label or value or "—")


@register.inclusion_tag("common/field.html")
def field(bound_field, inline=False):
    return {"field": bound_field, "inline": inline}


@register.filter
def percent(value, digits=1):
    if value is None or value == "":
        return "—"
    return f"{float(value):.{int(digits)}f} %"


@register.filter
def money(value, currency):
    """``{{ amount|money:currency }}`` → ``USD 1,234.50`` (``common.money.format_money``)."""
    return format_money(value, currency)


@register.inclusion_tag("common/money_total.html")
def money_total(total, css_class="stat", empty_currency=None):
    """A ``MoneyTotal``: one line per currency, then the reporting-currency total when something was
    converted (marked incomplete, with the missing rates, when a month had none)."""
    return {"total": total, "css_class": css_class, "empty_currency": empty_currency or total.reporting_currency}
