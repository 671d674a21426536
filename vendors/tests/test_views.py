import datetime
import io
import re
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from django.urls import reverse

from contracts.models import Contract
from tests.builders import bulk_world, csv_rows
from tests.factories import (
    BreachFactory,
    ContractFactory,
    DeliveryCenterFactory,
    ExchangeRateFactory,
    SLAFactory,
    VendorFactory,
)
from vendors.models import Vendor

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("vendors:vendor_list"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


@pytest.mark.parametrize("who", ["viewer", "owner", "admin_user"])
def test_every_role_reads_vendor_list_and_detail(client, request, who):
    vendor = VendorFactory(name="Acme BPO")
    DeliveryCenterFactory(vendor=vendor, name="Manila One")
    login(client, request.getfixturevalue(who))
    response = client.get(reverse("vendors:vendor_list"))
    assert response.status_code == 200
    assert "Acme BPO" in response.text
    response = client.get(vendor.get_absolute_url())
    assert response.status_code == 200
    assert "Manila One" in response.text
    assert 'data-testid="scorecard"' in response.text


def test_viewer_sees_no_edit_controls_and_gets_403_on_writes(client, viewer):
    vendor = VendorFactory(name="Acme BPO")
    login(client, viewer)
    assert 'data-testid="add-button"' not in client.get(reverse("vendors:vendor_list")).text
    assert 'data-testid="edit-button"' not in client.get(vendor.get_absolute_url()).text
    assert client.get(reverse("vendors:vendor_add")).status_code == 403
    response = client.post(reverse("vendors:vendor_add"), {"name": "Sneaky", "country": "PH"})
    assert response.status_code == 403
    response = client.post(reverse("vendors:vendor_edit", args=[vendor.pk]), {"name": "Renamed", "country": "PH"})
    assert response.status_code == 403
    assert not Vendor.objects.filter(name__in=["Sneaky", "Renamed"]).exists()
    assert client.post(reverse("vendors:center_add", args=[vendor.pk]), {"name": "X"}).status_code == 403


def test_manager_creates_and_edits_a_vendor(client, owner):
    login(client, owner)
    data = {"name": "Nearshore Co", "country": "MX", "status": "active", "risk_tier": "low"}
    response = client.post(reverse("vendors:vendor_add"), data)
    vendor = Vendor.objects.get(name="Nearshore Co")
    assert response.status_code == 302
    assert response["Location"] == vendor.get_absolute_url()
    response = client.post(reverse("vendors:vendor_edit", args=[vendor.pk]), {**data, "risk_tier": "high"})
    assert response.status_code == 302
    vendor.refresh_from_db()
    assert vendor.risk_tier == "high"
    assert vendor.created_by == owner


VENDOR_DATA = {"name": "Acme BPO", "country": "PH", "status": "active", "risk_tier": "low"}


def test_a_manager_without_a_contract_with_the_vendor_may_not_edit_it(client, owner, teammate, contract):
    """DESIGN.md: a manager edits a vendor and its delivery centres only while they own a contract with
    it (or added it and no contract exists yet)."""
    vendor = contract.vendor
    centre = DeliveryCenterFactory(vendor=vendor, name="Manila One")
    login(client, teammate)
    page = client.get(vendor.get_absolute_url()).text
    assert 'data-testid="edit-button"' not in page
    assert reverse("vendors:center_add", args=[vendor.pk]) not in page
    assert reverse("vendors:center_edit", args=[vendor.pk, centre.pk]) not in page
    assert client.post(reverse("vendors:vendor_edit", args=[vendor.pk]), VENDOR_DATA).status_code == 403
    centre_data = {"name": "Renamed", "city": "X", "country": "PH", "timezone": "Asia/Manila", "seats": 1}
    assert client.post(reverse("vendors:center_add", args=[vendor.pk]), centre_data).status_code == 403
    response = client.post(reverse("vendors:center_edit", args=[vendor.pk, centre.pk]), centre_data)
    assert response.status_code == 403
    vendor.refresh_from_db()
    assert vendor.name != "Acme BPO" and list(vendor.delivery_centers.values_list("name", flat=True)) == ["Manila One"]

    login(client, owner)
    assert 'data-testid="edit-button"' in client.get(vendor.get_absolute_url()).text
    assert client.post(reverse("vendors:vendor_edit", args=[vendor.pk]), VENDOR_DATA).status_code == 302
    vendor.refresh_from_db()
    assert vendor.name == "Acme BPO"


def test_the_manager_who_added_a_vendor_edits_it_until_a_contract_exists(client, owner, teammate):
    vendor = VendorFactory(created_by=teammate)
    login(client, teammate)
    assert client.post(reverse("vendors:vendor_edit", args=[vendor.pk]), VENDOR_DATA).status_code == 302
    ContractFactory(vendor=vendor, owner=owner)
    assert client.post(reverse("vendors:vendor_edit", args=[vendor.pk]), VENDOR_DATA).status_code == 403


def test_a_website_without_a_scheme_is_saved_as_https(client, owner):
    login(client, owner)
    data = {"name": "Nearshore Co", "country": "MX", "status": "active", "risk_tier": "low", "website": "nearshore.mx"}
    assert client.post(reverse("vendors:vendor_add"), data).status_code == 302
    assert Vendor.objects.get(name="Nearshore Co").website == "https://nearshore.mx"


def test_the_admin_reads_a_website_without_a_scheme_as_https_too(admin_user):
    from django.contrib import admin
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = admin_user
    form = admin.site._registry[Vendor].get_form(request)
    assert form.base_fields["website"].clean("nearshore.mx") == "https://nearshore.mx"


def test_manager_adds_a_delivery_centre(client, owner):
    vendor = VendorFactory(created_by=owner)  # DESIGN: they added it and no contract exists yet
    login(client, owner)
    response = client.post(
        reverse("vendors:center_add", args=[vendor.pk]),
        {"name": "Bogotá", "city": "Bogotá", "country": "CO", "timezone": "America/Bogota", "seats": 100},
    )
    assert response.status_code == 302
    assert vendor.delivery_centers.get().city == "Bogotá"


def test_vendor_form_shows_errors_next_to_fields(client, owner):
    VendorFactory(name="Taken")
    login(client, owner)
    response = client.post(reverse("vendors:vendor_add"), {"name": "Taken", "country": "", "status": "active"})
    assert response.status_code == 200
    assert "A vendor with this name already exists." in response.text
    assert "This field is required." in response.text
    assert "is-invalid" in response.text


def test_delivery_centre_rejects_unknown_time_zone(client, owner):
    vendor = VendorFactory(created_by=owner)
    login(client, owner)
    response = client.post(
        reverse("vendors:center_add", args=[vendor.pk]),
        {"name": "X", "city": "Y", "country": "PH", "timezone": "Mars/Olympus", "seats": 1},
    )
    assert response.status_code == 200
    assert "“Mars/Olympus” is not a known time zone: choose one from the list (e.g. Asia/Manila)." in response.text
    assert not vendor.delivery_centers.exists()


def test_delivery_centre_form_offers_a_searchable_list_of_time_zones(client, owner):
    vendor = VendorFactory(created_by=owner)  # a manager edits centres of vendors they added or deal with
    login(client, owner)
    response = client.get(reverse("vendors:center_add", args=[vendor.pk]))
    select = response.context["form"]["timezone"]
    assert select.field.widget.attrs["data-searchable"] == "1"  # Tom Select; a plain select without JavaScript
    values = [value for value, _ in select.field.choices]
    assert {"Asia/Manila", "America/Bogota", "UTC"} <= {str(v) for v in values} and len(values) > 300
    assert '<option value="UTC" selected>UTC</option>' in response.text


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"country": "IN"}, {"Bangalore Ltd"}),
        ({"status": "prospect"}, {"Prospect Inc"}),
        ({"risk_tier": "critical"}, {"Bangalore Ltd"}),
        ({"service_type": "back_office"}, {"Prospect Inc"}),
        ({"sourcing_model": "offshore"}, {"Bangalore Ltd"}),
        ({"q": "bangal"}, {"Bangalore Ltd"}),
    ],
)
def test_vendor_filters(client, viewer, params, expected):
    india = VendorFactory(name="Bangalore Ltd", country="IN", risk_tier="critical")
    prospect = VendorFactory(name="Prospect Inc", country="PH", status="prospect", risk_tier="low")
    ContractFactory(vendor=india, sourcing_model="offshore", service_type="front_office")
    ContractFactory(vendor=prospect, sourcing_model="nearshore", service_type="back_office")
    login(client, viewer)
    response = client.get(reverse("vendors:vendor_list"), params)
    names = {row.record.name for row in response.context["table"].rows}
    assert names == expected


