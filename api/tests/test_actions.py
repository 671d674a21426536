"""``/api/v1/actions/``: corrective actions read and updated per key kind and role, through the web's workflow."""

import datetime
import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.models import ApiKey
from governance.choices import ActionStatus
from governance.models import CorrectiveAction
from tests.factories import BreachFactory

from .conftest import client_for

pytestmark = pytest.mark.django_db
D = datetime.date
URL = "/api/v1/actions/"
_days = itertools.count()


def _breach(sla):
    """A breach of its own day (one per SLA, period and kind)."""
    day = D(2025, 1, 1) + datetime.timedelta(days=next(_days))
    return BreachFactory(sla=sla, period_start=day, period_end=day)


def _action(contract, **kwargs):
    values = dict(title="Fix it", action="Coach the team", owner_name="Team lead", due_on=D(2026, 12, 15))
    values.update(kwargs)
    return CorrectiveAction.objects.create(contract=contract, **values)


def _state(action):
    """What a refused request must leave as it was."""
    action.refresh_from_db()
    fields = ("status", "progress_notes", "title", "due_on", "done_by_id", "done_by_key", "verified_by_id")
    return {name: getattr(action, name) for name in fields}, action.history.count()


@pytest.fixture
def vendor_action(sla):
    action = _action(sla.contract, owner_side="vendor", title="Retrain the evening shift")
    action.breaches.set([BreachFactory(sla=sla)])
    return action


@pytest.fixture
def client_action(contract):
    return _action(contract, owner_side="client", title="Send the export on day 1")


@pytest.fixture
def foreign_action(other_contract):
    return _action(other_contract, owner_side="vendor", title="Someone else's")


# --- reading -----------------------------------------------------------------------------------------------------
def test_a_vendor_key_reads_its_vendors_actions_only(vendor_client, vendor_action, client_action, foreign_action):
    rows = vendor_client.get(URL).json()["results"]
    assert {r["title"] for r in rows} == {"Retrain the evening shift", "Send the export on day 1"}
    assert vendor_client.get(f"{URL}{foreign_action.pk}/").status_code == 404
    one = vendor_client.get(f"{URL}{vendor_action.pk}/").json()
    assert one["contract_reference"] == "CX-1" and one["owner_side"] == "vendor"
    assert one["breaches"] == list(vendor_action.breaches.values_list("pk", flat=True))
    assert one["status"] == "open" and one["overdue"] is False and one["ineffective"] is False


def test_personal_keys_of_every_role_read_every_action(key_client, viewer, vendor_action, foreign_action):
    rows = key_client(viewer).get(URL).json()["results"]
    assert {r["id"] for r in rows} == {vendor_action.pk, foreign_action.pk}


def test_actions_filter_with_the_web_lists_filters(key_client, viewer, vendor_action, client_action, contract):
    late = _action(contract, title="Late", due_on=D(2026, 11, 1), status=ActionStatus.IN_PROGRESS)
    client = key_client(viewer)

    def titles(**params):
        response = client.get(URL, params)
        assert response.status_code == 200, response.json()
        return {r["title"] for r in response.json()["results"]}

    assert titles(overdue="on") == {"Late"}
    assert titles(status="in_progress") == {"Late"}
    assert titles(owner_side="client") == {"Send the export on day 1"}
    assert titles(q="evening") == {"Retrain the evening shift"}
    assert titles(breach=vendor_action.breaches.get().pk) == {"Retrain the evening shift"}
    assert client.get(f"{URL}{late.pk}/").json()["overdue"] is True
    bad = client.get(URL, {"status": "someday"})
    assert bad.status_code == 400 and "status" in bad.json()["errors"]


def test_mine_is_no_error_for_a_vendor_key(vendor_client, vendor_action):
    assert [r["id"] for r in vendor_client.get(URL, {"mine": "on"}).json()["results"]] == [vendor_action.pk]


def test_pages_follow_a_cursor_in_a_fixed_number_of_queries(key_client, viewer, contract, sla):
    client = key_client(viewer)

    def add_actions(n):
        for i in range(n):
            action = _action(contract, title=f"A{i}")
            action.breaches.set([_breach(sla), _breach(sla)])

    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            body = client.get(URL, {"page_size": 50}).json()
        return len(queries), body

    client.get(URL)  # the key's first use of the minute records its last-used time: not part of a page
    add_actions(3)
    few, _ = count_queries()
    add_actions(30)
    many, body = count_queries()
    assert many == few <= 8
    assert len(body["results"]) == 33 and all(len(r["breaches"]) == 2 for r in body["results"])
    first = client.get(URL, {"page_size": 20}).json()
    second = client.get(first["next"]).json()
    assert len(first["results"]) == 20 and len(second["results"]) == 13
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}


# --- keys that do not open the door -------------------------------------------------------------------------------
def test_no_key_is_401(client, vendor_action):
    assert client.get(URL).status_code == 401
    assert client.patch(f"{URL}{vendor_action.pk}/", {"status": "in_progress"}, "application/json").status_code == 401
    assert _state(vendor_action)[0]["status"] == ActionStatus.OPEN


