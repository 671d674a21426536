"""A list's download (``common.table_exports``: ``values_list`` rows, no model instances) holds exactly what
django-tables2's ``as_values()`` gives for the same table — every list, every column, cell for cell — and
the CSV a user downloads is those cells."""

import datetime
from decimal import Decimal

import django_tables2 as tables
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from django.urls import resolve, reverse
from django.utils import timezone

from common.exports import csv_lines
from common.table_exports import export_csv_lines, export_rows
from contracts.models import Contract, ReplacementObligation, StaffMember
from governance.models import CorrectiveAction
from kpis.models import Breach
from tests.builders import bulk_world
from tests.factories import ContractFactory, StaffMemberFactory, UserFactory, VendorFactory
from vendors.models import Vendor

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin_user, settings):
    """The awkward cases of each column: an expired and a draft contract, an owner without a name, a BPO and
    a BPM contract's obligations (pending, overdue, fulfilled on time and late), empty text, formula text,
    a withdrawn breach without a credit, an ineffective-or-not action."""
    settings.TIME_ZONE = "Asia/Manila"
    today = timezone.localdate()
    contracts = bulk_world(4, admin_user, prefix="X")
    nameless = UserFactory(username="nameless", first_name="", last_name="", role="manager")
    vendor = VendorFactory(name="=HYPERLINK(1)", contact_name="", contact_email="", website="")
    expired = ContractFactory(
        vendor=vendor,
        owner=nameless,
        status="active",
        title="-Fish & <chips>",
        currency="INR",
        engagement_model="bpo",
        end_date=today - datetime.timedelta(days=1),
    )
    ContractFactory(vendor=vendor, owner=admin_user, status="draft", currency="EUR", monthly_fee=Decimal("1234.5"))
    for number, (due, candidate) in enumerate([(-3, None), (5, None), (-10, -12), (-10, -2)]):
        departed = StaffMemberFactory(
            contract=expired if number % 2 else contracts[0],
            left_on=today - datetime.timedelta(days=40),
            leave_reason="involuntary",
        )
        ReplacementObligation.objects.create(
            departed=departed,
            due_on=today + datetime.timedelta(days=due),
            candidate_provided_on=candidate and today + datetime.timedelta(days=candidate),
            replacement_productive_on=candidate and today + datetime.timedelta(days=candidate),
        )
    Breach.objects.filter(pk=Breach.objects.order_by("pk").values("pk")[:1]).update(
        status="withdrawn", status_before_withdrawal="open", service_credit=0, actual=None
    )
    CorrectiveAction.objects.create(
        contract=contracts[0], title="@Retrain", action="x", owner_name="", due_on=today - datetime.timedelta(days=1)
    )
    CorrectiveAction.objects.create(
        contract=expired,
        title="Overdue",
        action="x",
        owner_name="Ann",
        due_on=today - datetime.timedelta(days=3),
        status="verified",
        done_on=today - datetime.timedelta(days=70),
        done_by=admin_user,
        verified_on=today - datetime.timedelta(days=60),
        verified_by=nameless,
    )
    assert StaffMember.objects.count() and Contract.objects.count() > 4
    return contracts


def _view(url, user):
    request = RequestFactory().get(url)
    request.user = user
    match = resolve(request.path)
    view = match.func.view_class(**match.func.view_initkwargs)
    view.setup(request, *match.args, **match.kwargs)
    view.filterset = view.get_filterset(view.get_filterset_class())
    view.object_list = view.filterset.qs
    return view


def _as_values(view):
    """The download as django-tables2 makes it (what the lists exported before)."""
    table = view.get_table_class()(data=view.get_table_data(), **view.get_table_kwargs())
    order_by = view.request.GET.get(table.prefixed_order_by_field)
    if order_by:
        table.order_by = order_by
    return [list(row) for row in table.as_values(exclude_columns=view.exclude_columns)]


LISTS = [
    reverse("vendors:vendor_list"),
    reverse("vendors:vendor_list") + "?sort=-contract_count",
    reverse("contracts:contract_list"),
    reverse("contracts:contract_list") + "?sort=-monthly_fee",
    reverse("staff:staff_list"),
    reverse("staff:staff_list") + "?sort=replacement_due",
    reverse("kpis:breach_list"),
    reverse("kpis:breach_list") + "?sort=period_start&status=withdrawn&status=open",
    reverse("governance:action_list"),
]


@pytest.mark.parametrize("url", LISTS)
def test_every_list_exports_what_django_tables2_exports(client, admin_user, world, url, django_assert_max_num_queries):
    view = _view(url, admin_user)
    expected = _as_values(view)
    with django_assert_max_num_queries(3):  # the rows in one query, whatever their number
        ours = list(_view(url, admin_user).export_rows())
    assert len(ours) > 2
    assert ours == expected
    assert [[type(cell) for cell in row] for row in ours] == [[type(cell) for cell in row] for row in expected]

    client.force_login(admin_user)
    downloaded = client.get(url + ("&" if "?" in url else "?") + "_export=csv")
    assert downloaded.status_code == 200
    assert b"".join(downloaded.streaming_content).decode() == "".join(csv_lines(expected))


