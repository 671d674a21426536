"""The admin reports' tables: django-tables2 tables over the row dicts of ``reports.queries``.

Each report table is a ``ReportTable`` whose columns say how a value is shown on the page (``render``) and
written to a download (``value``, typed for ``common.exports``: numbers, dates, ``None`` for empty). Totals
rows ("All", "All currencies") are pinned (``top_rows`` / ``total_rows``): shown above / below the body
whatever the sort, and exported in the same place. A page shows the first ``MAX_ROWS_ON_PAGE`` rows; the
download always has them all.
"""

import django_tables2 as tables
from django.conf import settings
from django.utils.encoding import force_str
from django.utils.functional import lazy
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django_tables2.data import TableListData
from django_tables2.utils import OrderBy

from common.exports import csv_cell
from common.money import format_money

# The most rows a report page shows; the download always has them all. (500 rows through django-tables2's
# per-cell rendering took 1.2–2.5 s at the large bench preset; ``page_rows`` renders 100 rows in about 5 ms.)
MAX_ROWS_ON_PAGE = 100
EMPTY = "—"


def _reporting_label(label):
    return f"{label} ({settings.REPORTING_CURRENCY})"


# ``Earned (USD)``: a reporting-currency column's heading, read from the settings when shown.
reporting_label = lazy(_reporting_label, str)


class ReportColumn(tables.Column):
    """A column of a report table: ``text`` formats a present value for the page; the row's ``_link`` (a URL,
    on the column named by ``_link_column``, ``name`` by default) makes it a link."""

    numeric = False

    def __init__(self, verbose_name, **kwargs):
        if self.numeric:
            kwargs.setdefault("attrs", {"th": {"class": "num"}, "td": {"class": "num"}})
        kwargs.setdefault("default", EMPTY)
        super().__init__(verbose_name=verbose_name, **kwargs)

    def text(self, value, record):
        return str(value)

    def html(self, value, record, name):
        """The cell on the page: ``text``, a link when the row links from this column (named ``name``)."""
        text = self.text(value, record)
        link = record.get("_link")
        if link and name == record.get("_link_column", "name"):
            return format_html('<a href="{}">{}</a>', link, text)
        return text

    def render(self, value, record, bound_column):
        return self.html(value, record, bound_column.name)

    def value(self, value):
        return value


class TextColumn(ReportColumn):
    pass


class IntColumn(ReportColumn):
    numeric = True

    def text(self, value, record):
        return f"{value:,}"


class PercentColumn(ReportColumn):
    numeric = True

    def text(self, value, record):
        return str(value) if isinstance(value, int) else f"{value:.1f}"


class DateColumn(ReportColumn):
    def text(self, value, record):
        return f"{value:%Y-%m-%d}"


class BoolColumn(ReportColumn):
    def text(self, value, record):
        return "yes" if value else "no"


class MoneyColumn(ReportColumn):
    """An amount in the currency the row names (``currency_key``); the table has that currency as a column,
    so the download holds the number and its currency side by side."""

    numeric = True

    def __init__(self, verbose_name, currency_key="currency", **kwargs):
        self.currency_key = currency_key
        super().__init__(verbose_name, **kwargs)

    def text(self, value, record):
        return format_money(value, record.get(self.currency_key))


class ReportingMoneyColumn(ReportColumn):
    """A ``common.money.MoneyTotal`` in the reporting currency (or what is missing to compute it). Downloads
    get the amount as a number when complete, the text saying what is missing otherwise."""

    numeric = True

    def __init__(self, label, **kwargs):
        kwargs.setdefault("orderable", False)  # an incomplete total has no place in an order
        super().__init__(reporting_label(label), **kwargs)

    def text(self, value, record):
        return EMPTY if value.is_empty else value.reporting_text

    def value(self, value):
        if value.is_empty:
            return None
        return value.reporting if value.complete else f"incomplete: {value.missing_text}"


class CreditsColumn(ReportColumn):
    """``{currency: amount}``: credits in several currencies, never added together."""

    numeric = True

    def __init__(self, verbose_name, **kwargs):
        kwargs.setdefault("orderable", False)
        kwargs.setdefault("empty_values", (None, "", {}))
        super().__init__(verbose_name, **kwargs)

    def text(self, value, record):
        return ", ".join(format_money(amount, currency) for currency, amount in value.items())

    def value(self, value):
        return "; ".join(f"{currency} {csv_cell(amount)}" for currency, amount in value.items()) or None


class QueryOrderedData(TableListData):
    """Rows a query already sorted in the table's order (``ReportTable.sort_keys``), perhaps only the first of
    them: django-tables2 must not sort them again (in Python, by other collation rules)."""

    def order_by(self, aliases):
        pass


