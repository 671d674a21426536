from django import template

from common.table_rows import render_rows

register = template.Library()


@register.simple_tag(takes_context=True)
def table_rows(context, table):
    """``{% table_rows table %}``: the body rows of a django-tables2 table in one pass (``common.table_rows``)."""
    return render_rows(table, context)
