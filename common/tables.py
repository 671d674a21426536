"""Columns shared by every app's ``tables.py``."""

import django_tables2 as tables


class DateColumn(tables.DateColumn):
    """A date shown with ``format`` on the page and exported as the date itself (a date cell in XLSX,
    ISO in CSV: see ``common.exports``), not as text."""

    def value(self, value, **kwargs):
        return value


class DateTimeColumn(tables.DateTimeColumn):
    """A timestamp shown with ``format`` on the page and exported as the timestamp itself (in ``TIME_ZONE``,
    see ``common.exports``), not as text."""

    def value(self, value, **kwargs):
        return value