class ReportTable(tables.Table):
    """One table of a report page: a title, a slug (its sort parameter's prefix and its ``table=`` in the
    download link), a note, pinned totals rows (django-tables2's pinned rows: they keep their place whatever
    the sort, and ``as_values`` exports them there) and the number of rows the whole table has."""

    sortable = True  # False for a table whose rows only make sense in their order

    def __init__(
        self,
        data,
        *,
        slug,
        title,
        note="",
        top_rows=(),
        total_rows=(),
        total=None,
        name_label=None,
        query_ordered=False,
        **kwargs,
    ):
        self._top_rows, self._total_rows = list(top_rows), list(total_rows)
        if query_ordered:
            data = QueryOrderedData(list(data))
        extra_columns = list(kwargs.pop("extra_columns", []))
        if name_label is not None:  # the first column's heading says what a row is (Vendor, Contract…)
            extra_columns.insert(0, ("name", TextColumn(name_label)))
        # (passed here, not in a ``Meta``: django-tables2 does not inherit a ``Meta`` to subclasses without one)
        super().__init__(
            data,
            prefix=f"{slug}-",
            extra_columns=extra_columns,
            template_name="reports/table.html",
            attrs={"class": "report-table"},
            empty_text="No data for these filters.",
            orderable=self.sortable,
            **kwargs,
        )
        self.slug, self.title, self.note = slug, title, note
        self.data_count = len(data) if total is None else total
        self.row_count = self.data_count + len(self._top_rows) + len(self._total_rows)
        if self.data_count > len(data) and not query_ordered:  # only the first rows: an order would be of those
            self.orderable = False

    def sort_keys(self):
        """The row keys ``?<slug>-sort=`` sorts by, once ``RequestConfig`` configured the table, as django-tables2
        sorts a list: each column's ``order_by`` (its name by default), reversed for ``-``. For a query that
        sorts (and limits) in SQL, then hands the rows over ``query_ordered``."""
        keys = []
        for alias in self.order_by or ():
            keys += self.columns[OrderBy(alias).bare].order_by
        return keys

    def get_top_pinned_data(self):
        return self._top_rows

    def get_bottom_pinned_data(self):
        return self._total_rows

    @property
    def shown_rows(self):
        """The rows the page shows, as django-tables2 rows: the pinned ones and the first ``MAX_ROWS_ON_PAGE``
        of the others."""
        return self.rows[:MAX_ROWS_ON_PAGE]

    def _records(self, limit=None):
        """The row dicts in the table's order (``data`` sorted by ``RequestConfig``), pinned rows in place."""
        data = self.data.data if limit is None else self.data[:limit]
        return [*self._top_rows, *data, *self._total_rows]

    def _cell_columns(self, bound_columns):
        """``(name, key, column, default)`` of each column: what django-tables2 looks up per cell, once."""
        return [(bc.name, str(bc.accessor), bc.column, bc.default) for bc in bound_columns]

    def page_rows(self):
        """The HTML of the cells of each row the page shows (``shown_rows``), rendered in one pass.

        The same cells django-tables2 renders (``row.get_cell``: the default for an empty value, else the
        column's ``html``) without its per-cell dispatch, which inspects the signature of ``render`` for every
        cell and re-computes the column's attributes: 75 % of a page's time. A column's ``td`` attributes are
        the same on every row (report columns have no callable attributes), so they are rendered once."""
        bound_columns = list(self.columns)
        tds = [format_html("<td {}>", attrs) if (attrs := bc.attrs["td"].as_html()) else "<td>" for bc in bound_columns]
        columns = [(*spec, td) for spec, td in zip(self._cell_columns(bound_columns), tds, strict=True)]
        rows = []
        for record in self._records(MAX_ROWS_ON_PAGE):
            cells = []
            for name, key, column, default, td in columns:
                value = record.get(key)
                cell = default if value in column.empty_values else column.html(value, record, name)
                cells.append(f"{td}{conditional_escape(cell)}</td>")
            rows.append(mark_safe("".join(cells)))  # nosec B308 B703  # every cell escaped above
        return rows

    @property
    def shown_count(self):
        return min(len(self.data), MAX_ROWS_ON_PAGE)

    @property
    def truncated(self):
        return self.data_count > self.shown_count

    def export_rows(self):
        """The header and every row's export value, as django-tables2's ``as_values`` gives them (``None`` for an
        empty value, else the column's ``value``), one row at a time, in one pass per row."""
        bound_columns = [bc for bc in self.columns.iterall() if not bc.column.exclude_from_export]
        columns = self._cell_columns(bound_columns)
        yield [force_str(bc.header, strings_only=True) for bc in bound_columns]
        for record in self._records():
            values = []
            for _, key, column, _ in columns:
                value = record.get(key)
                exported = None if value in column.empty_values else column.value(value)
                values.append(force_str(exported, strings_only=True))
            yield values


