import datetime
import io
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.urls import reverse

from contracts.choices import EngagementModel
from governance import actions, raci
from governance.choices import ActionStatus
from governance.models import CorrectiveAction, RaciEntry, ScorecardPolicy, StaffMeasurement
from reports import queries
from tests.factories import BreachFactory, ContractFactory, SLAFactory, StaffMemberFactory

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 5, 15)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 5, 15, 12, 0), tick=False):
        yield


@pytest.fixture
def breach(contract):
    sla = SLAFactory(contract=contract, effective_from=datetime.date(2025, 1, 1))
    return BreachFactory(sla=sla, contract=contract)


def _action(contract, **kwargs):
    defaults = dict(title="Fix it", action="Coach", owner_name="Team lead", due_on=datetime.date(2026, 6, 1))
    defaults.update(kwargs)
    return CorrectiveAction.objects.create(contract=contract, **defaults)


# --- corrective actions ----------------------------------------------------------------------------------
def test_owner_opens_an_action_from_a_breach(client, owner, breach):
    client.force_login(owner)
    url = reverse("governance:action_add") + f"?breaches={breach.pk}"
    page = client.get(url)
    assert page.status_code == 200 and "Fix Service level" in page.content.decode()
    response = client.post(
        url,
        {
            "breaches": [breach.pk],
            "title": "Fix service level",
            "root_cause": "Understaffed",
            "action": "Two more agents",
            "owner_side": "vendor",
            "owner_name": "Team lead",
            "due_on": "2026-06-30",
        },
    )
    action = CorrectiveAction.objects.get()
    assert response.status_code == 302 and action.contract == breach.contract and action.opened_by == owner
    assert list(action.breaches.all()) == [breach]
    assert action.history.count() == 1


def test_an_action_links_only_breaches_of_its_contract(client, owner, breach):
    other = BreachFactory(sla=SLAFactory(contract=ContractFactory(owner=owner)))
    client.force_login(owner)
    response = client.post(
        reverse("governance:action_add") + f"?contract={breach.contract_id}",
        {
            "breaches": [breach.pk, other.pk],
            "title": "x",
            "action": "y",
            "owner_side": "vendor",
            "owner_name": "z",
            "due_on": "2026-06-30",
        },
    )
    assert response.status_code == 200
    assert not CorrectiveAction.objects.exists()
    assert "Select a valid choice" in response.content.decode() or "Only breaches of contract" in (
        response.content.decode()
    )


def test_a_manager_cannot_open_an_action_on_someone_elses_contract(client, teammate, breach):
    client.force_login(teammate)
    response = client.post(
        reverse("governance:action_add") + f"?breaches={breach.pk}",
        {
            "breaches": [breach.pk],
            "title": "x",
            "action": "y",
            "owner_side": "vendor",
            "owner_name": "z",
            "due_on": "2026-06-30",
        },
    )
    assert response.status_code == 403 and not CorrectiveAction.objects.exists()


def test_viewer_reads_but_cannot_move_an_action(client, viewer, contract):
    action = _action(contract)
    client.force_login(viewer)
    assert client.get(action.get_absolute_url()).status_code == 200
    response = client.post(reverse("governance:action_status", args=[action.pk]), {"status": "in_progress"})
    assert response.status_code == 403
    action.refresh_from_db()
    assert action.status == ActionStatus.OPEN


def test_verification_needs_a_second_person(client, owner, admin_user, contract):
    action = _action(contract)
    client.force_login(owner)
    url = reverse("governance:action_status", args=[action.pk])
    client.post(url, {"status": "in_progress"})
    client.post(url, {"status": "done"})
    response = client.post(url, {"status": "verified"}, follow=True)
    action.refresh_from_db()
    assert action.status == ActionStatus.DONE and action.done_by == owner
    assert "someone else must verify it" in response.content.decode()
    client.force_login(admin_user)
    client.post(url, {"status": "verified"})
    action.refresh_from_db()
    assert (action.status, action.verified_by, action.verified_on) == (ActionStatus.VERIFIED, admin_user, TODAY)


