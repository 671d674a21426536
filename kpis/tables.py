import django_tables2 as tables
from django.utils.html import format_html

from common.money import format_money
from common.tables import DateColumn, DateTimeColumn
from common.templatetags.ui import badge

from .choices import BreachStatus
from .models import Breach


class BreachSelectColumn(tables.Column):
    """A checkbox (``name="breaches"``, in the page's form ``breach-selection``) on the rows the user may act
    on: breaches that hold (not withdrawn) of contracts the user may change. Never exported."""

    SELECT_FORM = "breach-selection"

    def __init__(self, **kwargs):
        kwargs.setdefault("verbose_name", "Select")
        super().__init__(accessor="pk", orderable=False, exclude_from_export=True, empty_values=(), **kwargs)

    def render(self, record, table):
        user = table.request.user
        if record.status == BreachStatus.WITHDRAWN or not user.has_perm("kpis.change_breach", record):
            return ""
        return format_html(
            '<input type="checkbox" class="form-check-input" name="breaches" value="{}" form="{}" '
            'data-contract="{}" aria-label="Select breach #{}">',
            record.pk,
            self.SELECT_FORM,
            record.contract_id,
            record.pk,
        )


class BreachTable(tables.Table):
    id = tables.Column(linkify=True, verbose_name="#")
    period_start = DateColumn(format="Y-m-d", verbose_name="Period", attrs={"td": {"class": "nowrap"}})
    period_end = DateColumn(format="Y-m-d", verbose_name="Period end", visible=False)
    kind = tables.Column()
    severity = tables.Column()
    vendor = tables.Column(accessor="contract__vendor", order_by="contract__vendor__name", linkify=True)
    contract = tables.Column(linkify=True, order_by="contract__reference", attrs={"td": {"class": "nowrap"}})
    sla = tables.Column(
        accessor="sla__kpi__name", verbose_name="KPI", order_by="sla__kpi__name", attrs={"td": {"class": "nowrap"}}
    )
    expected = tables.Column(attrs={"td": {"class": "text-end"}})
    minimum = tables.Column(attrs={"td": {"class": "text-end"}}, visible=False)
    actual = tables.Column(attrs={"td": {"class": "text-end"}})
    service_credit = tables.Column(verbose_name="Credit", attrs={"td": {"class": "text-end nowrap"}})
    # exports only (the page shows the currency inside the credit): money never without its currency
    currency = tables.Column(accessor="contract__currency", verbose_name="Currency", visible=False)
    status = tables.Column()
    detected_at = DateTimeColumn(format="Y-m-d", verbose_name="Detected", attrs={"td": {"class": "nowrap"}})

    # How the export reads what value_FOO gives (``common.table_exports``; held to as_values() by a test).
    export_values = {
        "vendor": "contract__vendor__name",
        "contract": "contract__reference",
        "currency": "contract__currency",
    }

    class Meta:
        model = Breach
        fields = (
            "id",
            "period_start",
            "period_end",
            "kind",
            "severity",
            "vendor",
            "contract",
            "sla",
            "expected",
            "minimum",
            "actual",
            "service_credit",
            "currency",
            "status",
            "detected_at",
        )
        order_by = ("-detected_at",)
        empty_text = "No breaches match these filters."

    def render_period_start(self, value, record):
        """A month shows as "Oct 2026", anything else as first – last day; exports keep both dates."""
        import calendar

        start, end = record.period_start, record.period_end
        if start.day == 1 and end.month == start.month and end.day == calendar.monthrange(end.year, end.month)[1]:
            return start.strftime("%b %Y")
        if start == end:
            return start.isoformat()
        return f"{start:%Y-%m-%d} – {end:%m-%d}"

    def value_period_start(self, value):
        return value

    def render_contract(self, value):
        return value.reference

    def value_contract(self, value):
        return value.reference

    def render_severity(self, value, record):
        return badge(record.severity, value)

    def value_severity(self, value, record):
        return record.get_severity_display()

    def render_status(self, value, record):
        return badge(record.status, value)

    def value_status(self, value, record):
        return record.get_status_display()

    def render_kind(self, value, record):
        return value

    def render_service_credit(self, value, record):
        if not value:
            return "—"
        return format_money(value, record.contract.currency)

    def value_service_credit(self, value):
        return value

    def value_currency(self, record):
        return record.contract.currency
