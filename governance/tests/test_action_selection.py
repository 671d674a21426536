"""Opening a corrective action on breaches ticked on the breach list; editing one through the one service."""

import datetime
import itertools
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance import actions
from governance.models import CorrectiveAction
from tests.factories import BreachFactory, ContractFactory, SLAFactory

pytestmark = pytest.mark.django_db
D = datetime.date
ADD = "/actions/add/"
_days = itertools.count()


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 5, 15, 12, 0), tick=False):
        yield


def _breach(sla, **kwargs):
    day = D(2025, 1, 1) + datetime.timedelta(days=next(_days))
    return BreachFactory(sla=sla, period_start=day, period_end=day, **kwargs)


@pytest.fixture
def sla(contract):
    return SLAFactory(contract=contract, effective_from=D(2025, 1, 1))


@pytest.fixture
def theirs(teammate):
    """A breach of a contract another manager owns."""
    return _breach(SLAFactory(contract=ContractFactory(owner=teammate, reference="THEIRS-1")))


def _ticked_ids(html):
    return {int(v) for v in re.findall(r'name="breaches" value="(\d+)" form="breach-selection"', html)}


FORM = {"title": "Fix it", "action": "Coach", "owner_side": "vendor", "owner_name": "Lead", "due_on": "2026-06-30"}


# --- the breach list ---------------------------------------------------------------------------------------
def test_a_manager_can_tick_only_the_breaches_they_may_act_on(client, owner, sla, theirs):
    mine = _breach(sla)
    withdrawn = _breach(sla, status="withdrawn")
    client.force_login(owner)
    html = client.get("/breaches/").text
    assert _ticked_ids(html) == {mine.pk}
    assert f'value="{withdrawn.pk}"' not in html and f'value="{theirs.pk}"' not in html
    assert 'id="breach-selection"' in html and 'action="/actions/add/"' in html
    assert 'data-testid="open-action-selected"' in html


def test_an_admin_can_tick_every_breach_that_holds(client, admin_user, sla, theirs):
    mine = _breach(sla)
    _breach(sla, status="withdrawn")
    client.force_login(admin_user)
    assert _ticked_ids(client.get("/breaches/").text) == {mine.pk, theirs.pk}


def test_a_viewer_sees_no_selection(client, viewer, sla):
    _breach(sla)
    client.force_login(viewer)
    html = client.get("/breaches/").text
    assert _ticked_ids(html) == set() and "breach-selection" not in html and ">Select<" not in html


def test_exports_carry_no_selection_column(client, owner, sla):
    _breach(sla)
    client.force_login(owner)
    header = b"".join(client.get("/breaches/?_export=csv").streaming_content).decode("utf-8-sig").splitlines()[0]
    assert header.startswith("#,") and "Select" not in header


def test_the_selection_adds_no_query_per_row(client, owner, sla, teammate):
    client.force_login(owner)
    for _ in range(2):
        _breach(sla)
    client.get("/breaches/")

    def count():
        with CaptureQueriesContext(connection) as queries:
            html = client.get("/breaches/").text
        return len(queries), html

    few, _ = count()
    other = SLAFactory(contract=ContractFactory(owner=teammate))
    for _ in range(10):
        _breach(sla)
        _breach(other)
    many, html = count()
    assert many == few
    assert len(_ticked_ids(html)) == 12


# --- opening the action ----------------------------------------------------------------------------------------
def test_ticked_breaches_of_one_contract_prefill_the_form(client, owner, sla):
    first, second = _breach(sla), _breach(sla)
    client.force_login(owner)
    for query in (f"breaches={first.pk}&breaches={second.pk}", f"breaches={first.pk},{second.pk}"):
        page = client.get(f"{ADD}?{query}")
        assert page.status_code == 200
        form = page.context["form"]
        assert sorted(form.initial["breaches"]) == sorted([first.pk, second.pk])
        assert form.initial["title"] == "Fix Service level breaches"
    response = client.post(
        f"{ADD}?breaches={first.pk}&breaches={second.pk}", {**FORM, "breaches": [first.pk, second.pk]}
    )
    assert response.status_code == 302
    action = CorrectiveAction.objects.get()
    assert set(action.breaches.all()) == {first, second} and action.contract == sla.contract


def test_breaches_of_several_contracts_offer_one_action_per_contract(client, owner, sla, theirs):
    other_sla = SLAFactory(contract=ContractFactory(owner=owner, reference="MINE-2"))
    a, b, c = _breach(sla), _breach(sla), _breach(other_sla)
    client.force_login(owner)
    url = f"{ADD}?breaches={a.pk},{c.pk},{b.pk},{theirs.pk}"
    page = client.get(url)
    assert page.status_code == 200
    html = page.text
    assert "The 4 breaches you chose are on 3 contracts" in html
    assert "open one action per contract" in html
    links = dict(re.findall(r'href="/actions/add/\?([^"]+)" data-testid="open-for-([^"]+)"', html))
    assert {v: k.replace("&amp;", "&") for k, v in links.items()} == {
        sla.contract.reference: f"breaches={a.pk}&breaches={b.pk}",
        "MINE-2": f"breaches={c.pk}",
    }
    assert "Only its owner" in html  # THEIRS-1: no link, and why
    # Posting to the mixed selection opens nothing.
    assert client.post(url, {**FORM, "breaches": [a.pk, c.pk]}).status_code == 200
    assert not CorrectiveAction.objects.exists()