def test_the_database_refuses_self_verification(owner, contract):
    action = _action(contract, status=ActionStatus.DONE, done_by=owner, done_on=TODAY)
    action.status, action.verified_by, action.verified_on = ActionStatus.VERIFIED, owner, TODAY
    with pytest.raises(IntegrityError), transaction.atomic():
        action.save()


def test_a_repeat_breach_within_three_periods_flags_a_verified_action(owner, admin_user, breach):
    action = _action(breach.contract)
    action.breaches.set([breach])
    actions.change_status(action.pk, "done", owner, today=datetime.date(2026, 2, 10))
    actions.change_status(action.pk, "verified", admin_user, today=datetime.date(2026, 2, 15))
    action.refresh_from_db()
    assert action.watch_until == datetime.date(2026, 5, 31)  # March, April, May
    assert not CorrectiveAction.objects.with_effectiveness().get().ineffective
    BreachFactory(sla=breach.sla, period_start=datetime.date(2026, 6, 1), period_end=datetime.date(2026, 6, 30))
    assert not CorrectiveAction.objects.with_effectiveness().get().ineffective  # fourth period: outside
    BreachFactory(sla=breach.sla, period_start=datetime.date(2026, 4, 1), period_end=datetime.date(2026, 4, 30))
    assert CorrectiveAction.objects.with_effectiveness().get().ineffective


def test_overdue_actions_are_on_the_dashboard_and_in_the_digest(client, owner, contract):
    _action(contract, title="Late fix", due_on=datetime.date(2026, 5, 1))
    _action(contract, title="Future fix", due_on=datetime.date(2026, 6, 1))
    client.force_login(owner)
    page = client.get("/").content.decode()
    assert "Late fix" in page and "Future fix" not in page
    from governance.digest import overdue_actions_sections
    from kpis.digest import ALL_VENDORS, DigestScope

    scope = DigestScope(frozenset({owner.pk}), all_vendors=True, week_start=None, week_end=None, today=TODAY)
    sections = overdue_actions_sections(scope)
    assert set(sections) == {owner.pk, ALL_VENDORS}
    for section in sections.values():
        assert [line["text"].split(": ")[1].split(" —")[0] for line in section.lines] == ["Late fix"]


def test_action_list_filters_exports_and_keeps_its_query_count(client, viewer, contract, django_assert_max_num_queries):
    for n in range(3):
        _action(contract, title=f"Action {n}", due_on=datetime.date(2026, 5, n + 1))
    _action(contract, title="Not late", due_on=datetime.date(2026, 7, 1))
    client.force_login(viewer)
    with django_assert_max_num_queries(12):
        page = client.get("/actions/?overdue=on").content.decode()
    assert "Action 2" in page and "Not late" not in page
    csv = client.get("/actions/?_export=csv")
    assert b"Not late" in b"".join(csv.streaming_content)
    assert client.get("/actions/?_export=xlsx")["Content-Type"].startswith("application/vnd.openxml")


# --- RACI ------------------------------------------------------------------------------------------------------
def _grid_post(activities, parties, cells):
    data = {"rows": len(activities), "columns": len(parties)}
    for i, a in enumerate(activities):
        data[f"activity-{i}"] = a
    for j, (side, party) in enumerate(parties):
        data[f"side-{j}"], data[f"party-{j}"] = side, party
    for (i, j), letter in cells.items():
        data[f"cell-{i}-{j}"] = letter
    return data


def test_raci_grid_refuses_two_accountable_parties(client, owner, contract):
    client.force_login(owner)
    url = reverse("governance:raci", args=[contract.pk])
    data = _grid_post(
        ["Train replacements"], [("client", "Ops lead"), ("vendor", "Team lead")], {(0, 0): "A", (0, 1): "A"}
    )
    response = client.post(url, data)
    assert response.status_code == 200
    assert "2 accountable parties" in response.content.decode()
    assert not RaciEntry.objects.exists()
    data["cell-0-1"] = "R"
    assert client.post(url, data).status_code == 302
    assert {(e.party, e.assignment) for e in RaciEntry.objects.all()} == {("Ops lead", "A"), ("Team lead", "R")}


