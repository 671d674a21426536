import django_tables2 as tables
from django.utils.html import format_html

from common.templatetags.ui import badge

from .models import DeliveryCenter, Vendor


class VendorTable(tables.Table):
    """Columns for reading: the name on one line and given the room; the contact's e-mail a short line under
    their name (not on a phone, where rows stay one line high). E-mail and website as columns of their own
    stay in the exports (and on the detail page)."""

    name = tables.Column(linkify=True, attrs={"td": {"class": "nowrap col-name"}, "th": {"class": "col-name"}})
    # By the code: a country field's get_country_display() (what django-tables2 reads for a field with choices)
    # walks all 250 countries for every row, and the cell shows the code anyway.
    country = tables.Column(accessor="country__code", order_by="country", verbose_name="Country")
    status = tables.Column()
    risk_tier = tables.Column(verbose_name="Risk")
    contract_count = tables.Column(verbose_name="Contracts", attrs={"td": {"class": "text-end"}})
    center_count = tables.Column(verbose_name="Centres", attrs={"td": {"class": "text-end"}})
    contact_name = tables.Column(verbose_name="Contact", attrs={"td": {"class": "col-contact"}}, empty_values=())
    contact_email = tables.EmailColumn(verbose_name="E-mail", visible=False)
    website = tables.URLColumn(visible=False)

    # How the export reads what value_FOO gives (``common.table_exports``; held to as_values() by a test).
    export_values = {"country": "country"}

    class Meta:
        model = Vendor
        fields = ("name", "country", "status", "risk_tier", "contract_count", "center_count", "contact_name")
        sequence = ("name", "country", "status", "risk_tier", "contract_count", "center_count", "contact_name")
        exclude = ("id", "notes", "created_at", "updated_at")
        order_by = ("name",)
        empty_text = "No vendors match these filters."

    def render_contact_name(self, value, record):
        if not record.contact_email:
            return value or "—"
        return format_html(
            '{}<a class="d-none d-md-block small text-truncate" href="mailto:{}" title="{}">{}</a>',
            value,
            record.contact_email,
            record.contact_email,
            record.contact_email,
        )

    def value_contact_name(self, value):
        return value

    def render_country(self, record):
        return format_html('<span title="{}">{}</span>', record.country.name, record.country.code)

    def value_country(self, record):
        return record.country.code

    def render_status(self, value, record):
        return badge(record.status, value)

    def value_status(self, value, record):
        return record.get_status_display()

    def render_risk_tier(self, value, record):
        return badge(record.risk_tier, value)

    def value_risk_tier(self, value, record):
        return record.get_risk_tier_display()

    def render_contract_count(self, value, record):
        from django.urls import reverse

        return format_html('<a href="{}?vendor={}">{}</a>', reverse("contracts:contract_list"), record.pk, value)

    def value_contract_count(self, value):
        return value


class DeliveryCenterTable(tables.Table):
    class Meta:
        model = DeliveryCenter
        fields = ("name", "city", "country", "timezone", "seats", "operates_24x7")
        orderable = False
