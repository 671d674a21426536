"""How many rows a list page says it has, without counting millions of rows on every page view.

``ListPaginator`` is the paginator of every app list (``common.views.ObjectListView``). Without a ``cap`` it
counts exactly, as Django's paginator does. With one (the breach and staff lists: millions and hundreds of
thousands of rows at the xl preset) it runs one query either way:

* unfiltered: PostgreSQL's planner estimate when the table holds more than ``cap`` rows, shown as
  "about N" (``common.admin_tools.table_row_count``, as the admin changelists do), else ``COUNT(*)``;
* filtered: it counts at most ``cap + 1`` matching rows; beyond that the page says "more than N" and pages
  on that far (narrow the filters, or export, for the rest).

A view that counts the rows itself (the breach list counts them with its credit totals, in one query) hands
the result in as ``known_count``.
"""

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.utils.functional import cached_property

from common.admin_tools import table_row_count

EXACT, ESTIMATE, AT_LEAST = "exact", "estimate", "at_least"


@dataclass(frozen=True)
class RowCount:
    value: int
    kind: str = EXACT  # EXACT, ESTIMATE (the planner's) or AT_LEAST (a capped count that reached its cap)

    def __str__(self):
        if self.kind == ESTIMATE:
            return f"about {self.value:,}"
        if self.kind == AT_LEAST:
            return f"more than {self.value - 1:,}"
        return f"{self.value:,}"


def count_rows(queryset, cap):
    """The ``RowCount`` of a queryset in one query: exact up to ``cap`` rows (see the module's docstring)."""
    if not queryset.query.where:
        estimate = table_row_count(queryset.model, queryset.db, cap)
        if estimate is not None:
            return RowCount(estimate, ESTIMATE if estimate > cap else EXACT)
    counted = queryset.order_by()[: cap + 1].count()
    return RowCount(counted, AT_LEAST if counted > cap else EXACT)


class ListPaginator(Paginator):
    def __init__(self, object_list, per_page, *args, cap=None, known_count=None, **kwargs):
        super().__init__(object_list, per_page, *args, **kwargs)
        self.cap = cap
        self.known_count = known_count

    @cached_property
    def row_count(self):
        if self.known_count is not None:
            return self.known_count
        queryset = _queryset(self.object_list)
        if self.cap is None or queryset is None:
            return RowCount(super().count)
        return count_rows(queryset, self.cap)

    @cached_property
    def count(self):
        return self.row_count.value


def _queryset(rows):
    """The queryset under what django-tables2 paginates (its ``BoundRows`` over ``TableQuerysetData``)."""
    data = getattr(getattr(rows, "data", None), "data", rows)
    return data if hasattr(data, "query") else None
