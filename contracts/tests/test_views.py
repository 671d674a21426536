import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from contracts.models import Contract
from tests.builders import bulk_world, csv_rows
from tests.factories import ContractFactory, DeliveryCenterFactory, SLAFactory, StaffMemberFactory, VendorFactory

pytestmark = pytest.mark.django_db


def contract_data(vendor, **overrides):
    data = {
        "vendor": vendor.pk,
        "reference": "CX-2026-100",
        "title": "Voice support",
        "status": "active",
        "engagement_model": "bpm",
        "service_type": "front_office",
        "service_line": "voice support",
        "delivery_center": "",
        "sourcing_model": "",
        "start_date": "2026-01-01",
        "end_date": "2027-12-31",
        "notice_days": 90,
        "currency": "USD",
        "monthly_fee": "100000",
        "baseline_monthly_cost": "150000",
        "at_risk_percent": "10",
        "contracted_headcount": 20,
        "replacement_days": 30,
        "reporting_grace_days": 5,
        "missing_report_is_breach": "on",
        "earn_back_periods": 0,
        "notes": "",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("who", ["viewer", "owner", "teammate", "admin_user"])
def test_every_role_reads_contract_pages(client, request, contract, who):
    SLAFactory(contract=contract)
    StaffMemberFactory(contract=contract, full_name="Ana Reyes")
    client.force_login(request.getfixturevalue(who))
    assert contract.reference in client.get(reverse("contracts:contract_list")).text
    response = client.get(contract.get_absolute_url())
    assert response.status_code == 200
    assert "Service level" in response.text
    assert "Ana Reyes" in response.text


def test_edit_controls_only_for_those_who_may_edit(client, contract, viewer, teammate, owner, admin_user):
    for user, visible in ((viewer, False), (teammate, False), (owner, True), (admin_user, True)):
        client.force_login(user)
        text = client.get(contract.get_absolute_url()).text
        assert ('data-testid="edit-controls"' in text) is visible, user


def test_manager_creates_a_contract_and_becomes_its_owner(client, owner):
    vendor = VendorFactory(country="IN")
    client.force_login(owner)
    response = client.post(reverse("contracts:contract_add"), contract_data(vendor))
    contract = Contract.objects.get(reference="CX-2026-100")
    assert response.status_code == 302
    assert response["Location"] == contract.get_absolute_url()
    assert contract.owner == owner
    assert contract.sourcing_model == "offshore"  # derived from the vendor's country when left blank


def test_manager_cannot_hand_a_new_contract_to_someone_else(client, owner, teammate):
    vendor = VendorFactory()
    client.force_login(owner)
    client.post(reverse("contracts:contract_add"), contract_data(vendor, owner=teammate.pk))
    assert Contract.objects.get(reference="CX-2026-100").owner == owner


def test_admin_chooses_the_owner(client, admin_user, owner):
    vendor = VendorFactory()
    client.force_login(admin_user)
    response = client.post(reverse("contracts:contract_add"), contract_data(vendor, owner=owner.pk))
    assert response.status_code == 302
    assert Contract.objects.get(reference="CX-2026-100").owner == owner


def test_sourcing_model_derived_from_delivery_centre(client, owner):
    vendor = VendorFactory(country="IN")
    centre = DeliveryCenterFactory(vendor=vendor, country="MX", timezone="America/Mexico_City")
    client.force_login(owner)
    response = client.get(reverse("contracts:contract_add"))
    assert "sourcing-suggestions" in response.text
    assert response.context["form"].sourcing_suggestions()["centres"][str(centre.pk)]["sourcing"] == "nearshore"
    client.post(reverse("contracts:contract_add"), contract_data(vendor, delivery_center=centre.pk))
    assert Contract.objects.get(reference="CX-2026-100").sourcing_model == "nearshore"


def test_contract_form_errors_next_to_fields(client, owner, contract):
    other_vendor_centre = DeliveryCenterFactory()
    client.force_login(owner)
    response = client.post(
        reverse("contracts:contract_add"),
        contract_data(
            contract.vendor,
            reference=contract.reference,
            end_date="2025-01-01",
            at_risk_percent="150",
            delivery_center=other_vendor_centre.pk,
        ),
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["reference"] == ["A contract with this reference already exists."]
    assert form.errors["end_date"] == ["The end date cannot be before the start date."]
    assert "at_risk_percent" in form.errors
    assert form.errors["delivery_center"] == ["This delivery centre belongs to another vendor."]
    assert 'class="invalid-feedback d-block"' in response.text


def test_owner_edits_own_contract(client, owner, contract):
    client.force_login(owner)
    data = contract_data(contract.vendor, reference=contract.reference, title="Renamed")
    response = client.post(reverse("contracts:contract_edit", args=[contract.pk]), data)
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.title == "Renamed"


@pytest.mark.parametrize("who", ["teammate", "viewer"])
def test_others_get_403_editing_a_contract_and_nothing_changes(client, request, contract, who):
    client.force_login(request.getfixturevalue(who))
    url = reverse("contracts:contract_edit", args=[contract.pk])
    assert client.get(url).status_code == 403
    data = contract_data(contract.vendor, reference=contract.reference, title="Hijacked")
    assert client.post(url, data).status_code == 403
    contract.refresh_from_db()
    assert contract.title == "Customer support"


def test_viewer_cannot_add_contracts(client, viewer):
    vendor = VendorFactory()
    client.force_login(viewer)
    assert client.get(reverse("contracts:contract_add")).status_code == 403
    assert client.post(reverse("contracts:contract_add"), contract_data(vendor)).status_code == 403
    assert not Contract.objects.exists()


@pytest.fixture
def contract_mix(owner, teammate):
    india = VendorFactory(name="India Co", country="IN")
    mexico = VendorFactory(name="Mexico Co", country="MX")
    today = datetime.date.today()
    a = ContractFactory(
        reference="A-1",
        vendor=india,
        owner=owner,
        service_type="back_office",
        sourcing_model="offshore",
        engagement_model="bpo",
        end_date=today + datetime.timedelta(days=20),
        title="Claims processing",
    )
    b = ContractFactory(
        reference="B-2",
        vendor=mexico,
        owner=teammate,
        service_type="front_office",
        sourcing_model="nearshore",
        engagement_model="bpm",
        status="draft",
        end_date=today + datetime.timedelta(days=400),
        title="Voice",
    )
    return a, b


@pytest.mark.parametrize(
    "params, expected",
    [
        (lambda a, b: {"vendor": a.vendor_id}, {"A-1"}),
        (lambda a, b: {"owner": b.owner_id}, {"B-2"}),
        (lambda a, b: {"service_type": "back_office"}, {"A-1"}),
        (lambda a, b: {"sourcing_model": "nearshore"}, {"B-2"}),
        (lambda a, b: {"engagement_model": "bpm"}, {"B-2"}),
        (lambda a, b: {"status": "draft"}, {"B-2"}),
        (lambda a, b: {"expiring_within": 30}, {"A-1"}),
        (lambda a, b: {"q": "claims"}, {"A-1"}),
        (lambda a, b: {"q": "mexico"}, {"B-2"}),
    ],
)
def test_contract_filters(client, viewer, contract_mix, params, expected):
    client.force_login(viewer)
    response = client.get(reverse("contracts:contract_list"), params(*contract_mix))
    assert {row.record.reference for row in response.context["table"].rows} == expected


def test_contract_list_export_csv_has_filtered_rows(client, viewer, owner, contract_mix):
    client.force_login(viewer)
    response = client.get(reverse("contracts:contract_list"), {"status": "active", "_export": "csv"})
    assert response["Content-Disposition"] == 'attachment; filename="contracts.csv"'
    rows = csv_rows(response)
    assert rows[0][:3] == ["Reference", "Title", "Vendor"]
    assert [r[0] for r in rows[1:]] == ["A-1"]
    header = rows[0]
    assert rows[1][header.index("Monthly fee")] == "100000.00"
    assert rows[1][header.index("Currency")] == "USD"
    assert rows[1][header.index("Owner")] == owner.get_full_name()  # the person, not the login


def test_contract_list_export_xlsx(client, viewer, contract_mix):
    import openpyxl

    client.force_login(viewer)
    response = client.get(reverse("contracts:contract_list"), {"_export": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in sheet["A"]] == ["Reference", "A-1", "B-2"]


def test_contract_detail_shows_savings_and_sla_status(client, viewer, contract):
    sla = SLAFactory(contract=contract)
    from tests.factories import MeasurementFactory

    MeasurementFactory(sla=sla, value=Decimal("70"), period_start=datetime.date(2026, 10, 1))
    client.force_login(viewer)
    response = client.get(contract.get_absolute_url())
    assert "33.3 %" in response.text  # (150k - 100k) / 150k
    (shown,) = response.context["slas"]
    assert shown.latest_outcome == "major"
    assert shown.chart is not None


@pytest.mark.parametrize("rows", [5, 500])
def test_contract_pages_run_a_constant_number_of_queries(client, viewer, owner, django_assert_max_num_queries, rows):
    contracts = bulk_world(rows, owner)
    client.force_login(viewer)
    client.get(reverse("contracts:contract_list"))
    # session, user, groups, savepoint pair, counts, the filter's vendor / owner choices, the rows
    with django_assert_max_num_queries(11):
        assert client.get(reverse("contracts:contract_list"), {"per_page": 500}).status_code == 200
    with django_assert_max_num_queries(11):
        response = client.get(reverse("contracts:contract_list"), {"_export": "csv"})
        assert b"".join(response.streaming_content).count(b"\n") == rows + 1
    with django_assert_max_num_queries(16):
        assert client.get(contracts[0].get_absolute_url()).status_code == 200
