"""End-to-end governance walks in Chromium (marker ``browser``): the helpers of tests/test_browser.py."""

import datetime
import io
import os
import pathlib
from decimal import Decimal

import pytest

from governance.choices import ActionStatus
from governance.models import CorrectiveAction
from tests.factories import (
    BreachFactory,
    ContractFactory,
    MeasurementFactory,
    SLAFactory,
    StaffMemberFactory,
    UserFactory,
)
from tests.test_browser import CHROMIUM_ARGS, log_in, reference_data, shot, watch  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not os.path.exists("/usr/bin/chromium"), reason="needs /usr/bin/chromium"),
]


@pytest.fixture
def browser(monkeypatch):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def test_governance_walk(live_server, browser, reference_data):  # noqa: F811
    from playwright.sync_api import expect
    from pypdf import PdfReader

    base = live_server.url
    maria = UserFactory(username="maria", first_name="Maria", last_name="Santos", role="manager", password="pw-m")
    UserFactory(username="ada", first_name="Ada", last_name="Admin", is_superuser=True, is_staff=True, password="pw-a")
    contract = ContractFactory(owner=maria, start_date=datetime.date(2025, 1, 1))
    sla = SLAFactory(contract=contract, effective_from=datetime.date(2025, 1, 1))
    today = datetime.date.today()
    last_month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    quarter_start = datetime.date(last_month.year, 3 * ((last_month.month - 1) // 3) + 1, 1)
    MeasurementFactory(sla=sla, period_start=last_month, value=Decimal("70"))
    breach = BreachFactory(
        sla=sla,
        contract=contract,
        period_start=last_month,
        period_end=(last_month + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1),
        service_credit=Decimal("2500.00"),
    )
    staff = [
        StaffMemberFactory(contract=contract, full_name=name, employee_ref=f"R{n}")
        for n, name in enumerate(["Ana Cruz", "Ben Ito", "Cy Moe", "Di Lu"])
    ]

    context = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    page = context.new_page()
    problems = watch(page)
    log_in(page, base, "maria", "pw-m")

    # --- a corrective action opened from the breach, done by Maria --------------------------------------
    page.goto(f"{base}/breaches/{breach.pk}/")
    page.get_by_test_id("open-action").click()
    page.fill("#id_root_cause", "Evening shift understaffed")
    page.fill("#id_action", "Two more agents on the evening shift")
    page.fill("#id_owner_name", "Team lead")
    page.click("#object-form button[type=submit]")
    expect(page.get_by_test_id("action-status")).to_have_text("Open")
    page.click("button[value=in_progress]")
    page.click("button[value=done]")
    page.click("button[value=verified]")
    expect(page.locator(".alert")).to_contain_text("someone else must verify it")
    expect(page.get_by_test_id("action-status")).to_have_text("Done")
    shot(page, "gov-01-action-refused")
    action_url = page.url

    # --- RACI: two As refused, with the error on the row ----------------------------------------------------
    page.goto(f"{base}/contracts/{contract.pk}/raci/")
    page.get_by_test_id("apply-template").click()
    page.select_option("select[name=cell-0-3]", "A")  # Report KPI figures: Account manager is A already
    page.get_by_test_id("save-raci").click()
    expect(page.get_by_test_id("row-error").first).to_contain_text("exactly one A per activity")
    shot(page, "gov-02-raci-error")

    # --- a month of individual figures, then top and bottom performers --------------------------------------
    period = f"{last_month:%Y-%m}"
    page.goto(f"{base}/contracts/{contract.pk}/staff-figures/?kpi=service_level&period={period}")
    for member, value in zip(staff, ["95", "70", "85", "60"], strict=True):
        page.fill(f"input[name=value-{member.pk}]", value)
    page.get_by_test_id("save-figures").click()
    expect(page.get_by_test_id("top-performers")).to_contain_text("Ana Cruz")
    expect(page.get_by_test_id("bottom-performers")).to_contain_text("Di Lu")
    shot(page, "gov-03-performers")

    # --- a second person verifies ---------------------------------------------------------------------------------
    context.clear_cookies()
    log_in(page, base, "ada", "pw-a")
    page.goto(action_url)
    page.click("button[value=verified]")
    expect(page.get_by_test_id("action-status")).to_have_text("Verified")
    assert CorrectiveAction.objects.get().status == ActionStatus.VERIFIED

    # --- the vendor's QBR and its PDF -------------------------------------------------------------------------------
    quarter = f"{quarter_start.year}-Q{(quarter_start.month - 1) // 3 + 1}"
    page.goto(f"{base}/vendors/{contract.vendor_id}/qbr/?quarter={quarter}")
    expect(page.get_by_test_id("qbr-vendor")).to_have_text(contract.vendor.name)
    band = page.get_by_test_id("qbr-band").inner_text()
    shot(page, "gov-04-qbr")
    with page.expect_download() as download:
        page.get_by_test_id("qbr-pdf").click()
    pdf = io.BytesIO(pathlib.Path(download.value.path()).read_bytes())
    text = " ".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert contract.vendor.name in " ".join(text.split()) and band in text and "2,500.00" in text
    assert problems == []


def test_an_action_from_two_ticked_breaches_done_by_the_vendors_key_and_verified(live_server, browser, reference_data):  # noqa: F811
    """Tick two breaches of one contract (and one of another) on the breach list; the choice page offers one
    action per contract; open it; the vendor's integrator moves it to done through the API with its key; a
    second person (the contract's owner, not the vendor) verifies it in the browser; the history names both."""
    import json
    import urllib.request

    from playwright.sync_api import expect

    from api.models import ApiKey

    base = live_server.url
    maria = UserFactory(username="maria", first_name="Maria", last_name="Santos", role="manager", password="pw-m")
    contract = ContractFactory(owner=maria, reference="ACME-VOICE", start_date=datetime.date(2025, 1, 1))
    other = ContractFactory(owner=maria, reference="ACME-CHAT", vendor=contract.vendor)
    sla = SLAFactory(contract=contract, effective_from=datetime.date(2025, 1, 1))
    other_sla = SLAFactory(contract=other, effective_from=datetime.date(2025, 1, 1))
    months = [datetime.date(2026, m, 1) for m in (7, 8, 9)]
    july, august, september = (
        BreachFactory(sla=sla, period_start=m, period_end=(m + datetime.timedelta(days=32)).replace(day=1)
                      - datetime.timedelta(days=1))
        for m in months
    )  # fmt: skip
    withdrawn = BreachFactory(sla=other_sla, status="withdrawn")
    chat = BreachFactory(sla=other_sla, period_start=datetime.date(2026, 10, 1), period_end=datetime.date(2026, 10, 31))
    _key, raw_key = ApiKey.create_key(name="Acme WFM", vendor=contract.vendor)

    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    problems = watch(page)
    log_in(page, base, "maria", "pw-m")

    # --- tick two breaches of ACME-VOICE and one of ACME-CHAT; withdrawn breaches have no box ------------------
    page.goto(f"{base}/breaches/")

    def box(breach):
        return page.locator(f'input[name=breaches][value="{breach.pk}"]')

    expect(box(withdrawn)).to_have_count(0)
    expect(page.get_by_test_id("open-action-selected")).to_be_disabled()
    box(july).check()
    box(september).check()
    expect(page.get_by_test_id("selection-count")).to_have_text("2 breaches ticked")
    box(chat).check()
    expect(page.get_by_test_id("selection-count")).to_have_text("3 breaches on 2 contracts: one action per contract")
    shot(page, "gov-10-breaches-ticked")
    page.get_by_test_id("open-action-selected").click()
    expect(page.get_by_test_id("several-contracts")).to_contain_text("on 2 contracts")
    shot(page, "gov-11-one-action-per-contract")
    page.get_by_test_id("open-for-ACME-VOICE").click()

    # --- the form comes filled in with the two breaches --------------------------------------------------------
    expect(page.locator(f'#object-form input[name=breaches][value="{july.pk}"]')).to_be_checked()
    expect(page.locator(f'#object-form input[name=breaches][value="{september.pk}"]')).to_be_checked()
    expect(page.locator(f'#object-form input[name=breaches][value="{august.pk}"]')).not_to_be_checked()
    expect(page.locator("#id_title")).to_have_value("Fix Service level breaches")
    page.fill("#id_root_cause", "Evening shift understaffed after attrition")
    page.fill("#id_action", "Hire two agents and coach the evening shift")
    page.fill("#id_owner_name", "Acme team lead")
    shot(page, "gov-12-action-form-prefilled")
    page.click("#object-form button[type=submit]")
    expect(page.get_by_test_id("action-status")).to_have_text("Open")
    expect(page.get_by_test_id("action-breaches").locator("li")).to_have_count(2)
    action = CorrectiveAction.objects.get()
    assert set(action.breaches.all()) == {july, september}

    # --- the vendor's integrator: in progress, then done, through the API with its key -----------------------
    def patch(body):
        request = urllib.request.Request(
            f"{base}/api/v1/actions/{action.pk}/",
            data=json.dumps(body).encode(),
            method="PATCH",
            headers={"Authorization": f"Bearer {raw_key}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (the live test server)
            return response.status, json.loads(response.read())

    assert patch({"status": "in_progress", "progress_notes": "Two agents hired."})[0] == 200
    status, body = patch({"status": "done", "progress_notes": "Two agents hired; evening shift coached."})
    assert status == 200 and body["status"] == "done" and body["done_by"].endswith("(Acme WFM)")

    # --- Maria (not the vendor) verifies it -------------------------------------------------------------------
    page.reload()
    expect(page.get_by_test_id("action-status")).to_have_text("Done")
    expect(page.get_by_test_id("progress-notes")).to_have_text("Two agents hired; evening shift coached.")
    expect(page.get_by_test_id("done-by")).to_contain_text("(Acme WFM)")
    page.click("button[value=verified]")
    expect(page.get_by_test_id("action-status")).to_have_text("Verified")
    expect(page.get_by_test_id("verified-by")).to_contain_text("Maria Santos")
    history = page.get_by_test_id("history-entry")
    expect(history.first).to_contain_text("Maria Santos")
    expect(history.nth(1)).to_contain_text(f"{contract.vendor.name} · via API key")
    shot(page, "gov-13-verified-after-vendor-done")
    action.refresh_from_db()
    assert (action.status, action.verified_by, action.done_by) == (ActionStatus.VERIFIED, maria, None)
    assert problems == []
