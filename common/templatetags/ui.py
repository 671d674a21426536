from django import template
from django.utils.html import format_html

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
def money(value, currency=""):
    if value is None or value == "":
        return "—"
    return f"{currency} {value:,.2f}".strip()
