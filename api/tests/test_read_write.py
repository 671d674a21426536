"""Read endpoints (scoped, filtered, cursor-paginated, fixed queries per page) and the writes roles allow."""

import datetime

import pytest
from django.test.utils import CaptureQueriesContext

from contracts.models import ReplacementObligation, StaffMember
from kpis.models import Breach
from tests.factories import (
    BreachFactory,
    ContractFactory,
    MeasurementFactory,
    ReplacementObligationFactory,
    SLAFactory,
    StaffMemberFactory,
)

pytestmark = pytest.mark.django_db
D = datetime.date
ENDPOINTS = ["vendors", "contracts", "slas", "measurements", "breaches", "staff", "obligations"]


@pytest.fixture
def rows(sla, other_sla):
    """One of each on the vendor's contract and on another vendor's."""
    for each in (sla, other_sla):
        measurement = MeasurementFactory(sla=each)
        BreachFactory(sla=each, measurement=measurement)
        ReplacementObligationFactory(departed__contract=each.contract)
        StaffMemberFactory(contract=each.contract)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_personal_keys_of_every_role_read_everything(key_client, viewer, endpoint, rows):
    response = key_client(viewer).get(f"/api/v1/{endpoint}/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"next", "previous", "results"}
    assert len(body["results"]) >= 2


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_vendor_keys_read_only_their_vendors_rows(vendor_client, vendor, contract, endpoint, rows):
    results = vendor_client.get(f"/api/v1/{endpoint}/").json()["results"]
    assert results
    for row in results:
        if endpoint == "vendors":
            assert row["id"] == vendor.pk
        elif endpoint == "contracts":
            assert row["id"] == contract.pk
        elif endpoint == "staff":
            assert row["contract"] == contract.reference
        else:
            assert row["contract"] == contract.pk


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_no_key_is_401_on_every_endpoint(client, endpoint):
    assert client.get(f"/api/v1/{endpoint}/").status_code == 401


def test_vendor_key_cannot_read_another_vendors_row(vendor_client, other_contract):
    response = vendor_client.get(f"/api/v1/contracts/{other_contract.pk}/")
    assert response.status_code == 404
    assert response.json() == {"detail": "No Contract matches the given query."}


def test_lists_filter_with_the_web_filtersets(key_client, viewer, rows, contract, vendor):
    client = key_client(viewer)
    assert [c["reference"] for c in client.get("/api/v1/contracts/", {"vendor": vendor.pk}).json()["results"]] == [
        "CX-1"
    ]
    assert [c["reference"] for c in client.get("/api/v1/contracts/", {"q": "CX-2"}).json()["results"]] == ["CX-2"]
    breaches = client.get("/api/v1/breaches/", {"contract": contract.pk, "severity": "major"}).json()["results"]
    assert [b["contract"] for b in breaches] == [contract.pk]
    measurements = client.get("/api/v1/measurements/", {"contract": contract.pk}).json()["results"]
    assert [m["contract_reference"] for m in measurements] == ["CX-1"]
    assert client.get("/api/v1/staff/", {"state": "departed", "contract": contract.pk}).json()["results"]
    bad = client.get("/api/v1/breaches/", {"severity": "huge"})
    assert bad.status_code == 400 and "severity" in bad.json()["errors"]


def test_cursor_pages_follow_each_other(key_client, viewer, contract):
    for n in range(5):
        StaffMemberFactory(contract=contract, employee_ref=f"E{n}")
    client = key_client(viewer)
    page = client.get("/api/v1/staff/", {"page_size": 2}).json()
    seen = [r["employee_ref"] for r in page["results"]]
    while page["next"]:
        page = client.get(page["next"]).json()
        seen += [r["employee_ref"] for r in page["results"]]
    assert seen == [f"E{n}" for n in range(5)]


def _many(endpoint, count):
    vendor_contract = ContractFactory()
    sla = SLAFactory(contract=vendor_contract)
    for n in range(count):
        period = D(2020, 1, 1) + datetime.timedelta(days=31 * n)
        period = period.replace(day=1)
        if endpoint in ("measurements", "breaches"):
            measurement = MeasurementFactory(sla=sla, period_start=period)
            if endpoint == "breaches":
                BreachFactory(sla=sla, measurement=measurement, period_start=period, period_end=period)
        elif endpoint in ("staff", "obligations"):
            ReplacementObligationFactory(departed__contract=vendor_contract)
        elif endpoint == "slas":
            SLAFactory(contract=ContractFactory(vendor=vendor_contract.vendor))
        else:
            ContractFactory()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_page_costs_the_same_queries_for_5_or_200_rows(key_client, viewer, endpoint):
    client = key_client(viewer)
    client.get("/api/v1/vendors/")  # records last use: not counted below
    from django.db import connection

    counts = []
    for size in (5, 200):
        _many(endpoint, size if not counts else size - 5)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/api/v1/{endpoint}/", {"page_size": 1000})
        assert response.status_code == 200
        assert len(response.json()["results"]) >= size
        counts.append(len(queries))
    assert counts[0] == counts[1] and counts[1] <= 5, counts


# --- breach status and notes ------------------------------------------------------------------------


@pytest.fixture
def breach(sla):
    return BreachFactory(sla=sla, measurement=MeasurementFactory(sla=sla))


def test_owner_acknowledges_a_breach_and_is_named_in_its_history(key_client, owner, breach):
    response = key_client(owner).patch(
        f"/api/v1/breaches/{breach.pk}/", {"status": "acknowledged", "notes": "on it"}, format="json"
    )
    assert response.status_code == 200, response.json()
    breach.refresh_from_db()
    assert (breach.status, breach.notes) == ("acknowledged", "on it")
    assert breach.history.latest().history_user == owner


def test_waiving_needs_a_reason_which_joins_the_notes(key_client, owner, breach):
    client = key_client(owner)
    refused = client.patch(f"/api/v1/breaches/{breach.pk}/", {"status": "waived"}, format="json")
    assert refused.status_code == 400 and "reason" in refused.json()["errors"]
    response = client.patch(f"/api/v1/breaches/{breach.pk}/", {"status": "waived", "reason": "outage"}, format="json")
    assert response.status_code == 200
    breach.refresh_from_db()
    assert breach.status == "waived" and "outage" in breach.notes


def test_a_withdrawn_breach_keeps_its_status(key_client, owner, breach):
    Breach.objects.filter(pk=breach.pk).update(status="withdrawn")
    response = key_client(owner).patch(f"/api/v1/breaches/{breach.pk}/", {"status": "open"}, format="json")
    assert response.status_code == 400 and "status" in response.json()["errors"]
    notes = key_client(owner).patch(f"/api/v1/breaches/{breach.pk}/", {"notes": "seen"}, format="json")
    assert notes.status_code == 200


def test_facts_cannot_be_patched(key_client, owner, breach):
    response = key_client(owner).patch(f"/api/v1/breaches/{breach.pk}/", {"severity": "minor"}, format="json")
    assert response.status_code == 400
    breach.refresh_from_db()
    assert breach.severity == "major"


@pytest.mark.parametrize("who", ["teammate", "viewer", "vendor"])
def test_others_cannot_change_a_breach(request, key_client, vendor_client, breach, who):
    client = vendor_client if who == "vendor" else key_client(request.getfixturevalue(who))
    response = client.patch(f"/api/v1/breaches/{breach.pk}/", {"status": "acknowledged"}, format="json")
    assert response.status_code == 403
    breach.refresh_from_db()
    assert breach.status == "open"


def test_breaches_cannot_be_put_or_deleted(key_client, admin_user, breach):
    client = key_client(admin_user)
    for method in (client.put, client.delete):
        response = method(f"/api/v1/breaches/{breach.pk}/", {}, format="json")
        assert response.status_code == 405 and "detail" in response.json()


# --- staff joiners and leavers ----------------------------------------------------------------------

JOINER = {
    "contract": "CX-1",
    "employee_ref": "A-77",
    "full_name": "Ana Cruz",
    "role": "Agent",
    "joined_on": "2026-05-04",
}


def test_vendor_key_adds_a_joiner_and_records_a_leaver_with_its_obligation(vendor_client, contract):
    response = vendor_client.post("/api/v1/staff/", JOINER, format="json")
    assert response.status_code == 201, response.json()
    member = StaffMember.objects.get(employee_ref="A-77")
    assert member.history.latest().history_user is None
    left = vendor_client.patch(
        f"/api/v1/staff/{member.pk}/", {"left_on": "2026-10-02", "leave_reason": "voluntary"}, format="json"
    )
    assert left.status_code == 200, left.json()
    obligation = ReplacementObligation.objects.get(departed=member)
    assert obligation.due_on == D(2026, 10, 2) + datetime.timedelta(days=contract.replacement_days)
    assert left.json()["replacement_obligation"] == obligation.pk


def test_roster_rules_are_the_web_apps(vendor_client, contract):
    assert vendor_client.post("/api/v1/staff/", JOINER, format="json").status_code == 201
    duplicate = vendor_client.post("/api/v1/staff/", JOINER, format="json")
    assert duplicate.status_code == 400
    member = StaffMember.objects.get(employee_ref="A-77")
    no_reason = vendor_client.patch(f"/api/v1/staff/{member.pk}/", {"left_on": "2026-10-02"}, format="json")
    assert no_reason.status_code == 400 and "leave_reason" in no_reason.json()["errors"]
    before_joining = vendor_client.patch(
        f"/api/v1/staff/{member.pk}/", {"left_on": "2026-01-02", "leave_reason": "other"}, format="json"
    )
    assert before_joining.status_code == 400
    assert not ReplacementObligation.objects.exists()


def test_vendor_key_cannot_change_another_vendors_roster(vendor_client, other_contract):
    response = vendor_client.post("/api/v1/staff/", {**JOINER, "contract": "CX-2"}, format="json")
    assert response.status_code == 403
    member = StaffMemberFactory(contract=other_contract)
    patch = vendor_client.patch(
        f"/api/v1/staff/{member.pk}/", {"left_on": "2026-10-02", "leave_reason": "voluntary"}, format="json"
    )
    assert patch.status_code == 404
    assert not StaffMember.objects.filter(employee_ref="A-77").exists()


def test_personal_keys_change_rosters_as_their_role_allows(key_client, owner, teammate, viewer, contract):
    assert key_client(viewer).post("/api/v1/staff/", JOINER, format="json").status_code == 403
    assert key_client(teammate).post("/api/v1/staff/", JOINER, format="json").status_code == 403
    response = key_client(owner).post("/api/v1/staff/", JOINER, format="json")
    assert response.status_code == 201
    member = StaffMember.objects.get(employee_ref="A-77")
    assert member.history.latest().history_user == owner
    departure = {"left_on": "2026-10-02", "leave_reason": "voluntary"}
    assert key_client(teammate).patch(f"/api/v1/staff/{member.pk}/", departure, format="json").status_code == 403
    assert key_client(owner).patch(f"/api/v1/staff/{member.pk}/", departure, format="json").status_code == 200


def test_read_only_endpoints_refuse_writes(vendor_client, contract):
    response = vendor_client.post("/api/v1/contracts/", {}, format="json")
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "POST" not allowed.'}
