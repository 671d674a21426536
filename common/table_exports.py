"""A list's download read straight from SQL: the table's export columns as ``values_list`` rows.

django-tables2's ``as_values()`` builds a model instance per row (with every ``select_related`` model) and
then a ``BoundRow`` per cell: about 1,000 rows/s on the breach list (``bench/NOTES.md``, "Exports"). Here
each export column is planned once — which SQL value(s) it reads and how they become the cell — and the
rows come from one ``values_list`` query over the same filtered, sorted queryset.

A column's export value is read from its accessor (``contract__reference`` for ``contract.reference``); a
field with choices gives its label, looked up once (what ``get_FOO_display()`` returns); an empty value
(the column's ``empty_values``) is an empty cell, as ``as_values()`` makes it. A column whose export value
is not its accessor's field (a related object's name, a label computed in Python) says how it is read
in the table's ``export_values``: ``{"vendor": "contract__vendor__name", "status": ExportValue("status",
"end_date", convert=...)}``. ``common/tests/test_table_exports.py`` holds every list table to
``as_values()``, cell for cell.
"""

import datetime
from operator import itemgetter

from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import connections, models, transaction
from django.utils.encoding import force_str

_UTC_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


class _EpochMicroseconds(models.Func):
    """A timestamp as whole microseconds since 1970 (exact). Django reads ``timestamptz`` through a loader
    written in Python (a regular expression per value: a fifth of a download's time); a ``bigint`` is read
    in C and :func:`_utc_timestamp` turns it back into the same aware datetime."""

    template = "(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::bigint"
    output_field = models.BigIntegerField()
    # PostgreSQL gives a bigint as an int already: no per-row int() converter (it would copy every row).
    convert_value = staticmethod(models.Func._convert_value_noop)


def _utc_timestamp(microseconds):
    return None if microseconds is None else _UTC_EPOCH + datetime.timedelta(microseconds=microseconds)


class ExportValue:
    """How one export column is read: the ``values_list`` entries it needs (paths or expressions) and,
    for more than one or for a value computed in Python, ``convert(*values)`` giving the cell."""

    def __init__(self, *sources, convert=None):
        if len(sources) > 1 and convert is None:
            raise ImproperlyConfigured("An ExportValue over several values needs convert=.")
        self.sources, self.convert = sources, convert


def _path_field(model, path):
    """The model field ``path`` ends at (None for an annotation). A path through a to-many relation is an
    error: ``values_list`` would give one row per related object, not one per record."""
    field = None
    for name in path.split("__"):
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            return None  # an annotation (counts, computed flags): its value is the cell
        if field.is_relation:
            if field.many_to_many or field.one_to_many:
                raise ImproperlyConfigured(f"Export column over the to-many relation {path!r}.")
            model = field.related_model
    return field


def _choice_labels(model, path):
    """``{value: label}`` when ``path`` ends at a field with choices (else None); an error when it ends at
    a relation, whose export value (the related object's text) has no single column."""
    field = _path_field(model, path)
    if field is not None and field.is_relation:
        raise ImproperlyConfigured(
            f"Export column over the relation {path!r}: name the related field it exports in export_values."
        )
    if getattr(field, "choices", None):
        return {value: force_str(label, strings_only=True) for value, label in field.flatchoices}
    return None


class _ColumnPlan:
    """One export column, worked out once: where its values sit in a ``values_list`` row and how they
    become the cell."""

    def __init__(self, bound_column, spec, model, sources, vendor):
        self.empty_values = bound_column.column.empty_values
        self.labels = None
        if spec is None:  # the accessor's field, by its label when it has choices
            path = bound_column.accessor.replace(".", "__")
            spec, self.labels = ExportValue(path), _choice_labels(model, path)
            if vendor == "postgresql" and isinstance(_path_field(model, path), models.DateTimeField):
                spec = ExportValue(_EpochMicroseconds(path), convert=_utc_timestamp)
        elif not isinstance(spec, ExportValue):  # a declared path or expression: its value as it is
            spec = ExportValue(spec)
        for source in spec.sources:
            if isinstance(source, str):
                _path_field(model, source)
        self.convert = spec.convert
        self.indexes = [self._add(sources, source) for source in spec.sources]
        # The value as the database gives it, only "" read as empty: taken without a call per cell.
        self.plain = self.convert is None and self.labels is None and set(self.empty_values) <= {None, ""}

    @staticmethod
    def _add(sources, source):
        if source not in sources:
            sources.append(source)
        return sources.index(source)

    def cell(self, row):
        if self.convert is not None:
            value = force_str(self.convert(*[row[index] for index in self.indexes]), strings_only=True)
        else:  # a value from the database (str, number, date, None) or a label (forced to str once)
            value = row[self.indexes[0]]
            if self.labels is not None:
                value = self.labels.get(value, value)
        return None if value in self.empty_values else value


def export_columns(table, exclude_columns=()):
    """The bound columns a download holds, in order (as ``as_values()`` picks them)."""
    return [
        column
        for column in table.columns.iterall()
        if not (column.column.exclude_from_export or column.name in exclude_columns)
    ]


def export_rows(table, queryset, exclude_columns=(), chunk_size=2000):
    """The header, then one list of typed cells per row of ``queryset`` (already filtered and sorted).

    The rows are read over a server-side cursor inside a transaction opened here, when the first row is
    asked for: outside a transaction Django declares the cursor ``WITH HOLD`` and PostgreSQL materialises
    the whole result before sending the first row; inside one, rows flow as PostgreSQL produces them and
    memory stays flat. A streamed response asks for rows after the view has returned (and its request
    transaction has committed), so the transaction must be this generator's own.
    """
    columns = export_columns(table, exclude_columns)
    declared = getattr(table, "export_values", {})
    sources = []
    vendor = connections[queryset.db].vendor
    plans = [_ColumnPlan(column, declared.get(column.name), queryset.model, sources, vendor) for column in columns]
    fields, expressions = [], {}
    for number, source in enumerate(sources):
        if isinstance(source, str):
            fields.append(source)
        else:  # an expression (``person_name("owner")``, ``Upper(...)``): read under a name of its own
            fields.append(f"_export_{number}")
            expressions[fields[-1]] = source
    values = queryset.annotate(**expressions).values_list(*fields)
    _cells = _row_builder(plans)
    yield [force_str(column.header, strings_only=True) for column in columns]
    with transaction.atomic(using=queryset.db, savepoint=False):  # read-only: no savepoint when nested
        for row in values.iterator(chunk_size=chunk_size):
            yield _cells(row)


def _row_builder(plans):
    """A function from a ``values_list`` row to its cells: the plain columns picked in C
    (``itemgetter``), the others through their plan."""
    pick = itemgetter(*[plan.indexes[0] for plan in plans], 0)  # two or more: itemgetter gives a tuple
    special = [(number, plan) for number, plan in enumerate(plans) if not plan.plain]
    blank_is_empty = {number for number, plan in enumerate(plans) if plan.plain and "" in plan.empty_values}

    def cells(row):
        values = list(pick(row))
        values.pop()
        for number, plan in special:
            values[number] = plan.cell(row)
        if "" in values:
            values = [None if value == "" and n in blank_is_empty else value for n, value in enumerate(values)]
        return values

    return cells