@pytest.mark.parametrize("state", ["expired", "revoked"])
def test_expired_or_revoked_vendor_key_is_401_and_changes_nothing(vendor, vendor_action, state):
    key, raw = ApiKey.create_key(name="Acme WFM", vendor=vendor)
    if state == "revoked":
        key.revoke()
    else:
        key.expires_at = timezone.now() - datetime.timedelta(seconds=1)
        key.save()
    before = _state(vendor_action)
    response = client_for(raw).patch(f"{URL}{vendor_action.pk}/", {"status": "in_progress"}, format="json")
    assert response.status_code == 401
    assert response.json()["detail"] == f"This API key has {'been revoked' if state == 'revoked' else 'expired'}."
    assert _state(vendor_action) == before


# --- the vendor updates the actions it owns -------------------------------------------------------------------------
def test_a_vendor_key_moves_its_action_to_done_and_the_client_verifies(vendor_client, vendor_action, owner):
    url = f"{URL}{vendor_action.pk}/"
    response = vendor_client.patch(
        url, {"status": "in_progress", "progress_notes": "Two sessions booked."}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "in_progress"
    assert response.json()["progress_notes"] == "Two sessions booked."
    response = vendor_client.patch(url, {"status": "done"}, format="json")
    body = response.json()
    assert body["status"] == "done" and body["done_on"] == "2026-11-30"
    assert body["done_by"].startswith("API key sla_") and body["done_by"].endswith("(Acme WFM)")

    # History names the key, not a person.
    latest = vendor_action.history.order_by("-history_date", "-history_id")
    assert [h.history_user for h in latest[:2]] == [None, None]
    assert latest[0].history_change_reason.startswith("vendor via API key sla_")
    assert latest[0].history_change_reason.endswith("(Acme WFM): status → done")
    assert "progress notes; status → in progress" in latest[1].history_change_reason

    # The vendor never verifies; the client's owner does (a different party than the one who marked it done).
    before = _state(vendor_action)
    refused = vendor_client.patch(url, {"status": "verified"}, format="json")
    assert refused.status_code == 403 and "the client verifies or cancels it" in refused.json()["detail"]
    assert _state(vendor_action) == before
    from governance.actions import change_status

    change_status(vendor_action.pk, "verified", owner)
    vendor_action.refresh_from_db()
    assert (vendor_action.status, vendor_action.verified_by, vendor_action.done_by) == ("verified", owner, None)


def test_the_same_status_again_changes_nothing(vendor_client, vendor_action):
    url = f"{URL}{vendor_action.pk}/"
    vendor_client.patch(url, {"status": "in_progress"}, format="json")
    before = _state(vendor_action)
    again = vendor_client.patch(url, {"status": "in_progress"}, format="json")
    assert again.status_code == 200 and _state(vendor_action) == before


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"status": "cancelled"}, "the client verifies or cancels it"),
        ({"title": "Renamed"}, "status and progress_notes only"),
        ({"due_on": "2027-06-30", "progress_notes": "later"}, "status and progress_notes only"),
    ],
)
def test_a_vendor_key_is_refused_what_is_the_clients(vendor_client, vendor_action, body, detail):
    before = _state(vendor_action)
    response = vendor_client.patch(f"{URL}{vendor_action.pk}/", body, format="json")
    assert response.status_code == 403 and detail in response.json()["detail"]
    assert _state(vendor_action) == before


def test_a_vendor_key_cannot_update_the_clients_actions(vendor_client, client_action):
    before = _state(client_action)
    response = vendor_client.patch(f"{URL}{client_action.pk}/", {"progress_notes": "done!"}, format="json")
    assert response.status_code == 403 and _state(client_action) == before


def test_a_vendor_key_cannot_reopen_a_cancelled_action(vendor_client, vendor_action, owner):
    from governance.actions import change_status

    change_status(vendor_action.pk, "cancelled", owner)
    before = _state(vendor_action)
    response = vendor_client.patch(f"{URL}{vendor_action.pk}/", {"status": "open"}, format="json")
    assert response.status_code == 403 and "only the client reopens it" in response.json()["detail"]
    assert _state(vendor_action) == before


def test_another_vendors_key_does_not_see_the_action(other_vendor, vendor_action):
    _key, raw = ApiKey.create_key(name="Other", vendor=other_vendor)
    before = _state(vendor_action)
    assert client_for(raw).patch(f"{URL}{vendor_action.pk}/", {"status": "done"}, format="json").status_code == 404
    assert _state(vendor_action) == before