def test_the_columns_that_need_care_are_exported_as_labels(admin_user, world):
    rows = list(_view(reverse("contracts:contract_list"), admin_user).export_rows())
    header, cells = rows[0], {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    expired = next(row for row in cells.values() if row["Title"] == "-Fish & <chips>")
    assert (expired["Status"], expired["Owner"], expired["Currency"], expired["Model"]) == (
        "Expired",
        "nameless",
        "INR",
        "BPO",
    )
    assert "Vendor" in header and expired["Vendor"] == "=HYPERLINK(1)"  # made safe when written (csv_cell)
    staff = list(_view(reverse("staff:staff_list"), admin_user).export_rows())
    states = {row[-1] for row in staff[1:]}
    assert {"Pending", "Overdue", "Fulfilled on time", "Fulfilled late", None} <= states
    actions = list(_view(reverse("governance:action_list"), admin_user).export_rows())
    overdue = next(row for row in actions[1:] if row[1] == "@Retrain")
    assert overdue[6] == timezone.localdate() - datetime.timedelta(days=1)  # a date, not the page's late badge


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_rows_are_read_inside_a_transaction_over_a_cursor_that_is_not_held(admin_user):
    """A streamed download asks for rows after its request's transaction has committed: outside a transaction
    Django declares the cursor WITH HOLD and PostgreSQL computes the whole result before the first row. The
    export opens its own transaction, and ends it when the download ends (or the client hangs up)."""
    from django.db import connection

    bulk_world(3, admin_user, prefix="H")
    rows = _view(reverse("kpis:breach_list"), admin_user).export_rows()
    assert next(rows)[0] == "#"  # the header: no query yet
    assert next(rows)[0] > 0
    assert connection.in_atomic_block
    with connection.cursor() as cursor:
        cursor.execute("SELECT is_holdable FROM pg_cursors WHERE name LIKE '_django_curs_%%'")
        assert cursor.fetchall() == [(False,)]
    rows.close()  # the client hung up
    assert not connection.in_atomic_block


class _OwnerTable(tables.Table):
    owner = tables.Column()  # a related object: its export value has no single column

    class Meta:
        model = Contract
        fields = ("reference",)


class _ContractsOfVendorTable(tables.Table):
    references = tables.Column(accessor="contracts__reference")  # one row per contract, not per vendor

    class Meta:
        model = Vendor
        fields = ("name",)


@pytest.mark.parametrize(
    "table_class,message",
    [(_OwnerTable, "name the related field"), (_ContractsOfVendorTable, "to-many relation")],
)
def test_a_column_the_export_cannot_read_as_one_value_is_refused(table_class, message):
    queryset = table_class._meta.model.objects.all()
    with pytest.raises(ImproperlyConfigured, match=message):
        next(export_rows(table_class(queryset), queryset))


def test_the_breach_list_csv_is_copied_as_text_and_written_as_from_typed_rows(admin_user, world):
    """At PostgreSQL the breach list's CSV comes from ``COPY`` text (no column needs its typed value): text that
    COPY escapes (tabs, newlines, backslashes, quotes) and text a spreadsheet would run come out as the typed
    rows write them, and so do labels, amounts, dates and local timestamps, chunk after chunk."""
    name = '-Tab\there, "quoted"\nnew line \\N ü\r'
    Vendor.objects.filter(pk__in=Breach.objects.values("contract__vendor")[:1]).update(name=name)
    Breach.objects.filter(pk=Breach.objects.order_by("-pk").values("pk")[:1]).update(actual=Decimal("-0.50"))
    for url in [reverse("kpis:breach_list"), reverse("kpis:breach_list") + "?sort=-vendor"]:
        view = _view(url, admin_user)
        table = view.export_table()
        copied = "".join(export_csv_lines(table, table.data.data, rows_per_chunk=2))
        assert copied == "".join(csv_lines(_as_values(view)))
        assert "\"'" + name.replace('"', '""') + '"' in copied  # quoted, and made safe
        assert ",-0.50," in copied


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_csv_download_the_client_leaves_stops_the_copy(admin_user):
    """A client that hangs up mid-download ends the ``COPY``: the connection is ready for the next request."""
    from django.db import connection

    bulk_world(5, admin_user, prefix="C")
    table = _view(reverse("kpis:breach_list"), admin_user).export_table()
    lines = export_csv_lines(table, table.data.data, rows_per_chunk=1)
    assert next(lines).startswith("#,")
    lines.close()
    assert connection.connection.info.transaction_status == 0  # idle: no COPY under way
    again = "".join(export_csv_lines(table, table.data.data))
    assert again.count("\n") == 1 + Breach.objects.count() > 5
