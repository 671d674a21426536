import datetime
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from kpis.models import Breach
from tests.builders import bulk_world, csv_rows
from tests.factories import BreachFactory, ContractFactory, SLAFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def breach(contract):
    return BreachFactory(sla=SLAFactory(contract=contract), contract=contract, notes="First note.")


def edit(client, breach, **data):
    return client.post(reverse("kpis:breach_edit", args=[breach.pk]), data)


def test_url_names(breach):
    assert reverse("kpis:breach_list") == "/breaches/"
    assert breach.get_absolute_url() == f"/breaches/{breach.pk}/"
    assert reverse("kpis:breach_edit", args=[breach.pk]) == f"/breaches/{breach.pk}/edit/"


@pytest.mark.parametrize("who", ["viewer", "owner", "teammate", "admin_user"])
def test_everyone_reads_breaches(client, request, breach, who):
    client.force_login(request.getfixturevalue(who))
    assert breach.contract.reference in client.get(reverse("kpis:breach_list")).text
    response = client.get(breach.get_absolute_url())
    assert response.status_code == 200
    assert "Major performance breach" in response.text
    assert ('data-testid="breach-actions"' in response.text) is (who in ("owner", "admin_user"))


def test_owner_acknowledges_with_a_comment(client, owner, breach):
    client.force_login(owner)
    response = edit(client, breach, status="acknowledged", reason="Vendor is on it.")
    assert response.status_code == 302
    breach.refresh_from_db()
    assert breach.status == "acknowledged"
    assert breach.notes.startswith("First note.\n[")
    assert "→ acknowledged] Vendor is on it." in breach.notes


def test_waiving_needs_a_reason(client, owner, breach):
    client.force_login(owner)
    response = edit(client, breach, status="waived", reason="  ")
    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == ["Give a reason to waive this breach."]
    assert "Give a reason to waive this breach." in response.text
    breach.refresh_from_db()
    assert breach.status == "open"
    response = edit(client, breach, status="waived", reason="Agreed outage window.")
    breach.refresh_from_db()
    assert breach.status == "waived"
    assert "Agreed outage window." in breach.notes


def test_resolve_and_edit_notes(client, owner, breach):
    client.force_login(owner)
    edit(client, breach, status="resolved")
    breach.refresh_from_db()
    assert breach.status == "resolved" and breach.notes == "First note."
    edit(client, breach, status="resolved", notes="Rewritten notes")
    breach.refresh_from_db()
    assert breach.notes == "Rewritten notes"


def test_withdrawn_is_not_a_status_a_person_sets(client, owner, breach):
    client.force_login(owner)
    response = edit(client, breach, status="withdrawn")
    assert "status" in response.context["form"].errors
    breach.refresh_from_db()
    assert breach.status == "open"


@pytest.mark.parametrize("who", ["teammate", "viewer"])
def test_others_get_403_and_nothing_changes(client, request, breach, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("kpis:breach_edit", args=[breach.pk])).status_code == 403
    assert edit(client, breach, status="waived", reason="not mine").status_code == 403
    breach.refresh_from_db()
    assert (breach.status, breach.notes) == ("open", "First note.")


@pytest.fixture
def breach_mix(owner, teammate):
    mine = ContractFactory(owner=owner, reference="MINE-1")
    theirs = ContractFactory(owner=teammate, reference="THEIRS-1")
    a = BreachFactory(
        sla=SLAFactory(contract=mine),
        contract=mine,
        severity="major",
        status="open",
        period_start=datetime.date(2026, 1, 1),
        period_end=datetime.date(2026, 1, 31),
    )
    b = BreachFactory(
        sla=SLAFactory(contract=theirs),
        contract=theirs,
        severity="minor",
        status="waived",
        kind="missing_report",
        period_start=datetime.date(2026, 6, 1),
        period_end=datetime.date(2026, 6, 30),
    )
    return a, b


