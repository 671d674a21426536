"""Report tables rendered in Python (one pass, no per-cell template tags): thousands of rows stay fast."""

from django import template
from django.utils.html import conditional_escape, escape
from django.utils.safestring import mark_safe

register = template.Library()

NUMERIC = ("int", "pct", "money")
# The most rows a report page shows; the CSV always has them all.
MAX_ROWS_ON_PAGE = 1000


def _money(value):
    return f"{value:,.2f}"


def cell_html(row, column):
    """One cell, formatted by the column's kind; the ``_link_column`` cell (default ``name``) links to the
    row's ``_link``."""
    value = row.get(column.key)
    if value is None or value == "" or (column.kind == "credits" and not value):
        text = "—"
    elif column.kind == "pct":
        text = f"{value:.1f}" if not isinstance(value, int) else str(value)
    elif column.kind == "money":
        text = _money(value)
    elif column.kind == "int":
        text = f"{value:,}"
    elif column.kind == "date":
        text = f"{value:%Y-%m-%d}"
    elif column.kind == "bool":
        text = "yes" if value else "no"
    elif column.kind == "credits":
        text = ", ".join(f"{currency} {_money(amount)}" for currency, amount in value.items())
    else:
        text = str(value)
    text = escape(text)
    link = row.get("_link")
    if link and column.key == row.get("_link_column", "name"):
        return f'<a href="{conditional_escape(link)}">{text}</a>'
    return text


@register.simple_tag
def report_table_head(table):
    cells = "".join(
        f'<th scope="col"{" class=num" if c.kind in NUMERIC else ""}>{escape(c.label)}</th>' for c in table.columns
    )
    return mark_safe(f"<tr>{cells}</tr>")


@register.simple_tag
def report_table_body(table):
    rows = table.rows[:MAX_ROWS_ON_PAGE]
    if not rows:
        return mark_safe(f'<tr><td colspan="{len(table.columns)}">No data for these filters.</td></tr>')
    out = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{cell_html(row, c)}</td>' if c.kind in NUMERIC else f"<td>{cell_html(row, c)}</td>"
            for c in table.columns
        )
        out.append(f"<tr>{cells}</tr>")
    if len(table.rows) > MAX_ROWS_ON_PAGE:
        out.append(
            f'<tr><td colspan="{len(table.columns)}"><em>Showing the first {MAX_ROWS_ON_PAGE:,} of '
            f"{len(table.rows):,} rows: narrow the filters or download the CSV for all of them.</em></td></tr>"
        )
    return mark_safe("".join(out))
