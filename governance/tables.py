import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html

from common.table_exports import ExportValue
from common.tables import DateColumn
from common.templatetags.ui import badge

from .models import CorrectiveAction


class CorrectiveActionTable(tables.Table):
    id = tables.Column(linkify=True, verbose_name="#")
    title = tables.Column(linkify=True)
    vendor = tables.Column(accessor="contract__vendor", order_by="contract__vendor__name", linkify=True)
    contract = tables.Column(linkify=True, order_by="contract__reference")
    owner_side = tables.Column(verbose_name="Side")
    owner_name = tables.Column(verbose_name="Owner")
    due_on = DateColumn(format="Y-m-d", verbose_name="Due", attrs={"td": {"class": "nowrap"}})
    status = tables.Column()
    ineffective = tables.BooleanColumn(verbose_name="Ineffective", orderable=False)
    opened_on = DateColumn(format="Y-m-d", verbose_name="Opened", visible=False)
    done_on = DateColumn(format="Y-m-d", verbose_name="Done", visible=False)
    verified_on = DateColumn(format="Y-m-d", verbose_name="Verified", visible=False)

    # How the export reads what value_FOO gives (``common.table_exports``; held to as_values() by a test).
    export_values = {
        "vendor": "contract__vendor__name",
        "contract": "contract__reference",
        "ineffective": ExportValue("ineffective", convert=lambda ineffective: "yes" if ineffective else "no"),
    }

    class Meta:
        model = CorrectiveAction
        fields = (
            "id",
            "title",
            "vendor",
            "contract",
            "owner_side",
            "owner_name",
            "due_on",
            "status",
            "ineffective",
            "opened_on",
            "done_on",
            "verified_on",
        )
        order_by = ("due_on",)
        empty_text = "No corrective actions match these filters."

    def render_contract(self, value):
        return value.reference

    def value_contract(self, value):
        return value.reference

    def render_owner_side(self, value, record):
        return record.get_owner_side_display()

    def render_due_on(self, value, record):
        if record.is_overdue:
            days = (timezone.localdate() - value).days
            return format_html('{} <span class="badge text-bg-danger">{} days late</span>', f"{value:%Y-%m-%d}", days)
        return f"{value:%Y-%m-%d}"

    def value_due_on(self, value):
        return value  # a date cell, not the page's text with its "days late" badge

    def render_status(self, value, record):
        return badge(record.status, value)

    def value_status(self, value, record):
        return record.get_status_display()

    def render_ineffective(self, value):
        return badge("major", "ineffective") if value else ""

    def value_ineffective(self, value):
        return "yes" if value else "no"