def test_vendor_list_exports_filtered_rows_to_csv_and_xlsx(client, viewer):
    VendorFactory(name="Alpha", country="IN")
    VendorFactory(name="Beta", country="PH")
    login(client, viewer)
    response = client.get(reverse("vendors:vendor_list"), {"country": "IN", "_export": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.streaming
    rows = csv_rows(response)
    assert rows[0][:2] == ["Name", "Country"]
    assert [r[0] for r in rows[1:]] == ["Alpha"]
    assert rows[1][1] == "IN"
    response = client.get(reverse("vendors:vendor_list"), {"_export": "xlsx"})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in sheet["A"]][1:] == ["Alpha", "Beta"]


@time_machine.travel(datetime.datetime(2026, 6, 15, 9, 0, tzinfo=datetime.UTC), tick=False)
def test_vendor_scorecard_figures(client, viewer, owner):
    """On 15 Jun 2026 the 12-month window starts 1 Jul 2025: the January figure (70 against 80 / 75, a
    major miss with a 20.00 credit) and the replacement due 31 Mar 2026 both fall in it."""
    bulk_world(1, owner)
    vendor = Vendor.objects.get()
    login(client, viewer)
    response = client.get(vendor.get_absolute_url())
    scored = response.context["object"]
    assert (scored.measurement_count, scored.met_count, scored.compliance_percent) == (1, 0, 0.0)
    assert (scored.breach_count, scored.major_breach_count, scored.open_breach_count) == (2, 2, 2)
    assert response.context["service_credits"].by_currency == (("USD", Decimal("20.00")),)
    assert scored.overdue_replacements == 1
    assert scored.headcount == 1
    assert scored.contracted_headcount == 5
    assert scored.departures == 1


@time_machine.travel(datetime.datetime(2027, 3, 1, 9, 0, tzinfo=datetime.UTC), tick=False)
def test_vendor_scorecard_leaves_out_what_is_older_than_twelve_months(client, viewer, owner):
    """On 1 Mar 2027 the window starts 1 Apr 2026: the January figure and its breach are out of it, the
    replacement (due 31 Mar 2026) too, though it is still overdue and its breach still open."""
    bulk_world(1, owner)
    login(client, viewer)
    context = client.get(Vendor.objects.get().get_absolute_url()).context
    scored = context["object"]
    assert (scored.measurement_count, scored.compliance_percent) == (0, None)
    assert (scored.breach_count, scored.open_breach_count) == (0, 2)
    assert context["service_credits"].is_empty
    assert scored.overdue_replacements == 1


@pytest.mark.parametrize("rows", [5, 500])
def test_vendor_pages_run_a_constant_number_of_queries(client, viewer, owner, django_assert_max_num_queries, rows):
    bulk_world(rows, owner)
    login(client, viewer)
    client.get(reverse("vendors:vendor_list"))  # warm the session / content types
    with django_assert_max_num_queries(8):
        assert client.get(reverse("vendors:vendor_list")).status_code == 200
    vendor = Vendor.objects.first()
    with django_assert_max_num_queries(12):
        assert client.get(vendor.get_absolute_url()).status_code == 200
    with django_assert_max_num_queries(8):
        response = client.get(reverse("vendors:vendor_list"), {"_export": "csv"})
        body = b"".join(response.streaming_content)
    assert body.count(b"\n") == rows + 1
    assert Contract.objects.count() == rows


def test_invalid_filter_value_is_explained_not_a_crash(client, viewer):
    VendorFactory(name="Alpha")
    client.force_login(viewer)
    response = client.get(reverse("vendors:vendor_list"), {"country": "XX", "status": "nonsense"})
    assert response.status_code == 200
    assert "Select a valid choice." in response.text
    assert list(response.context["table"].rows) == []


@pytest.fixture
def two_currency_vendor():
    """A vendor with a USD and an EUR contract, each owing a credit for October 2026."""
    vendor = VendorFactory(name="Twin Currency BPO")
    for currency, credit in (("USD", "2000"), ("EUR", "1000")):
        contract = ContractFactory(vendor=vendor, currency=currency)
        BreachFactory(
            sla=SLAFactory(contract=contract),
            period_start=datetime.date(2026, 10, 1),
            period_end=datetime.date(2026, 10, 31),
            service_credit=Decimal(credit),
        )
    return vendor


def _credits_card(response):
    text = response.text
    start = text.index("Service credits (12 m)")
    return text[start : text.index("Turnover (12 m)")].replace("\u00a0", " ")


def test_vendor_page_shows_credits_per_currency_and_in_the_reporting_currency(client, viewer, two_currency_vendor):
    ExchangeRateFactory(currency="EUR", month=datetime.date(2026, 10, 1), rate=Decimal("1.10"))
    login(client, viewer)
    with time_machine.travel(datetime.datetime(2026, 11, 15, 12, tzinfo=datetime.UTC), tick=False):
        card = _credits_card(client.get(two_currency_vendor.get_absolute_url()))
    assert "USD 2,000.00" in card and "EUR 1,000.00" in card  # each in its own currency
    assert "USD 3,100.00 in total" in card  # 2 000 + 1 000 × 1.10
    assert "3,000.00" not in card  # never USD and EUR added up as they are


def test_vendor_page_says_a_missing_rate_is_missing(client, viewer, two_currency_vendor):
    login(client, viewer)
    with time_machine.travel(datetime.datetime(2026, 11, 15, 12, tzinfo=datetime.UTC), tick=False):
        card = _credits_card(client.get(two_currency_vendor.get_absolute_url()))
    assert "USD 2,000.00" in card and "EUR 1,000.00" in card
    assert "incomplete" in card and "no rate for EUR 2026-10" in card
    assert "3,100.00" not in card and "3,000.00" not in card


def test_vendor_list_columns_for_reading(client, viewer):
    """The name gets the room on one line; the e-mail is a short line under the contact, the website is on
    the detail page; both stay in the exports."""
    VendorFactory(
        name="Sierra Madre Customer Care Philippines",
        contact_name="Ana Reyes",
        contact_email="ana.reyes@sierramadre-customer-care.example.com",
        website="https://sierramadre-customer-care.example.com",
    )
    login(client, viewer)
    html = client.get(reverse("vendors:vendor_list")).content.decode()
    headers = re.findall(r"<th[^>]*>\s*(?:<a[^>]*>)?\s*([^<]+?)\s*<", html.split("<thead")[1].split("</thead>")[0])
    assert headers == ["Name", "Country", "Status", "Risk", "Contracts", "Centres", "Contact"]
    assert re.search(
        r'<td class="col-name nowrap"><a href="/vendors/\d+/">Sierra Madre Customer Care Philippines', html
    )
    assert 'href="mailto:ana.reyes@sierramadre-customer-care.example.com"' in html
    assert "https://sierramadre-customer-care.example.com" not in html
    rows = csv_rows(client.get(reverse("vendors:vendor_list"), {"_export": "csv"}))
    assert {"E-mail", "Website", "Contact"} <= set(rows[0])
    assert rows[1][rows[0].index("Contact")] == "Ana Reyes"
    assert rows[1][rows[0].index("Website")] == "https://sierramadre-customer-care.example.com"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": ["prospect", "offboarded"]}, {"Prospect Inc", "Gone Ltd"}),
        ({"risk_tier": ["low"]}, {"Prospect Inc"}),
    ],
)
def test_vendor_multi_choice_filters_are_checkboxes(client, viewer, params, expected):
    VendorFactory(name="Prospect Inc", status="prospect", risk_tier="low")
    VendorFactory(name="Gone Ltd", status="offboarded", risk_tier="high")
    VendorFactory(name="Active Co", status="active", risk_tier="high")
    login(client, viewer)
    response = client.get(reverse("vendors:vendor_list"), params)
    assert {row.record.name for row in response.context["table"].rows} == expected
    html = response.content.decode()
    assert re.findall(r'<input type="checkbox" name="status" value="([^"]+)"', html) == [
        "prospect",
        "active",
        "on_hold",
        "offboarded",
    ]
    assert re.search(r'<select name="country"[^>]*data-searchable', html)  # 250 countries: a search box
