"""A django-tables2 table body rendered in one pass: the same HTML as the stock template, a fraction of the cost.

The stock ``bootstrap5`` template renders every cell through the template engine, and django-tables2 works
out each cell's render method's signature (``inspect.signature``), the column's attributes and whether the
field has choices again for every cell: 70–80 % of a list page's time went there (``bench/NOTES.md``,
"Pages and throughput"). Here each column is prepared once per page (render method and the arguments it
takes, link, default, ``<td>`` attributes when they do not depend on the cell), then every row is one loop
over those plans. What a cell shows is decided exactly as django-tables2 decides it (``BoundRow.get_cell``:
``get_FOO_display()`` for a field with choices, empty values → the column's default, the column's or the
table's ``render_FOO``, ``linkify``) and written as ``{{ cell }}`` would (localized, escaped);
``common/tests/test_table_rows.py`` holds every list table of the app to the stock template's output.
"""

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.template.base import render_value_in_context
from django.templatetags.l10n import localize, unlocalize
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django_tables2.columns.linkcolumn import BaseLinkColumn
from django_tables2.columns.manytomanycolumn import ManyToManyColumn
from django_tables2.utils import Accessor, signature


def _attrs_depend_on_cell(table, column):
    """True when a ``<td>`` attribute is a callable (it may read the record or value), as
    ``BoundColumn.attrs`` computes them: the table's attrs, then the column's, ``td`` else ``cell``."""
    attrs = {**table.attrs, **column.attrs}
    td = attrs.get("td", attrs.get("cell", {}))
    return any(callable(value) for value in td.values())


class CellPlan:
    """What one column needs to render its cell of any row, worked out once per page."""

    def __init__(self, table, bound_column, context):
        self.table, self.bound_column, self.context = table, bound_column, context
        self.column = bound_column.column
        self.accessor = Accessor(bound_column.accessor)
        path, _, self.remainder = self.accessor.rpartition(self.accessor.SEPARATOR)
        self.parent_accessor = Accessor(path)
        self.default = bound_column.default
        self.empty_values = self.column.empty_values
        self.many_to_many = isinstance(self.column, ManyToManyColumn)
        self.text_link = isinstance(self.column, BaseLinkColumn) and self.column.text is not None
        self.render = bound_column.render
        names, catch_all = signature(self.render)
        self.argument_names = None if catch_all else names
        self.link = bound_column.link
        self.localize = self.column.localize
        self.dynamic_attrs = _attrs_depend_on_cell(table, self.column)
        self.static_td = None if self.dynamic_attrs else self._td_html()
        self._choices = {}  # model class of the cell's parent object → whether to use get_FOO_display()

    def _td_html(self):
        return self.bound_column.attrs["td"].as_html()

    def _uses_display(self, record, parent):
        """``get_FOO_display()`` is used when the accessor's field has choices and the parent object has
        that method: the same for every record of one model class, so decided once per class."""
        key = (type(record), type(parent))
        if key not in self._choices:
            try:
                field = self.accessor.get_field(record)
            except FieldDoesNotExist:
                field = None
            has_display = callable(getattr(parent, f"get_{self.remainder}_display", None))
            self._choices[key] = bool(getattr(field, "choices", ())) and has_display
        return self._choices[key]

    def _call_render(self, row, value=None):
        # The arguments django-tables2 offers a render method (``BoundRow._optional_cell_arguments``).
        arguments = {
            "value": value,
            "record": row.record,
            "column": self.column,
            "bound_column": self.bound_column,
            "bound_row": row,
            "table": self.table,
        }
        if self.argument_names is None:
            content = self.render(**arguments)
        elif all(name in arguments for name in self.argument_names):
            content = self.render(**{name: arguments[name] for name in self.argument_names})
        else:
            content = None  # as django-tables2: a render method asking for an unknown argument is not called
        return self.link(content, **arguments) if self.link else content

    def content(self, row):
        """The cell as ``BoundRow.get_cell`` makes it."""
        record = row.record
        value = None
        remainder = self.remainder
        parent = self.parent_accessor.resolve(record, quiet=True)
        if isinstance(parent, models.Model) and self._uses_display(record, parent):
            value = getattr(parent, f"get_{remainder}_display")()
            remainder = None
        if remainder:
            try:
                value = self.accessor.resolve(record)
            except Exception:  # as django-tables2: a column that is not a field (issue #257)
                if self.text_link:
                    return self._call_render(row)
        if value in self.empty_values or (self.many_to_many and not value.exists()):
            return self.default
        return self._call_render(row, value)

    def html(self, row):
        cell = self.content(row)
        if self.dynamic_attrs:  # what BoundRow.items() leaves on the column for its attrs' callables
            self.bound_column.current_value = cell
            self.bound_column.current_record = row.record
            td = self._td_html()
        else:
            td = self.static_td
        if self.localize is not None:
            cell = localize(cell) if self.localize else unlocalize(cell)
        return f"<td {td}>{render_value_in_context(cell, self.context)}</td>"


def render_rows(table, context):
    """The ``<tr>`` rows of the table's current page (or its empty text), as the stock template writes them."""
    plans = [CellPlan(table, bound_column, context) for bound_column in table.columns]
    out = []
    for row in table.paginated_rows:
        cells = "".join(plan.html(row) for plan in plans)
        out.append(f"<tr {row.attrs.as_html()}>{cells}</tr>")
    if not out and table.empty_text:
        out.append(format_html('<tr><td colspan="{}">{}</td></tr>', len(table.columns), table.empty_text))
    return mark_safe("\n".join(out))  # nosec B308 B703  # every cell escaped above (render_value_in_context)
