from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.html import format_html, format_html_join

register = template.Library()


def _money(value):
    return intcomma(f"{value:.2f}")


@register.simple_tag
def report_cell(row, column):
    """One table cell, formatted by the column's kind; the ``_link_column`` cell (default ``name``) links to
    the row's ``_link``."""
    value = row.get(column.key)
    if value is None or value == "":
        text = "—"
    elif column.kind == "pct":
        text = f"{value:.1f}" if not isinstance(value, int) else str(value)
    elif column.kind == "money":
        text = _money(value)
    elif column.kind == "int":
        text = intcomma(value)
    elif column.kind == "date":
        text = f"{value:%Y-%m-%d}"
    elif column.kind == "bool":
        text = "yes" if value else "no"
    elif column.kind == "credits":
        if not value:
            text = "—"
        else:
            return format_html_join(", ", "{} {}", ((c, _money(a)) for c, a in value.items()))
    else:
        text = str(value)
    link = row.get("_link")
    if link and column.key == row.get("_link_column", "name"):
        return format_html('<a href="{}">{}</a>', link, text)
    return text


@register.filter
def is_numeric(column):
    return column.kind in ("int", "pct", "money")