def test_bad_values_are_400_with_the_field_and_nothing_changes(vendor_client, vendor_action):
    url = f"{URL}{vendor_action.pk}/"
    before = _state(vendor_action)
    cases = [
        ({"status": "someday"}, "status", "is not a status"),
        ({"status": "done", "progress_notes": "x" * 10_001}, "progress_notes", "at most 10000 characters"),
        ({"status": None}, "status", "Give a string."),
        ({"colour": "red"}, "colour", "Not a field that can be changed."),
    ]
    for body, field, message in cases:
        response = vendor_client.patch(url, body, format="json")
        assert response.status_code == 400, body
        assert message in " ".join(response.json()["errors"][field]), response.json()
    assert vendor_client.patch(url, ["done"], format="json").status_code == 400
    assert _state(vendor_action) == before


# --- personal keys follow the web policy ---------------------------------------------------------------------------
def test_the_owners_key_edits_the_action_as_its_form_does(key_client, owner, vendor_action, sla):
    client = key_client(owner)
    second = _breach(sla)
    linked = [*vendor_action.breaches.values_list("pk", flat=True), second.pk]
    response = client.patch(
        f"{URL}{vendor_action.pk}/",
        {"title": "Retrain both shifts", "due_on": "2027-01-15", "breaches": linked, "status": "in_progress"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["title"], body["due_on"], body["status"]) == ("Retrain both shifts", "2027-01-15", "in_progress")
    assert sorted(body["breaches"]) == sorted(linked)
    entry = vendor_action.history.order_by("-history_date", "-history_id").first()
    assert entry.history_user == owner
    assert entry.history_change_reason.startswith("API: edited title, due on; status → in progress; breaches linked")


def test_the_form_refuses_a_bad_edit_and_nothing_changes(key_client, owner, vendor_action, other_sla):
    client = key_client(owner)
    url = f"{URL}{vendor_action.pk}/"
    before = _state(vendor_action)
    breaches = set(vendor_action.breaches.all())
    foreign = BreachFactory(sla=other_sla)
    response = client.patch(url, {"breaches": [foreign.pk], "status": "in_progress"}, format="json")
    assert response.status_code == 400 and "breaches" in response.json()["errors"]
    response = client.patch(url, {"due_on": "1999-12-31", "status": "in_progress"}, format="json")
    assert response.status_code == 400 and "due_on" in response.json()["errors"]
    response = client.patch(url, {"title": "", "status": "in_progress"}, format="json")
    assert response.status_code == 400 and "title" in response.json()["errors"]
    assert _state(vendor_action) == before and set(vendor_action.breaches.all()) == breaches


def test_a_step_the_workflow_does_not_have_is_400(key_client, owner, vendor_action):
    before = _state(vendor_action)
    response = key_client(owner).patch(f"{URL}{vendor_action.pk}/", {"status": "verified"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["status"] == ["An open action cannot become verified."]
    assert _state(vendor_action) == before


def test_no_one_verifies_what_they_marked_done(key_client, owner, admin_user, vendor_action):
    url = f"{URL}{vendor_action.pk}/"
    assert key_client(owner).patch(url, {"status": "done"}, format="json").status_code == 200
    before = _state(vendor_action)
    refused = key_client(owner).patch(url, {"status": "verified"}, format="json")
    assert refused.status_code == 403 and "someone else must verify it" in refused.json()["detail"]
    assert _state(vendor_action) == before
    verified = key_client(admin_user).patch(url, {"status": "verified"}, format="json")
    assert verified.status_code == 200 and verified.json()["verified_by"] == admin_user.get_full_name()


@pytest.mark.parametrize("who", ["teammate", "viewer"])
def test_other_managers_and_viewers_keys_are_403(request, key_client, who, vendor_action):
    user = request.getfixturevalue(who)
    before = _state(vendor_action)
    response = key_client(user).patch(f"{URL}{vendor_action.pk}/", {"progress_notes": "x"}, format="json")
    assert response.status_code == 403
    assert _state(vendor_action) == before


def test_put_and_delete_are_not_offered(key_client, admin_user, vendor_action):
    client = key_client(admin_user)
    assert client.put(f"{URL}{vendor_action.pk}/", {"status": "done"}, format="json").status_code == 405
    assert client.delete(f"{URL}{vendor_action.pk}/").status_code == 405
    assert CorrectiveAction.objects.filter(pk=vendor_action.pk, status="open").exists()


def test_the_schema_describes_the_actions_endpoint(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    assert set(paths["/api/v1/actions/{id}/"]) >= {"get", "patch"}
    assert "put" not in paths["/api/v1/actions/{id}/"]
    request_schema = paths["/api/v1/actions/{id}/"]["patch"]["requestBody"]["content"]["application/json"]["schema"]
    name = request_schema["$ref"].rsplit("/", 1)[-1]
    assert {"status", "progress_notes", "breaches"} <= set(schema["components"]["schemas"][name]["properties"])
    assert "403" in paths["/api/v1/actions/{id}/"]["patch"]["responses"]


def test_the_schema_validates_without_warnings(tmp_path):
    """Generated, validated as OpenAPI 3 and free of drf-spectacular warnings (an enum name collision, an
    untyped field…) with the actions' endpoint in it."""
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert "ActionStatusEnum:" in (tmp_path / "schema.yaml").read_text()