def test_raci_activity_without_an_a_is_refused(client, owner, contract):
    client.force_login(owner)
    data = _grid_post(["Report"], [("vendor", "Team lead")], {(0, 0): "R"})
    response = client.post(reverse("governance:raci", args=[contract.pk]), data)
    assert response.status_code == 200 and "No one is accountable" in response.content.decode()


def test_the_database_keeps_one_a_per_activity(contract):
    RaciEntry.objects.create(contract=contract, activity="X", side="client", party="P", assignment="A")
    with pytest.raises(IntegrityError), transaction.atomic():
        RaciEntry.objects.create(contract=contract, activity="X", side="vendor", party="Q", assignment="A")


@pytest.mark.parametrize(
    ("model", "accountable_side"), [(EngagementModel.BPO, "client"), (EngagementModel.BPM, "vendor")]
)
def test_default_template_puts_replacement_training_on_the_right_side(client, owner, model, accountable_side):
    contract = ContractFactory(owner=owner, engagement_model=model)
    client.force_login(owner)
    client.post(reverse("governance:raci", args=[contract.pk]), {"apply_template": "1"})
    entry = RaciEntry.objects.get(contract=contract, activity="Onboard and train replacements", assignment="A")
    assert entry.side == accountable_side
    assert not raci.accountability_errors(raci.grid_of(contract))
    page = client.get(reverse("governance:raci", args=[contract.pk]) + "?_export=xlsx")
    assert page.status_code == 200


def test_viewer_cannot_change_a_raci_grid(client, viewer, contract):
    client.force_login(viewer)
    assert client.get(reverse("governance:raci", args=[contract.pk])).status_code == 200
    assert client.post(reverse("governance:raci", args=[contract.pk]), {"apply_template": "1"}).status_code == 403
    assert not RaciEntry.objects.exists()


# --- individual figures --------------------------------------------------------------------------------------
@pytest.fixture
def roster(contract):
    SLAFactory(contract=contract, effective_from=datetime.date(2025, 1, 1))
    return [
        StaffMemberFactory(contract=contract, full_name=name, employee_ref=f"R{n}")
        for n, name in enumerate(["Ana Cruz", "Ben Ito", "Cy Moe", "Di Lu"])
    ]


def test_a_month_of_individual_figures_shows_top_and_bottom_performers(client, owner, contract, roster):
    client.force_login(owner)
    url = reverse("governance:staff_figures", args=[contract.pk]) + "?kpi=service_level&period=2026-04"
    assert client.get(url).status_code == 200
    values = {"Ana Cruz": "92", "Ben Ito": "70", "Cy Moe": "85", "Di Lu": "60"}
    data = {f"value-{m.pk}": values[m.full_name] for m in roster}
    assert client.post(url, data).status_code == 302
    assert StaffMeasurement.objects.count() == 4
    page = client.get(contract.get_absolute_url()).content.decode()
    top = page.split('data-testid="top-performers"')[1].split("</ol>")[0]
    bottom = page.split('data-testid="bottom-performers"')[1].split("</ol>")[0]
    assert "Ana Cruz" in top and "Di Lu" in bottom


def test_individual_figures_follow_the_contract_figure_rules(client, owner, contract, roster):
    client.force_login(owner)
    roster[1].left_on, roster[1].leave_reason = datetime.date(2026, 3, 10), "voluntary"
    roster[1].save()
    url = reverse("governance:staff_figures", args=[contract.pk]) + "?kpi=service_level&period=2026-05"
    response = client.get(url)
    assert response.status_code == 400 and "has not ended yet" in response.content.decode()
    url = reverse("governance:staff_figures", args=[contract.pk]) + "?kpi=service_level&period=2026-04"
    data = {f"value-{roster[0].pk}": "101", f"value-{roster[2].pk}": "0.004"}
    response = client.post(url, data)
    assert response.status_code == 200
    text = response.content.decode()
    assert "percentage" in text and "more than 2 decimal places" in text
    assert not StaffMeasurement.objects.exists()


