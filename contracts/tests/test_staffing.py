import datetime

import pytest
from django.urls import reverse

from contracts.models import ReplacementObligation, StaffMember
from tests.builders import bulk_world
from tests.factories import ContractFactory, StaffMemberFactory

pytestmark = pytest.mark.django_db


def test_staff_url_names():
    assert reverse("staff:staff_list") == "/staff/"
    assert reverse("staff:staff_add") == "/staff/add/"
    assert reverse("staff:staff_detail", args=[3]) == "/staff/3/"
    assert reverse("staff:staff_edit", args=[3]) == "/staff/3/edit/"


def test_owner_adds_staff_to_own_contract(client, owner, contract):
    client.force_login(owner)
    response = client.get(reverse("staff:staff_add"), {"contract": contract.pk})
    assert response.context["form"]["contract"].value() == str(contract.pk)
    response = client.post(
        reverse("staff:staff_add"),
        {
            "contract": contract.pk,
            "employee_ref": "E1",
            "full_name": "Ana Reyes",
            "role": "Agent",
            "joined_on": "2026-01-05",
        },
    )
    member = StaffMember.objects.get()
    assert response.status_code == 302
    assert response["Location"] == member.get_absolute_url() == f"/staff/{member.pk}/"


def test_duplicate_employee_ref_is_reported_on_the_field(client, owner, contract):
    StaffMemberFactory(contract=contract, employee_ref="E1")
    client.force_login(owner)
    response = client.post(
        reverse("staff:staff_add"),
        {"contract": contract.pk, "employee_ref": "E1", "full_name": "X", "joined_on": "2026-01-05"},
    )
    assert response.context["form"].errors["employee_ref"] == [
        "This employee reference is already on the contract's roster."
    ]


def test_recording_a_departure_opens_the_replacement_obligation(client, owner, contract):
    member = StaffMemberFactory(contract=contract, joined_on=datetime.date(2025, 1, 1))
    client.force_login(owner)
    url = reverse("staff:staff_departure", args=[member.pk])
    response = client.post(url, {"left_on": "2026-03-10", "leave_reason": ""})
    assert response.context["form"].errors["leave_reason"] == ["Say why the staff member left."]
    response = client.post(url, {"left_on": "2026-03-10", "leave_reason": "voluntary"})
    assert response.status_code == 302
    obligation = ReplacementObligation.objects.get(departed=member)
    assert obligation.due_on == datetime.date(2026, 4, 9)  # 30 replacement days
    page = client.get(member.get_absolute_url())
    assert "Due <strong>2026-04-09</strong>" in page.text
    assert page.context["obligation_state"] == "overdue"
    # Recording it again does not create a second obligation.
    client.post(url, {"left_on": "2026-03-10", "leave_reason": "voluntary"})
    assert ReplacementObligation.objects.count() == 1


def test_departure_before_joining_is_rejected(client, owner, contract):
    member = StaffMemberFactory(contract=contract, joined_on=datetime.date(2026, 5, 1))
    client.force_login(owner)
    response = client.post(
        reverse("staff:staff_departure", args=[member.pk]), {"left_on": "2026-03-10", "leave_reason": "other"}
    )
    assert response.context["form"].errors["left_on"] == ["The leaving date cannot be before the joining date."]
    assert not ReplacementObligation.objects.exists()


@pytest.mark.parametrize(
    "engagement, field, expected_state",
    [
        ("bpo", "candidate_provided_on", "fulfilled_on_time"),
        ("bpm", "candidate_provided_on", "overdue"),
        ("bpm", "replacement_productive_on", "fulfilled_on_time"),
    ],
)
def test_recording_the_replacement_fulfils_by_engagement_model(client, owner, engagement, field, expected_state):
    contract = ContractFactory(owner=owner, engagement_model=engagement)
    member = StaffMemberFactory(contract=contract, left_on=datetime.date(2026, 3, 1), leave_reason="voluntary")
    ReplacementObligation.objects.create(departed=member, due_on=datetime.date(2026, 3, 31))
    client.force_login(owner)
    response = client.post(reverse("staff:obligation_edit", args=[member.pk]), {field: "2026-03-20"})
    assert response.status_code == 302
    obligation = ReplacementObligation.objects.get()
    assert obligation.state(today=datetime.date(2026, 11, 1)) == expected_state


def test_replacement_dates_are_validated(client, owner, contract):
    member = StaffMemberFactory(contract=contract, left_on=datetime.date(2026, 3, 1), leave_reason="voluntary")
    ReplacementObligation.objects.create(departed=member, due_on=datetime.date(2026, 3, 31))
    client.force_login(owner)
    response = client.post(reverse("staff:obligation_edit", args=[member.pk]), {"candidate_provided_on": "2026-02-01"})
    assert response.context["form"].errors["candidate_provided_on"] == [
        "This date cannot be before the staff member left."
    ]


