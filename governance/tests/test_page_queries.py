"""Every governance page, and the governance panels on the contract, breach and staff pages, runs a fixed
number of queries: counted with a few rows, counted again after adding many, pinned with a ceiling."""

import datetime
import itertools
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance import actions, raci
from governance.models import CorrectiveAction, StaffMeasurement
from tests.factories import (
    BreachFactory,
    ContractFactory,
    MeasurementFactory,
    SLAFactory,
    StaffMemberFactory,
    kpi,
)

pytestmark = pytest.mark.django_db
D = datetime.date
_days = itertools.count()


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 5, 15, 12, 0), tick=False):
        yield


def _queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries), response


def assert_constant(client, url, grow, ceiling, django_assert_max_num_queries):
    """The page's query count stays the same when ``grow()`` adds rows, and stays under ``ceiling``; the
    page with more rows (its text, to check that they show)."""
    client.get(url)  # warm: the session, content types, the first-use caches
    before, _ = _queries(client, url)
    grow()
    after, response = _queries(client, url)
    assert after == before, f"{url}: {before} queries, then {after} with more rows"
    with django_assert_max_num_queries(ceiling):
        client.get(url)
    return response.content.decode()


@pytest.fixture
def world(owner, admin_user):
    contract = ContractFactory(owner=owner, start_date=D(2025, 1, 1))
    slas = [
        SLAFactory(contract=contract, effective_from=D(2025, 1, 1)),
        SLAFactory(contract=contract, effective_from=D(2025, 1, 1), kpi=kpi("quality_score")),
    ]
    return {"contract": contract, "slas": slas, "owner": owner, "admin": admin_user}


def _breach(sla, **kwargs):
    day = D(2025, 1, 1) + datetime.timedelta(days=next(_days))
    return BreachFactory(sla=sla, period_start=day, period_end=day, **kwargs)


def _actions(world, n, breaches_each=2):
    """``n`` actions in every state, with breaches, some done by the vendor's key and verified, with history."""
    contract, sla = world["contract"], world["slas"][0]
    made = []
    for i in range(n):
        action = CorrectiveAction.objects.create(
            contract=contract,
            title=f"Action {i}",
            action="Coach",
            owner_name="Lead",
            due_on=D(2026, 4, 1) + datetime.timedelta(days=i),
            opened_by=world["owner"],
            opened_on=D(2026, 2, 1),
        )
        action.breaches.set([_breach(sla) for _ in range(breaches_each)])
        actor = actions.Actor.vendor_key("API key sla_x… (WFM)") if i % 2 else actions.Actor.person(world["owner"])
        if i % 3:
            actions.update_action(action.pk, actor, status="in_progress", progress_notes=f"Step {i}")
        if i % 3 == 2:
            actions.update_action(action.pk, actor, status="done")
            actions.update_action(action.pk, actions.Actor.person(world["admin"]), status="verified")
        made.append(action)
    return made


def _roster(contract, n, start=0):
    return [
        StaffMemberFactory(contract=contract, full_name=f"Agent {i:03d}", employee_ref=f"E{i:03d}")
        for i in range(start, start + n)
    ]


