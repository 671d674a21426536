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

The CSV download (:func:`export_csv_lines`) writes the same cells; at PostgreSQL it reads them as the
database's own text through ``COPY`` (see there), and falls back to the typed rows for a column that needs
its value in Python.
"""

import csv
import datetime
import io
import itertools
from operator import itemgetter

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import connections, models, transaction
from django.utils import timezone
from django.utils.encoding import force_str

from .exports import csv_cell, csv_lines, csv_text

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


def _planned(table, queryset, exclude_columns):
    """The export columns, their plans, the ``values_list`` names the plans index and the queryset annotated
    with the expressions among them."""
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
    return columns, plans, fields, queryset.annotate(**expressions)


def export_rows(table, queryset, exclude_columns=(), chunk_size=2000):
    """The header, then one list of typed cells per row of ``queryset`` (already filtered and sorted).

    The rows are read over a server-side cursor inside a transaction opened here, when the first row is
    asked for: outside a transaction Django declares the cursor ``WITH HOLD`` and PostgreSQL materialises
    the whole result before sending the first row; inside one, rows flow as PostgreSQL produces them and
    memory stays flat. A streamed response asks for rows after the view has returned (and its request
    transaction has committed), so the transaction must be this generator's own.
    """
    columns, plans, fields, annotated = _planned(table, queryset, exclude_columns)
    values = annotated.values_list(*fields)
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


# A list's CSV download at PostgreSQL: the rows as PostgreSQL's own text (``COPY … TO STDOUT``), each cell
# already the CSV field where the database writes it as ``csv_cell`` would (digits, ``Decimal`` as plain
# digits, ISO dates), and fixed in Python where it does not (text made safe, labels, local timestamps).
# COPY streams without round trips: PostgreSQL produces rows on the other core while this process writes
# the previous ones, and the socket's buffer bounds what is in flight (memory stays flat).

# Model fields (by ``get_internal_type()``) whose PostgreSQL text is the CSV field.
_CSV_INTEGERS = {
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveBigIntegerField",
    "PositiveSmallIntegerField",
}
_CSV_AS_IS = _CSV_INTEGERS | {"DecimalField"}  # numeric_out: plain digits at the scale, as format(Decimal, "f")
_CSV_TEXT_FIELDS = {"CharField", "TextField", "EmailField", "URLField", "SlugField"}
_TIMESTAMP = object()  # a cell's fix: epoch microseconds → the local ISO timestamp (the zone is the chunk's)


class _IsoDate(models.Func):
    template = "to_char(%(expressions)s, 'YYYY-MM-DD')"  # date.isoformat(), whatever the DateStyle
    output_field = models.CharField()


class _CsvLabels(dict):
    """A choices column's CSV fields by the value's text; a value without a label is its own text, made safe."""

    def __missing__(self, value):
        return csv_text(value)


def _csv_reading(plan, name, field):
    """How a column is read as text: ``(what to select, fix)``, the fix None (the text as it is), a function
    of the text, or ``_TIMESTAMP``; None when the column needs its typed value (the download then writes
    the typed rows)."""
    if not set(plan.empty_values) <= {None, ""}:  # both are an empty field, and only they
        return None
    if plan.convert is _utc_timestamp:
        return name, _TIMESTAMP
    if plan.convert is not None or field is None or hasattr(field, "from_db_value"):
        return None
    kind = field.get_internal_type()
    if plan.labels is not None:  # by the value's text: str, or int as PostgreSQL writes it
        value_type = str if kind in _CSV_TEXT_FIELDS else int if kind in _CSV_INTEGERS else None
        if any(type(value) is not value_type for value in plan.labels):
            return None
        return name, _CsvLabels({str(value): csv_cell(label) for value, label in plan.labels.items()}).__getitem__
    if kind == "DateTimeField" and settings.USE_TZ:  # aware: written in the current time zone
        return _EpochMicroseconds(name), _TIMESTAMP
    if kind == "DateField":
        return _IsoDate(name), None
    if kind == "BooleanField":
        return name, {"t": "yes", "f": "no"}.__getitem__
    if kind in _CSV_AS_IS:
        return name, None
    if kind in _CSV_TEXT_FIELDS:
        return name, csv_text
    return None


def export_csv_lines(table, queryset, exclude_columns=(), chunk_size=2000, rows_per_chunk=500):
    """The CSV text of what :func:`export_rows` gives (the same bytes as ``csv_lines(export_rows(…))``),
    ``rows_per_chunk`` lines at a time. At PostgreSQL the rows are copied out as text; elsewhere, or when a
    column needs its typed value in Python (a ``convert``, a field read through ``from_db_value``), the
    typed rows are written."""
    columns, plans, fields, annotated = _planned(table, queryset, exclude_columns)
    readings = None
    if connections[queryset.db].vendor == "postgresql":
        readings = [_csv_reading(plan, *_source_field(annotated, fields[plan.indexes[0]])) for plan in plans]
    if readings is None or None in readings:
        yield from csv_lines(export_rows(table, queryset, exclude_columns, chunk_size), rows_per_chunk)
        return
    names, wrapped = [], {}
    for number, (source, _fix) in enumerate(readings):
        if not isinstance(source, str):  # a date or timestamp written as text by the database
            wrapped[f"_csv_{number}"] = source
            source = f"_csv_{number}"
        names.append(source)
    query = annotated.annotate(**wrapped).values_list(*dict.fromkeys(names)).query
    sql, params = query.get_compiler(using=queryset.db).as_sql()
    selected = list(query.selected)  # the columns in the order they are selected (``values_list``'s)
    pick = itemgetter(*[selected.index(name) for name in names], 0)  # two or more: a tuple
    fixes = [(number, fix) for number, (_source, fix) in enumerate(readings) if fix is not None]

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([csv_cell(force_str(column.header, strings_only=True)) for column in columns])
    connection = connections[queryset.db]
    statement = connection.ops.compose_sql(f"COPY ({sql}) TO STDOUT", params)  # COPY takes no parameters
    with transaction.atomic(using=queryset.db, savepoint=False), connection.cursor() as cursor:
        # COPY is planned for its last row, where a cursor is planned for its first: at xl (2.1 M breaches)
        # PostgreSQL would hash-join and sort every row before sending one (5 s to the first row). Without
        # sorts it reads them in the index's order as the cursor did, and sends the first at once (a sort
        # the order needs is still made). Only for a whole list: a filter may keep a few rows, which a sort
        # orders at once where walking the whole index to find them would not. JIT compilation doubles such
        # a plan's time per row (measured at xl: 32 s → 16 s for every breach without it).
        sorts = "on" if query.where else "off"
        cursor.execute("SELECT set_config('enable_sort', %s, true), set_config('jit', 'off', true)", [sorts])
        with cursor.copy(statement) as copy:
            yield from _copied_lines(copy.rows(), pick, fixes, buffer, writer, rows_per_chunk)
    if buffer.tell():
        yield buffer.getvalue()


def _copied_lines(rows, pick, fixes, buffer, writer, rows_per_chunk):
    while chunk := list(itertools.islice(rows, rows_per_chunk)):
        row_fixes = [(number, _local_timestamps() if fix is _TIMESTAMP else fix) for number, fix in fixes]
        for row in chunk:
            fields = list(pick(row))
            fields.pop()
            for number, fix in row_fixes:
                if fields[number] is not None:
                    fields[number] = fix(fields[number])
            writer.writerow(fields)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _source_field(annotated, name):
    """``(name, the model field its values come from)``: an annotation's output field, else the path's."""
    annotation = annotated.query.annotations.get(name)
    return name, annotation.output_field if annotation is not None else _path_field(annotated.model, name)


def _local_timestamps():
    """Epoch microseconds (text) → the ISO timestamp in the current time zone, as ``csv_lines`` writes an
    aware datetime; a chunk's repeated values (rows sorted by the timestamp) are worked out once."""
    zone = timezone.get_current_timezone()
    written = {}

    def text(microseconds):
        if (value := written.get(microseconds)) is None:
            value = written[microseconds] = (
                _utc_timestamp(int(microseconds)).astimezone(zone).isoformat(timespec="seconds")
            )
        return value

    return text
