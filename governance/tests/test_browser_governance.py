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