def _figures(members, slas, months):
    rows = []
    for member in members:
        for sla in slas:
            for month in months:
                start = D(2026, month, 1)
                end = (start + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
                value = Decimal(60 + (member.pk * 7 + month) % 40)
                rows.append(
                    StaffMeasurement(staff_member=member, kpi=sla.kpi, period_start=start, period_end=end, value=value)
                )
    StaffMeasurement.objects.bulk_create(rows)


# --- governance pages ----------------------------------------------------------------------------------------
def test_action_list(client, viewer, world, django_assert_max_num_queries):
    _actions(world, 2)
    client.force_login(viewer)
    page = assert_constant(client, "/actions/", lambda: _actions(world, 20), 10, django_assert_max_num_queries)
    assert "Action 19" in page and "22 found" in page


def test_action_detail(client, owner, world, django_assert_max_num_queries):
    action = _actions(world, 1, breaches_each=1)[0]

    def grow():
        action.breaches.add(*[_breach(world["slas"][1]) for _ in range(15)])
        for n in range(10):
            actions.update_action(action.pk, actions.Actor.person(owner), progress_notes=f"Note {n}")
        actions.update_action(action.pk, actions.Actor.vendor_key("API key sla_y… (WFM)"), status="in_progress")

    client.force_login(owner)
    page = assert_constant(client, f"/actions/{action.pk}/", grow, 10, django_assert_max_num_queries)
    assert page.count('data-testid="history-entry"') == 12 and page.count("/breaches/") >= 16


def test_raci_page_and_grid(client, owner, world, django_assert_max_num_queries):
    contract = world["contract"]
    grid = raci.Grid(parties=[("client", "Ops lead"), ("vendor", "Team lead")], activities=["Report"])
    grid.cells = {(0, 0): "A", (0, 1): "R"}
    raci.save_grid(contract, grid)

    def grow():
        raci.apply_template(contract)  # 8 activities × 4 parties

    client.force_login(owner)
    url = f"/contracts/{contract.pk}/raci/"
    page = assert_constant(client, url, grow, 9, django_assert_max_num_queries)
    assert "Onboard and train replacements" in page
    client.get(url + "?_export=xlsx")
    with django_assert_max_num_queries(8):
        assert client.get(url + "?_export=xlsx").status_code == 200


def test_staff_figures_grid(client, owner, world, django_assert_max_num_queries):
    contract, slas = world["contract"], world["slas"]
    few = _roster(contract, 2)
    _figures(few, slas, [4])

    def grow():
        more = _roster(contract, 25, start=10)
        _figures(more, slas, [3, 4])

    client.force_login(owner)
    url = f"/contracts/{contract.pk}/staff-figures/?kpi=service_level&period=2026-04"
    page = assert_constant(client, url, grow, 11, django_assert_max_num_queries)
    assert page.count('name="value-') == 27


def test_staff_member_scorecard_page(client, viewer, world, django_assert_max_num_queries):
    contract, slas = world["contract"], world["slas"]
    member = _roster(contract, 1)[0]
    _figures([member], slas[:1], [3])

    def grow():
        StaffMeasurement.objects.filter(staff_member=member).delete()
        _figures([member], slas, [1, 2, 3, 4])
        _figures(_roster(contract, 10, start=5), slas, [1, 2, 3, 4])

    client.force_login(viewer)
    page = assert_constant(client, member.get_absolute_url(), grow, 12, django_assert_max_num_queries)
    assert "4 of 4 periods" in page or page.count("periods met") == 2


def test_qbr_page(client, viewer, world, django_assert_max_num_queries):
    contract, slas = world["contract"], world["slas"]
    vendor = contract.vendor
    MeasurementFactory(sla=slas[0], period_start=D(2026, 1, 1), value=Decimal("70"))

    def grow():
        for n in range(4):
            other = ContractFactory(vendor=vendor, owner=world["owner"], start_date=D(2025, 1, 1))
            sla = SLAFactory(contract=other, effective_from=D(2025, 1, 1))
            for month in (1, 2, 3):
                measurement = MeasurementFactory(sla=sla, period_start=D(2026, month, 1), value=Decimal(70 + n))
                BreachFactory(
                    sla=sla,
                    measurement=measurement,
                    period_start=measurement.period_start,
                    period_end=measurement.period_end,
                    service_credit=Decimal("100.00"),
                )
            CorrectiveAction.objects.create(
                contract=other, title="Fix", action="x", owner_name="y", due_on=D(2026, 3, 1), opened_on=D(2026, 1, 5)
            )

    client.force_login(viewer)
    url = f"/vendors/{vendor.pk}/qbr/?quarter=2026-Q1"
    page = assert_constant(client, url, grow, 21, django_assert_max_num_queries)
    assert "1,200.00" in page and "overdue 4" in page


# --- governance panels on the pages of lower apps -------------------------------------------------------------------
def test_contract_page_governance_panels(client, owner, world, django_assert_max_num_queries):
    contract, slas = world["contract"], world["slas"]
    _actions(world, 1)
    members = _roster(contract, 2)
    _figures(members, slas, [4])

    def grow():
        _actions(world, 15)
        raci.apply_template(contract)
        more = _roster(contract, 20, start=10)
        _figures(more, slas, [3, 4])

    client.force_login(owner)
    page = assert_constant(client, contract.get_absolute_url(), grow, 18, django_assert_max_num_queries)
    assert "Onboard and train replacements" in page and "Action 14" in page
    assert page.split('data-testid="top-performers"')[1].split("</ol>")[0].count("<li>") == 3


def test_breach_page_governance_panel(client, owner, world, django_assert_max_num_queries):
    breach = _breach(world["slas"][0])

    def grow():
        for action in _actions(world, 12, breaches_each=0):
            action.breaches.add(breach)

    client.force_login(owner)
    page = assert_constant(client, breach.get_absolute_url(), grow, 10, django_assert_max_num_queries)
    assert page.split('data-testid="breach-actions-panel"')[1].split("</ul>")[0].count("<li") == 12