@pytest.mark.parametrize(
    "params, expected",
    [
        (lambda a, b: {"kind": "missing_report"}, "b"),
        (lambda a, b: {"severity": "major"}, "a"),
        (lambda a, b: {"status": "waived"}, "b"),
        (lambda a, b: {"vendor": a.contract.vendor_id}, "a"),
        (lambda a, b: {"contract": b.contract_id}, "b"),
        (lambda a, b: {"period_from": "2026-05-01"}, "b"),
        (lambda a, b: {"period_to": "2026-02-01"}, "a"),
        (lambda a, b: {"q": "theirs"}, "b"),
        (lambda a, b: {"mine": "true"}, "a"),
    ],
)
def test_breach_filters(client, owner, breach_mix, params, expected):
    client.force_login(owner)
    response = client.get(reverse("kpis:breach_list"), params(*breach_mix))
    wanted = {"a": breach_mix[0], "b": breach_mix[1]}[expected]
    assert [row.record.pk for row in response.context["table"].rows] == [wanted.pk]


def test_breach_export_csv(client, viewer, breach_mix):
    client.force_login(viewer)
    response = client.get(reverse("kpis:breach_list"), {"severity": "major", "_export": "csv"})
    rows = csv_rows(response)
    header = rows[0]
    assert len(rows) == 2
    assert rows[1][header.index("Contract")] == "MINE-1"
    assert rows[1][header.index("Severity")] == "Major"
    assert rows[1][header.index("Status")] == "Open"
    assert rows[1][header.index("Actual")] == "70.00"


@pytest.mark.parametrize("rows", [5, 500])
def test_breach_pages_run_a_constant_number_of_queries(client, viewer, owner, django_assert_max_num_queries, rows):
    bulk_world(rows, owner)
    client.force_login(viewer)
    client.get(reverse("kpis:breach_list"))
    with django_assert_max_num_queries(11):
        assert client.get(reverse("kpis:breach_list"), {"per_page": 1000}).status_code == 200
    with django_assert_max_num_queries(11):
        response = client.get(reverse("kpis:breach_list"), {"_export": "csv"})
        assert b"".join(response.streaming_content).count(b"\n") == 2 * rows + 1
    with django_assert_max_num_queries(10):
        assert client.get(Breach.objects.first().get_absolute_url()).status_code == 200


def test_breach_export_xlsx(client, viewer, breach_mix):
    import openpyxl

    client.force_login(viewer)
    response = client.get(reverse("kpis:breach_list"), {"status": "waived", "_export": "xlsx"})
    assert response["Content-Disposition"] == 'attachment; filename="breaches.xlsx"'
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.values)
    header = list(rows[0])
    assert len(rows) == 2
    assert rows[1][header.index("Contract")] == "THEIRS-1"
    assert rows[1][header.index("Kind")] == "Missing report"
    assert rows[1][header.index("Period")] == datetime.datetime(2026, 6, 1)  # date cells, not text
    assert rows[1][header.index("Period end")] == datetime.datetime(2026, 6, 30)


# --- filter controls ----------------------------------------------------------------------------
def test_my_contracts_is_a_yes_no_checkbox_not_unknown(client, owner, breach_mix):
    client.force_login(owner)
    html = client.get(reverse("kpis:breach_list")).content.decode()
    assert re.search(r'<input type="checkbox" name="mine"[^>]*id="id_mine"', html)
    assert "Unknown" not in html
    # Ticked: the browser sends "on"; the older link form "true" still works; unticked: every breach.
    for value in ("on", "true"):
        response = client.get(reverse("kpis:breach_list"), {"mine": value})
        assert [row.record.pk for row in response.context["table"].rows] == [breach_mix[0].pk]
        assert re.search(r'<input type="checkbox" name="mine"[^>]*checked', response.content.decode())
    response = client.get(reverse("kpis:breach_list"), {"mine": "false"})
    assert len(response.context["table"].rows) == 2


def test_status_severity_and_kind_are_checkboxes_with_every_choice(client, viewer):
    client.force_login(viewer)
    html = client.get(reverse("kpis:breach_list")).content.decode()
    for name, values in (
        ("status", ["open", "acknowledged", "waived", "resolved", "withdrawn"]),
        ("severity", ["minor", "major"]),
        ("kind", ["performance", "missing_report", "replacement"]),
    ):
        assert re.findall(rf'<input type="checkbox" name="{name}" value="([^"]+)"', html) == values
    assert (
        '<select name="status"' not in html and "multiple" not in html.split('id="filter-form"')[1].split("</form>")[0]
    )


