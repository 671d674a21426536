"""The one-pass table body (``common.table_rows``) writes exactly what django-tables2's own Bootstrap 5 template
writes, for every list page of the app and for the column features it reimplements."""

import datetime
import itertools
import re
from decimal import Decimal

import django_tables2 as tables
import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from common.tables import DateColumn, DateTimeColumn
from contracts.models import Contract
from governance.models import CorrectiveAction
from tests.builders import bulk_world
from tests.factories import ContractFactory, StaffMemberFactory, UserFactory, VendorFactory

STOCK_TEMPLATE = "django_tables2/bootstrap5-responsive.html"


def normalized(html):
    """The markup with the template's layout whitespace between tags removed."""
    return re.sub(r">\s+<", "><", html).strip()


def table_markup(html):
    start = html.index('<div class="table-container')
    end = html.index("</table>", start)
    return normalized(html[start:end])


def stock_render(table, request):
    """The table as django-tables2's own template renders it."""
    template = Template("{% load django_tables2 %}{% render_table table template %}")
    return template.render(Context({"table": table, "template": STOCK_TEMPLATE, "request": request}))


@pytest.fixture
def world(admin_user):
    """Rows with the awkward cases: text to escape, empty values shown as the column default, a breach with
    and one without a credit, departed staff with and without an obligation, overdue and ineffective actions."""
    contracts = bulk_world(13, admin_user, prefix="T")  # 26 breaches: two pages
    vendor = VendorFactory(name='Acme <script>alert("x")</script> & Co', contact_name="", contact_email="")
    other = ContractFactory(vendor=vendor, owner=admin_user, title="Fish & <chips>", status="draft", currency="INR")
    StaffMemberFactory(contract=other, left_on=datetime.date(2026, 2, 1), leave_reason="involuntary")
    today = timezone.localdate()
    CorrectiveAction.objects.create(
        contract=contracts[0], title="Retrain <team>", action="x", owner_name="O'Neil", due_on=today
    )
    CorrectiveAction.objects.create(
        contract=other,
        title="Overdue",
        action="x",
        owner_name="Ann",
        due_on=today - datetime.timedelta(days=3),
        status="in_progress",
    )
    return contracts


@pytest.mark.parametrize(
    "url",
    [
        reverse("vendors:vendor_list"),
        reverse("contracts:contract_list") + "?sort=-monthly_fee",
        reverse("staff:staff_list"),
        reverse("kpis:breach_list"),
        reverse("kpis:breach_list") + "?sort=period_start&page=2",
        reverse("governance:action_list"),
        reverse("kpis:breach_list") + "?q=nothing-matches-this",
    ],
)
def test_list_pages_write_the_stock_table_markup(client, admin_user, world, url):
    client.force_login(admin_user)
    response = client.get(url)
    assert response.status_code == 200
    table = response.context["table"]
    ours = table_markup(response.content.decode())
    table._counter = itertools.count()  # rows count on from the first rendering (their even/odd class)
    assert ours == table_markup(stock_render(table, response.wsgi_request))
    assert "<tbody" in ours and "</td>" in ours


def attrs_from_record(record):
    return f"row-{record.pk}"


class FeatureTable(tables.Table):
    """Every path of ``CellPlan``: choices shown by their label, a related field's choices, empty values and
    defaults, links, render methods taking some or all arguments or one they are never given, callable cell
    attributes, localisation on and off, date columns, a column that is not a field."""

    reference = tables.Column(linkify=True, attrs={"td": {"class": "nowrap"}})
    status = tables.Column()
    vendor_status = tables.Column(accessor="vendor__status")
    vendor = tables.Column(linkify=True)
    service_line = tables.Column(default="none given")
    monthly_fee = tables.Column(localize=True, attrs={"td": {"data-id": attrs_from_record}})
    at_risk_percent = tables.Column(localize=False)
    start_date = DateColumn(format="d/m/Y")
    created = DateTimeColumn(accessor="created_at", short=False)
    title = tables.Column()
    fee_twice = tables.Column(accessor="monthly_fee", verbose_name="Twice")
    odd = tables.Column(accessor="not_a_field", empty_values=())
    link_text = tables.LinkColumn("contracts:contract_detail", args=[tables.A("pk")], text="open", accessor="nope")
    boolean = tables.BooleanColumn(accessor="vendor__id")

    class Meta:
        model = Contract
        fields = ("reference", "status", "vendor_status", "vendor", "service_line", "monthly_fee")
        row_attrs = {"data-ref": lambda record: record.reference}

    def render_title(self, value, record, bound_row, table, column, bound_column):
        return f"{value} ({record.pk}, row {bound_row.row_counter}, {table.prefix}{column.verbose_name})"

    def render_fee_twice(self, value):
        return value * 2

    def render_odd(self, record, unknown_argument):  # never given: django-tables2 leaves the cell empty
        return "never"


def test_features_render_as_the_stock_template(admin_user):
    vendor = VendorFactory(name="V & V")
    ContractFactory(vendor=vendor, owner=admin_user, service_line="", monthly_fee=Decimal("1234567.5"))
    ContractFactory(owner=admin_user, service_line="Voice <EN>", status="on_hold", title="<b>bold</b>")
    request = RequestFactory().get("/")
    request.user = admin_user
    template = Template("{% load django_tables2 %}{% render_table table %}")
    rows = Contract.objects.order_by("pk")
    ours = normalized(template.render(Context({"table": FeatureTable(rows), "request": request})))
    stock = normalized(stock_render(FeatureTable(rows), request))
    assert ours == stock
    for shown in ("none given", "&lt;b&gt;bold&lt;/b&gt;", '<td data-id="row-', "01/01/2025", '<tr data-ref="CT-'):
        assert shown in ours


def test_an_empty_table_shows_its_empty_text(admin_user):
    class Empty(tables.Table):
        name = tables.Column()

        class Meta:
            empty_text = "Nothing <here>"

    request = RequestFactory().get("/")
    request.user = UserFactory()
    template = Template("{% load django_tables2 %}{% render_table table %}")
    ours = normalized(template.render(Context({"table": Empty([]), "request": request})))
    assert ours == normalized(stock_render(Empty([]), request))
    assert '<td colspan="1">Nothing &lt;here&gt;</td>' in ours