class ScorecardTable(ReportTable):
    rank = IntColumn("Rank")
    name = TextColumn("Vendor")
    period = TextColumn("Period", order_by=("period_start",))
    measured = IntColumn("Measured")
    met = IntColumn("Met")
    compliance = PercentColumn("Compliance %")
    minor = IntColumn("Minor")
    major = IntColumn("Major")
    missing_reports = IntColumn("Missing reports")
    credits = CreditsColumn("Service credits")
    credits_reporting = ReportingMoneyColumn("Service credits")
    attrition = PercentColumn("Attrition %")
    on_time = IntColumn("Replaced on time")
    late = IntColumn("Late")
    overdue = IntColumn("Overdue")
    score = PercentColumn("Score")
    band = TextColumn("Band")
    score_change = PercentColumn("Change since last quarter")

    def __init__(self, data, *, change_label=None, **kwargs):
        super().__init__(data, **kwargs)
        if change_label:  # per table: django-tables2 copies base_columns for each instance
            self.base_columns["score_change"].verbose_name = change_label


class MonthlyTable(ReportTable):
    """A name column and one percentage column per month (``m0``, ``m1``…), then ``after`` columns."""

    name = TextColumn("Vendor")

    def __init__(self, data, *, month_labels, after=(), **kwargs):
        months = [(f"m{i}", PercentColumn(label)) for i, label in enumerate(month_labels)]
        super().__init__(data, extra_columns=months + list(after), **kwargs)


def compliance_trend_table(rows, month_labels, name_label, note, **kwargs):
    return MonthlyTable(
        rows,
        month_labels=month_labels,
        after=[("total_compliance", PercentColumn("Whole range")), ("measured_total", IntColumn("Measured"))],
        name_label=name_label,
        slug="trend",
        title="Compliance % per month",
        note=note,
        **kwargs,
    )


class CreditsByContractTable(ReportTable):
    month_label = TextColumn("Month", order_by=("month",))
    vendor = TextColumn("Vendor")
    contract = TextColumn("Contract")
    currency = TextColumn("Currency")
    breaches = IntColumn("Major breaches")
    earned = MoneyColumn("Earned")
    earned_reporting = ReportingMoneyColumn("Earned")
    cap = MoneyColumn("Cap")
    percent_of_cap = PercentColumn("% of cap")
    capped = BoolColumn("Capped")
    earned_back = MoneyColumn("Earned back")


class CreditTotalsTable(ReportTable):
    currency = TextColumn("Currency")
    earned = MoneyColumn("Earned")
    earned_reporting = ReportingMoneyColumn("Earned")
    cap = MoneyColumn("Sum of caps")
    earned_back = MoneyColumn("Earned back")

    sortable = False  # one row per currency, then their sum


class CreditsOwedTable(ReportTable):
    vendor = TextColumn("Vendor")
    currency = TextColumn("Currency")
    breaches = IntColumn("Breaches with credit")
    owed = MoneyColumn("Owed")
    owed_reporting = ReportingMoneyColumn("Owed")


class AttritionTable(ReportTable):
    name = TextColumn("Vendor")
    contracted = IntColumn("Contracted")
    headcount = IntColumn("Headcount now")
    gap = IntColumn("Gap")
    departures = IntColumn("Leavers")
    latest_month = PercentColumn("Latest month %")  # headed with the month by the view
    average_monthly = PercentColumn("Avg / month %")
    annualised = PercentColumn("Annualised %")
    pending = IntColumn("Repl. pending")
    overdue = IntColumn("Overdue")
    on_time = IntColumn("On time")
    late = IntColumn("Late")


class SourcingMixTable(ReportTable):
    name = TextColumn("Sourcing model")
    currency = TextColumn("Currency")
    contracts = IntColumn("Contracts")
    monthly_fee = MoneyColumn("Monthly fee")
    baseline = MoneyColumn("In-house baseline")
    savings = MoneyColumn("Savings / month")
    savings_percent = PercentColumn("Savings %")
    monthly_fee_reporting = ReportingMoneyColumn("Monthly fee")
    baseline_reporting = ReportingMoneyColumn("Baseline")
    savings_reporting = ReportingMoneyColumn("Savings / month")
    contracted = IntColumn("Contracted headcount")
    headcount = IntColumn("Actual headcount")


class RenewalsTable(ReportTable):
    notice_deadline = DateColumn("Notice deadline")
    days_left = IntColumn("Days left")
    bucket = TextColumn("When", order_by=("days_left",))
    contract = TextColumn("Contract")
    title = TextColumn("Title")
    vendor = TextColumn("Vendor")
    owner = TextColumn("Owner")
    end_date = DateColumn("Ends")
    auto_renew = BoolColumn("Auto-renews")
    currency = TextColumn("Currency")
    monthly_fee = MoneyColumn("Monthly fee")
    monthly_fee_reporting = ReportingMoneyColumn("Monthly fee")