@pytest.mark.parametrize("who", ["teammate", "viewer"])
def test_others_get_403_on_staff_writes_and_nothing_changes(client, request, contract, who):
    member = StaffMemberFactory(contract=contract, full_name="Ana Reyes")
    client.force_login(request.getfixturevalue(who))
    data = {"contract": contract.pk, "employee_ref": "X9", "full_name": "Intruder", "joined_on": "2026-01-01"}
    assert client.post(reverse("staff:staff_add"), data).status_code == 403
    assert client.get(reverse("staff:staff_add"), {"contract": contract.pk}).status_code == 403
    assert client.post(reverse("staff:staff_edit", args=[member.pk]), {"full_name": "Renamed"}).status_code == 403
    departure = reverse("staff:staff_departure", args=[member.pk])
    assert client.post(departure, {"left_on": "2026-03-10", "leave_reason": "voluntary"}).status_code == 403
    member.refresh_from_db()
    assert (member.full_name, member.left_on) == ("Ana Reyes", None)
    assert StaffMember.objects.count() == 1
    assert not ReplacementObligation.objects.exists()


def test_others_get_403_recording_a_replacement(client, teammate, contract):
    member = StaffMemberFactory(contract=contract, left_on=datetime.date(2026, 3, 1), leave_reason="voluntary")
    ReplacementObligation.objects.create(departed=member, due_on=datetime.date(2026, 3, 31))
    client.force_login(teammate)
    url = reverse("staff:obligation_edit", args=[member.pk])
    assert client.post(url, {"candidate_provided_on": "2026-03-05"}).status_code == 403
    assert ReplacementObligation.objects.get().candidate_provided_on is None


def test_viewer_sees_roster_without_edit_controls(client, viewer, contract):
    member = StaffMemberFactory(contract=contract, full_name="Ana Reyes")
    client.force_login(viewer)
    response = client.get(reverse("staff:staff_list"), {"contract": contract.pk})
    assert "Ana Reyes" in response.text
    assert 'data-testid="add-button"' not in response.text
    detail = client.get(member.get_absolute_url())
    assert "Record departure" not in detail.text and 'data-testid="edit-button"' not in detail.text


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"state": "active"}, {"Active"}),
        ({"state": "departed"}, {"Leaver"}),
        ({"q": "leav"}, {"Leaver"}),
        ({"left_after": "2026-02-01"}, {"Leaver"}),
    ],
)
def test_staff_filters(client, viewer, contract, params, expected):
    StaffMemberFactory(contract=contract, full_name="Active")
    StaffMemberFactory(contract=contract, full_name="Leaver", left_on=datetime.date(2026, 3, 1), leave_reason="other")
    StaffMemberFactory(full_name="Elsewhere")
    client.force_login(viewer)
    response = client.get(reverse("staff:staff_list"), {"contract": contract.pk, **params})
    assert {row.record.full_name for row in response.context["table"].rows} == expected


def test_staff_vendor_filter(client, viewer, contract):
    StaffMemberFactory(contract=contract, full_name="Mine")
    StaffMemberFactory(full_name="Elsewhere")
    client.force_login(viewer)
    response = client.get(reverse("staff:staff_list"), {"vendor": contract.vendor_id})
    assert {row.record.full_name for row in response.context["table"].rows} == {"Mine"}


@pytest.mark.parametrize("rows", [5, 500])
def test_staff_pages_run_a_constant_number_of_queries(client, viewer, owner, django_assert_max_num_queries, rows):
    bulk_world(rows, owner)
    client.force_login(viewer)
    client.get(reverse("staff:staff_list"))
    with django_assert_max_num_queries(11):
        assert client.get(reverse("staff:staff_list"), {"per_page": 1000}).status_code == 200
    with django_assert_max_num_queries(11):
        response = client.get(reverse("staff:staff_list"), {"_export": "csv"})
        body = b"".join(response.streaming_content).decode()
    assert body.count("\n") == 2 * rows + 1
    assert "Overdue" in body
    member = StaffMember.objects.filter(left_on__isnull=False).first()
    with django_assert_max_num_queries(10):
        assert client.get(member.get_absolute_url()).status_code == 200


def test_staff_export_xlsx(client, viewer, contract):
    import io

    import openpyxl

    StaffMemberFactory(contract=contract, full_name="Ana Reyes", employee_ref="E7")
    client.force_login(viewer)
    response = client.get(reverse("staff:staff_list"), {"_export": "xlsx"})
    assert response["Content-Disposition"] == 'attachment; filename="staff.xlsx"'
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.values)
    header = list(rows[0])
    assert rows[1][header.index("Name")] == "Ana Reyes"
    assert rows[1][header.index("Employee ref.")] == "E7"
    assert rows[1][header.index("Contract")] == contract.reference