def test_individual_figures_import_all_or_nothing(client, owner, contract, roster):
    client.force_login(owner)
    url = reverse("governance:staff_figure_import", args=[contract.pk])
    bad = io.BytesIO(b"ref,kpi,period,value\nR0,service_level,2026-04-01,90\nNOPE,service_level,2026-04-01,80\n")
    bad.name = "f.csv"
    response = client.post(url, {"file": bad})
    assert response.status_code == 400 and "Line 3" in response.content.decode()
    assert not StaffMeasurement.objects.exists()
    good = io.BytesIO(b"R0,service_level,2026-04-01,90\nR2,service_level,2026-03-01,70\n")
    good.name = "f.csv"
    assert client.post(url, {"file": good}).status_code == 302
    assert StaffMeasurement.objects.count() == 2


def test_a_departed_persons_scorecard_stays_on_their_page(
    client, viewer, contract, roster, django_assert_max_num_queries
):
    member = roster[0]
    StaffMeasurement.objects.create(
        staff_member=member,
        kpi=contract.slas.get().kpi,
        period_start=datetime.date(2026, 3, 1),
        period_end=datetime.date(2026, 3, 31),
        value=Decimal("88"),
    )
    member.left_on, member.leave_reason = datetime.date(2026, 4, 2), "voluntary"
    member.save()
    client.force_login(viewer)
    with django_assert_max_num_queries(20):
        page = client.get(member.get_absolute_url()).content.decode()
    assert "kept on record after the departure" in page and "staff-chart-" in page


# --- scorecard policy and QBR ---------------------------------------------------------------------------------
def test_scorecard_policy_weights_must_add_up_to_100():
    from django.core.exceptions import ValidationError

    policy = ScorecardPolicy(name="Odd", active=False, compliance_weight=Decimal("50"))
    with pytest.raises(ValidationError, match="add up to 100"):
        policy.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        policy.save()


def test_the_active_policy_decides_weights_and_bands():
    ScorecardPolicy.objects.update(active=False)
    ScorecardPolicy.objects.create(
        name="Compliance only",
        compliance_weight=100,
        reporting_weight=0,
        replacements_weight=0,
        retention_weight=0,
        strategic_from=95,
        performing_from=80,
        watch_from=50,
    )
    policy = queries.scoring_policy()
    assert queries.overall_score(Decimal("70"), Decimal("100"), None, None, policy.weights) == Decimal("70.0")
    assert policy.band(Decimal("70")) == "Watch" and policy.band(Decimal("40")) == "At risk"


def test_qbr_shows_band_and_credits_in_constant_queries(client, viewer, contract, django_assert_max_num_queries):
    sla = SLAFactory(contract=contract, effective_from=datetime.date(2025, 1, 1))
    from tests.factories import MeasurementFactory

    for month in (1, 2, 3):
        MeasurementFactory(
            sla=sla, period_start=datetime.date(2026, month, 1), value=Decimal("70" if month == 2 else "90")
        )
    BreachFactory(
        sla=sla,
        contract=contract,
        period_start=datetime.date(2026, 2, 1),
        period_end=datetime.date(2026, 2, 28),
        service_credit=Decimal("1234.50"),
    )
    _action(contract, opened_on=datetime.date(2026, 2, 10), due_on=datetime.date(2026, 3, 1))
    client.force_login(viewer)
    url = reverse("governance:qbr", args=[contract.vendor_id]) + "?quarter=2026-Q1"
    with django_assert_max_num_queries(25):
        page = client.get(url).content.decode()
    assert contract.vendor.name in page and 'data-testid="qbr-band"' in page
    assert "1,234.50" in page
    assert "overdue 1" in page
    assert client.get(reverse("governance:qbr", args=[contract.vendor_id]) + "?quarter=2026-Q9").status_code == 400


def test_qbr_pdf_says_so_when_chromium_is_missing(client, viewer, contract, settings):
    settings.CHROMIUM_PATH = "/nonexistent/chromium"
    client.force_login(viewer)
    response = client.get(reverse("governance:qbr_pdf", args=[contract.vendor_id]) + "?quarter=2026-Q1")
    assert response.status_code == 503 and "not installed" in response.content.decode()