def test_several_statuses_including_withdrawn(client, viewer, contract):
    sla = SLAFactory(contract=contract)
    made = {
        status: BreachFactory(
            sla=sla,
            contract=contract,
            status=status,
            period_start=datetime.date(2026, month, 1),
            period_end=datetime.date(2026, month, 28),
        )
        for month, status in ((1, "open"), (2, "waived"), (3, "withdrawn"))
    }
    client.force_login(viewer)
    response = client.get(reverse("kpis:breach_list"), {"status": ["withdrawn", "waived"]})
    assert {row.record.pk for row in response.context["table"].rows} == {made["withdrawn"].pk, made["waived"].pk}
    html = response.content.decode()
    assert re.search(r'<input type="checkbox" name="status" value="withdrawn"[^>]*checked', html)
    assert not re.search(r'<input type="checkbox" name="status" value="open"[^>]*checked', html)


def test_lookups_stay_type_ahead_selects_for_tom_select(client, viewer):
    client.force_login(viewer)
    html = client.get(reverse("kpis:breach_list")).content.decode()
    assert re.search(r'<select name="vendor" [^>]*data-lookup-url="/vendors/lookup/"', html)
    assert re.search(r'<select name="contract" [^>]*data-lookup-url="/contracts/lookup/"', html)
    assert "vendor/tom-select/js/tom-select.complete.min.js" in html
    assert "vendor/tom-select/css/tom-select.bootstrap5.min.css" in html


# --- service-credit totals of the filtered rows -------------------------------------------------
def test_credit_totals_per_currency_of_the_filtered_rows(client, viewer, django_assert_max_num_queries):
    usd = ContractFactory(currency="USD", reference="USD-1")
    eur = ContractFactory(currency="EUR", reference="EUR-1")
    slas = {usd: SLAFactory(contract=usd), eur: SLAFactory(contract=eur)}
    for month, (contract, credit, status) in enumerate(
        (
            (usd, "1000.50", "open"),
            (usd, "250.25", "acknowledged"),
            (eur, "700.00", "open"),
            (eur, "99.99", "resolved"),
        ),
        start=1,
    ):
        BreachFactory(
            sla=slas[contract],
            contract=contract,
            service_credit=credit,
            status=status,
            period_start=datetime.date(2026, month, 1),
            period_end=datetime.date(2026, month, 28),
        )
    client.force_login(viewer)
    response = client.get(reverse("kpis:breach_list"))
    totals = {t["currency"]: t["service_credit"] for t in response.context["credit_totals"]}
    assert totals == {"EUR": Decimal("799.99"), "USD": Decimal("1250.75")}  # never added across currencies
    html = response.content.decode()
    assert re.search(r'data-testid="credit-total-EUR">\s*EUR\xa0799\.99<', html)
    assert re.search(r'data-testid="credit-total-USD">\s*USD\xa01,250\.75<', html)
    # Filtered: only the rows the filters keep, every page of them (per_page 1 shows one row).
    with django_assert_max_num_queries(11):
        response = client.get(reverse("kpis:breach_list"), {"status": "open", "per_page": 1})
    totals = {t["currency"]: t["service_credit"] for t in response.context["credit_totals"]}
    assert totals == {"EUR": Decimal("700.00"), "USD": Decimal("1000.50")}
    response = client.get(reverse("kpis:breach_list"), {"contract": eur.pk})
    assert [t["currency"] for t in response.context["credit_totals"]] == ["EUR"]


@pytest.mark.parametrize("rows", [5, 200])
def test_credit_totals_cost_one_query_whatever_the_rows(client, viewer, owner, django_assert_max_num_queries, rows):
    bulk_world(rows, owner)
    client.force_login(viewer)
    with django_assert_max_num_queries(11):
        response = client.get(reverse("kpis:breach_list"), {"status": ["open", "withdrawn"]})
    assert response.status_code == 200
    assert len(response.context["credit_totals"]) == 1