def test_a_viewer_gets_no_choice_of_contracts(client, viewer, sla, theirs):
    client.force_login(viewer)
    assert client.get(f"{ADD}?breaches={_breach(sla).pk},{theirs.pk}").status_code == 403


def test_withdrawn_breaches_are_never_linked(client, owner, sla):
    holds = _breach(sla)
    withdrawn = _breach(sla, status="withdrawn")
    client.force_login(owner)
    url = f"{ADD}?breaches={holds.pk},{withdrawn.pk},999999"
    page = client.get(url)
    assert page.context["form"].initial["breaches"] == [holds.pk]
    notes = page.text.split('data-testid="selection-notes"')[1].split("</div>")[0]
    assert f"Breach #{withdrawn.pk} is withdrawn" in notes and "#999999" in notes
    response = client.post(url, {**FORM, "breaches": [holds.pk, withdrawn.pk]})
    assert response.status_code == 200 and "Select a valid choice" in response.text
    assert not CorrectiveAction.objects.exists()


def test_only_withdrawn_breaches_open_an_empty_form_on_their_contract(client, owner, sla):
    withdrawn = _breach(sla, status="withdrawn")
    client.force_login(owner)
    page = client.get(f"{ADD}?breaches={withdrawn.pk}")
    assert page.status_code == 200 and page.context["parent"] == sla.contract
    assert not page.context["form"].initial.get("breaches")


def test_breaches_that_do_not_exist_are_404(client, owner):
    client.force_login(owner)
    assert client.get(f"{ADD}?breaches=999998,999999").status_code == 404


def test_a_manager_cannot_open_an_action_on_ticked_breaches_of_someone_else(client, owner, theirs):
    client.force_login(owner)
    assert client.post(f"{ADD}?breaches={theirs.pk}", {**FORM, "breaches": [theirs.pk]}).status_code == 403
    assert not CorrectiveAction.objects.exists()


# --- editing: one service, one history row ----------------------------------------------------------------------
def test_editing_on_the_web_goes_through_the_service_and_names_what_changed(client, owner, sla):
    breach = _breach(sla)
    action = CorrectiveAction.objects.create(
        contract=sla.contract, title="Fix it", action="Coach", owner_name="Lead", due_on=D(2026, 6, 1)
    )
    action.breaches.set([breach])
    client.force_login(owner)
    data = {
        "breaches": [breach.pk],
        "title": "Fix it properly",
        "root_cause": "",
        "action": "Coach",
        "owner_side": "vendor",
        "owner_name": "Lead",
        "due_on": "2026-06-01",
        "progress_notes": "First session held.",
    }
    assert client.post(f"/actions/{action.pk}/edit/", data).status_code == 302
    action.refresh_from_db()
    assert (action.title, action.progress_notes) == ("Fix it properly", "First session held.")
    entry = action.history.order_by("-history_date", "-history_id").first()
    assert entry.history_user == owner and entry.history_change_reason == "edited title, progress notes"
    assert action.history.count() == 2
    page = client.get(action.get_absolute_url()).text
    assert "First session held." in page.split('data-testid="progress-notes"')[1].split("</div>")[0]


def test_the_action_page_names_the_vendor_when_its_key_marked_it_done(client, viewer, sla):
    action = CorrectiveAction.objects.create(
        contract=sla.contract, title="Fix it", action="Coach", owner_name="Lead", due_on=D(2026, 6, 1)
    )
    actor = actions.Actor.vendor_key("API key sla_ab12… (Acme WFM)")
    actions.update_action(action.pk, actor, status="in_progress", progress_notes="Started.")
    actions.update_action(action.pk, actor, status="done")
    client.force_login(viewer)
    html = client.get(action.get_absolute_url()).text
    assert "by API key sla_ab12… (Acme WFM)" in html.split('data-testid="done-by"')[1].split("</dd>")[0]
    entries = re.findall(r'data-testid="history-entry">(.*?)</li>', html, re.S)
    assert (
        f"<strong>{sla.contract.vendor.name}</strong> · via API key sla_ab12… (Acme WFM): status → done" in (entries[0])
    )


def test_the_database_records_who_marked_an_action_done_a_person_or_the_vendors_key(sla):
    from django.db import IntegrityError, transaction

    values = dict(contract=sla.contract, title="Fix", action="x", owner_name="y", due_on=D(2026, 6, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        CorrectiveAction.objects.create(status="done", done_on=D(2026, 5, 1), **values)
    by_key = CorrectiveAction.objects.create(
        status="done", done_on=D(2026, 5, 1), done_by_key="API key sla_ab12… (Acme WFM)", **values
    )
    assert by_key.done_by_name == "API key sla_ab12… (Acme WFM)"
