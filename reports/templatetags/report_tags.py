"""Report tables rendered in Python (one pass, no per-cell template tags): thousands of rows stay fast."""

from html import escape

from django import template
from django.utils.safestring import mark_safe

from common.money import format_money

register = template.Library()

# "money": an amount in the currency named by the row's ``Column.currency`` key; "credits": {currency:
# amount}; "reporting": a ``common.money.MoneyTotal`` shown in the reporting currency (or what is missing).
NUMERIC = ("int", "pct", "money", "reporting")
# The most rows a report page shows; the CSV always has them all.
MAX_ROWS_ON_PAGE = 500


def _text(value, kind, currency=None):
    if value is None or value == "" or (kind in ("credits", "reporting") and not value):
        return "—"
    if kind == "pct":
        return f"{value:.1f}" if not isinstance(value, int) else str(value)
    if kind == "money":
        return format_money(value, currency)
    if kind == "reporting":
        return "—" if value.is_empty else value.reporting_text
    if kind == "int":
        return f"{value:,}"
    if kind == "date":
        return f"{value:%Y-%m-%d}"
    if kind == "bool":
        return "yes" if value else "no"
    if kind == "credits":
        return ", ".join(format_money(amount, currency) for currency, amount in value.items())
    return str(value)


@register.simple_tag
def report_table_head(table):
    cells = "".join(
        f'<th scope="col"{" class=num" if c.kind in NUMERIC else ""}>{escape(c.label)}</th>' for c in table.columns
    )
    return mark_safe(f"<tr>{cells}</tr>")  # nosec B308 B703  # every value in this markup is escaped first (escape / html.escape above)


def _cell_renderer(column):
    """A function row → ``<td>…</td>`` for one column, with its formatting decided once. (The standard
    library's ``html.escape``: Django's lazy-aware ``escape`` costs several times as much per call, and a
    page has tens of thousands of cells.)"""
    key, kind = column.key, column.kind
    currency_key = getattr(column, "currency", None)
    opening = '<td class="num">' if kind in NUMERIC else "<td>"
    plain = kind in NUMERIC or kind in ("date", "bool")  # formatted numbers and dates need no escaping

    def render(row):
        value = row.get(key)
        text = _text(value, kind, row.get(currency_key) if kind == "money" else None)
        if not plain:
            text = escape(text)
        link = row.get("_link")
        if link and key == row.get("_link_column", "name"):
            text = f'<a href="{escape(link)}">{text}</a>'
        return f"{opening}{text}</td>"

    return render


@register.simple_tag
def report_table_body(table):
    rows = table.rows[:MAX_ROWS_ON_PAGE]
    if not rows:
        return mark_safe(f'<tr><td colspan="{len(table.columns)}">No data for these filters.</td></tr>')  # nosec B308 B703  # every value in this markup is escaped first (escape / html.escape above)
    renderers = [_cell_renderer(c) for c in table.columns]
    out = ["<tr>" + "".join(render(row) for render in renderers) + "</tr>" for row in rows]
    total = table.row_count
    if total > len(rows):
        out.append(
            f'<tr><td colspan="{len(table.columns)}"><em>Showing the first {len(rows):,} of '
            f"{total:,} rows: narrow the filters or download the CSV for all of them.</em></td></tr>"
        )
    return mark_safe("".join(out))  # nosec B308 B703  # every value in this markup is escaped first (escape / html.escape above)
