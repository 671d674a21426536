"""Columns shared by every app's ``tables.py``."""

import django_tables2 as tables
from django.template.defaultfilters import date as date_filter
from django.utils.timezone import template_localtime


class _FormattedDateMixin:
    """Renders ``{{ value|date:format|default:default }}`` as django-tables2's date columns do, without
    compiling that template again for every cell (their ``TemplateColumn`` does)."""

    default_formats = ()  # (short, long): the format setting used when no ``format`` is given

    def __init__(self, format=None, short=True, *args, **kwargs):
        super().__init__(format, short, *args, **kwargs)
        self.date_format = format or self.default_formats[0 if short else 1]

    def render(self, value, bound_column):
        return date_filter(template_localtime(value), self.date_format) or bound_column.default


class DateColumn(_FormattedDateMixin, tables.DateColumn):
    """A date shown with ``format`` on the page and exported as the date itself (a date cell in XLSX,
    ISO in CSV: see ``common.exports``), not as text."""

    default_formats = ("SHORT_DATE_FORMAT", "DATE_FORMAT")

    def value(self, value, **kwargs):
        return value


class DateTimeColumn(_FormattedDateMixin, tables.DateTimeColumn):
    """A timestamp shown with ``format`` on the page and exported as the timestamp itself (in ``TIME_ZONE``,
    see ``common.exports``), not as text."""

    default_formats = ("SHORT_DATETIME_FORMAT", "DATETIME_FORMAT")

    def value(self, value, **kwargs):
        return value
