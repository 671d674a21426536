import django_tables2 as tables
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils.html import format_html

from common.exports import person_name, user_name
from common.money import format_money
from common.table_exports import ExportValue
from common.tables import DateColumn
from common.templatetags.ui import badge

from .models import Contract, ReplacementObligation, StaffMember, contract_display_status, obligation_state


class ContractTable(tables.Table):
    reference = tables.Column(linkify=True, attrs={"td": {"class": "nowrap"}})
    title = tables.Column()
    vendor = tables.Column(linkify=True, order_by="vendor__name")
    owner = tables.Column(order_by="owner__username")
    service_type = tables.Column(verbose_name="Service")
    sourcing_model = tables.Column(verbose_name="Sourcing")
    engagement_model = tables.Column(verbose_name="Model")
    status = tables.Column()
    end_date = DateColumn(verbose_name="Ends", format="Y-m-d", attrs={"td": {"class": "nowrap"}})
    monthly_fee = tables.Column(verbose_name="Monthly fee", attrs={"td": {"class": "text-end nowrap"}})
    # exports only (the page shows the currency inside the fee): money never without its currency
    currency = tables.Column(verbose_name="Currency", visible=False)
    sla_count = tables.Column(verbose_name="SLAs", attrs={"td": {"class": "text-end"}})
    open_breach_count = tables.Column(verbose_name="Open breaches", attrs={"td": {"class": "text-end"}})
    headcount = tables.Column(verbose_name="Staff", attrs={"td": {"class": "text-end"}})

    # How the export reads what value_FOO gives (``common.table_exports``; held to as_values() by a test).
    export_values = {
        "vendor": "vendor__name",
        "owner": person_name("owner"),
        "engagement_model": Upper("engagement_model"),
        "status": ExportValue("status", "end_date", convert=contract_display_status),
        "currency": "currency",
    }

    class Meta:
        model = Contract
        fields = (
            "reference",
            "title",
            "vendor",
            "owner",
            "service_type",
            "sourcing_model",
            "engagement_model",
            "status",
            "end_date",
            "monthly_fee",
            "currency",
            "sla_count",
            "open_breach_count",
            "headcount",
        )
        order_by = ("reference",)
        empty_text = "No contracts match these filters."

    def render_owner(self, value):
        return value.get_full_name() or value.username

    def value_owner(self, value):
        return user_name(value)

    def render_engagement_model(self, value, record):
        return record.engagement_model.upper()

    def value_engagement_model(self, value, record):
        return record.engagement_model.upper()

    def render_status(self, value, record):
        label = record.display_status
        return badge(label.lower(), label)

    def value_status(self, value, record):
        return record.display_status

    def render_monthly_fee(self, value, record):
        return format_money(value, record.currency)

    def value_monthly_fee(self, value):
        return value

    def value_currency(self, record):
        return record.currency

    def render_open_breach_count(self, value, record):
        if not value:
            return "0"
        url = reverse("kpis:breach_list")
        return format_html(
            '<a class="text-danger fw-semibold" href="{}?contract={}&status=open&status=acknowledged">{}</a>',
            url,
            record.pk,
            value,
        )

    def value_open_breach_count(self, value):
        return value


def _replacement_state(obligation_id, due_on, candidate_provided_on, replacement_productive_on, engagement_model):
    """``obligation.state().label`` from the obligation's columns (the export reads no model instances)."""
    if obligation_id is None:
        return None
    fulfilled = {
        "candidate_provided_on": candidate_provided_on,
        "replacement_productive_on": replacement_productive_on,
    }[ReplacementObligation.fulfilment_field_for(engagement_model)]
    return obligation_state(due_on, fulfilled).label


class StaffMemberTable(tables.Table):
    full_name = tables.Column(linkify=True, verbose_name="Name")
    employee_ref = tables.Column()
    contract = tables.Column(linkify=True, order_by="contract__reference", attrs={"td": {"class": "nowrap"}})
    vendor = tables.Column(accessor="contract__vendor", order_by="contract__vendor__name", linkify=True)
    role = tables.Column()
    joined_on = DateColumn(format="Y-m-d", attrs={"td": {"class": "nowrap"}})
    left_on = DateColumn(format="Y-m-d", attrs={"td": {"class": "nowrap"}})
    leave_reason = tables.Column()
    replacement_due = DateColumn(
        format="Y-m-d",
        attrs={"td": {"class": "nowrap"}},
        accessor="replacement_obligation__due_on",
        verbose_name="Replacement due",
        order_by="replacement_obligation__due_on",
    )
    replacement_state = tables.Column(empty_values=(), verbose_name="Replacement", orderable=False)

    export_values = {
        "contract": "contract__reference",
        "vendor": "contract__vendor__name",
        "replacement_state": ExportValue(
            "replacement_obligation__id",
            "replacement_obligation__due_on",
            "replacement_obligation__candidate_provided_on",
            "replacement_obligation__replacement_productive_on",
            "contract__engagement_model",
            convert=_replacement_state,
        ),
    }

    class Meta:
        model = StaffMember
        fields = ("full_name", "employee_ref", "contract", "vendor", "role", "joined_on", "left_on", "leave_reason")
        order_by = ("full_name",)
        empty_text = "No staff match these filters."

    def render_contract(self, value):
        return value.reference

    def value_contract(self, value):
        return value.reference

    def _obligation(self, record):
        try:
            return record.replacement_obligation
        except StaffMember.replacement_obligation.RelatedObjectDoesNotExist:
            return None

    def render_replacement_state(self, record):
        obligation = self._obligation(record)
        if obligation is None:
            return "—"
        state = obligation.state()
        return badge(state.value, state.label)

    def value_replacement_state(self, record):
        obligation = self._obligation(record)
        return obligation.state().label if obligation else None
