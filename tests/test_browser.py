"""End-to-end: a manager and a viewer drive the web app in a real Chromium (Playwright, headless).

Run with ``-m browser``; needs /usr/bin/chromium. Screenshots of the main pages go to test-artifacts/.
"""

import csv
import datetime
import io
import os
import pathlib
import re

import pytest
from django.core.management import call_command

from accounts import roles
from kpis.catalogue import seed_catalogue
from kpis.models import KPI, Breach
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    # Restore the data migrations' rows (KPI catalogue, role groups, content types) and flush afterwards
    # without re-running post_migrate, so later serialized-rollback tests find the tables as they expect.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not os.path.exists("/usr/bin/chromium"), reason="needs /usr/bin/chromium"),
]

ARTIFACTS = pathlib.Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def reference_data(transactional_db):
    """The KPI catalogue and role groups come from data migrations; a transactional test before this one
    may have flushed them, so make sure they are there."""
    from django.contrib.auth.models import Group

    seed_catalogue(KPI)
    for name in (roles.ADMINS_GROUP, roles.MANAGERS_GROUP, roles.VIEWERS_GROUP):
        Group.objects.get_or_create(name=name)


@pytest.fixture
def browser(monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django refuses ORM calls there unless told.
    # Set for this test only, so it never leaks into other tests (e.g. the deploy check's subprocess).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def users(reference_data):
    manager = UserFactory(username="maria", first_name="Maria", last_name="Santos", role="manager", password="pw-m")
    viewer = UserFactory(username="victor", first_name="Victor", last_name="Viewer", role="viewer", password="pw-v")
    return manager, viewer


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def watch(page):
    """Every console error and Content-Security-Policy violation of the pages this tab loads, as text.

    Chromium reports a CSP violation both as a ``securitypolicyviolation`` event (collected here through an
    exposed function) and as a console error."""
    problems = []

    def on_console(message):
        # The admin's pages name no icon, so Chromium asks for /favicon.ico (404): not a page error.
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            problems.append(f"console: {message.text} ({message.location.get('url')})")

    page.on("console", on_console)
    page.expose_function("__reportViolation", lambda text: problems.append(f"CSP: {text}"))
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', function (e) {"
        "  window.__reportViolation(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline code')"
        "    + ' on ' + e.documentURI + ' (' + e.sourceFile + ':' + e.lineNumber + ')');"
        "});"
    )
    return problems


def charts_drawn(page):
    """How many ``<canvas data-chart>`` Chart.js drew (it runs only if the policy let its files load)."""
    return page.evaluate(
        "() => Array.from(document.querySelectorAll('canvas[data-chart]'))"
        ".filter(c => window.Chart && Chart.getChart(c)).length"
    )


def log_in(page, base, username, password):
    page.goto(f"{base}/accounts/login/")
    shot(page, "00-login")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_manager_and_viewer_journey(live_server, browser, users):
    from playwright.sync_api import expect

    base = live_server.url
    today = datetime.date.today()
    last_month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    start = last_month.isoformat()
    end = last_month.replace(year=last_month.year + 2).isoformat()

    context = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    page = context.new_page()
    problems = watch(page)
    log_in(page, base, "maria", "pw-m")
    expect(page.get_by_test_id("role")).to_have_text("manager")

    # --- a vendor with a delivery centre --------------------------------------------------------
    page.goto(f"{base}/vendors/")
    page.get_by_test_id("add-button").click()
    page.fill("#id_name", "Andes Contact Co")
    page.select_option("#id_country", "CO")
    page.select_option("#id_risk_tier", "medium")
    page.click("#object-form button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Andes Contact Co")
    page.get_by_role("link", name="Add delivery centre").click()
    page.fill("#id_name", "Mexico City Hub")
    page.fill("#id_city", "Mexico City")
    page.select_option("#id_country", "MX")
    # The time zone list, searchable (Tom Select): typed into its own search input, not wherever the focus is
    # (on a busy machine the keys could arrive before the dropdown had taken the focus).
    page.click("#id_timezone + .ts-wrapper .ts-control")
    expect(page.locator("#id_timezone + .ts-wrapper")).to_have_class(re.compile(r"\bdropdown-active\b"))
    expect(page.locator("#id_timezone-ts-control")).to_be_focused()
    page.keyboard.type("Mexico City", delay=20)  # (the list shows "America/Mexico City" for America/Mexico_City)
    expect(page.locator("#id_timezone + .ts-wrapper .ts-dropdown .option")).to_have_text(["America/Mexico City"])
    page.keyboard.press("Enter")
    expect(page.locator("#id_timezone")).to_have_value("America/Mexico_City")
    page.fill("#id_seats", "300")
    page.click("#object-form button[type=submit]")
    expect(page.locator("text=Mexico City Hub")).to_be_visible()

    # --- a contract: the sourcing model is pre-filled from the centre's country -----------------------
    page.get_by_role("link", name="New contract").click()
    page.fill("#id_reference", "E2E-001")
    page.fill("#id_title", "Spanish voice support")
    page.select_option("#id_engagement_model", "bpm")
    page.select_option("#id_service_type", "front_office")
    page.select_option("#id_delivery_center", label="Andes Contact Co · Mexico City Hub (Mexico City, MX)")
    expect(page.locator("#id_sourcing_model")).to_have_value("nearshore")
    page.fill("#id_start_date", start)
    page.fill("#id_end_date", end)
    page.fill("#id_monthly_fee", "50000")
    page.fill("#id_baseline_monthly_cost", "80000")
    page.fill("#id_contracted_headcount", "25")
    shot(page, "03-contract-form")
    page.click("#object-form button[type=submit]")
    expect(page.locator("h1")).to_contain_text("E2E-001")

    # --- two SLAs from the catalogue ----------------------------------------------------------
    for kpi_label, expected, minimum in (
        ("Service level (%, higher is better)", "80", "75"),
        ("Average handle time (seconds, lower is better)", "300", "360"),
    ):
        page.get_by_role("link", name="Add SLA").click()
        page.select_option("#id_kpi", label=kpi_label)
        page.fill("#id_expected", expected)
        page.fill("#id_minimum", minimum)
        page.fill("#id_credit_allocation_percent", "50")
        page.fill("#id_effective_from", start)
        page.click("#object-form button[type=submit]")
        expect(page.locator("h1")).to_contain_text(kpi_label.split(" (")[0])
        page.get_by_role("link", name="E2E-001").first.click()
    expect(page.get_by_test_id("sla-table").locator("tbody tr")).to_have_count(2)

    # A wrong minimum is explained next to the field.
    page.get_by_role("link", name="Add SLA").click()
    page.select_option("#id_kpi", label="Customer satisfaction (CSAT) (%, higher is better)")
    page.fill("#id_expected", "85")
    page.fill("#id_minimum", "90")
    page.fill("#id_effective_from", start)
    page.click("#object-form button[type=submit]")
    expect(page.locator(".invalid-feedback")).to_contain_text("cannot be above the expected level")
    shot(page, "04-sla-form-error")
    page.get_by_role("link", name="Cancel").click()

    # --- a month of figures with one major miss --------------------------------------------------
    page.get_by_role("link", name="Enter KPI figures").click()
    expect(page.locator("#kpi-entry-form tbody tr")).to_have_count(2)
    rows = page.locator("#kpi-entry-form tbody tr")
    rows.filter(has_text="Service level").locator("input[type=number]").fill("70")  # below the 75 minimum
    rows.filter(has_text="Average handle time").locator("input[type=number]").fill("290")
    shot(page, "05-kpi-entry")
    page.click("text=Save figures")
    expect(page.locator(".alert-success")).to_contain_text("Saved 2 figures")

    call_command("run_sla_checks", stdout=io.StringIO())
    breach = Breach.objects.get(contract__reference="E2E-001", kind="performance")
    assert (breach.severity, breach.actual) == ("major", 70)

    # --- the breach on the dashboard and in the breach list ------------------------------------
    page.goto(f"{base}/")
    expect(page.get_by_test_id("open-breaches")).to_contain_text("E2E-001")
    expect(page.get_by_test_id("open-breaches")).to_contain_text("Performance: Service level")
    assert charts_drawn(page) >= 1  # Chart.js under the Content-Security-Policy
    shot(page, "01-dashboard")
    page.goto(f"{base}/breaches/?contract={breach.contract_id}")
    expect(page.locator("table tbody tr")).to_have_count(1)
    shot(page, "06-breach-list")
    page.locator("table tbody tr a").first.click()
    expect(page.get_by_test_id("breach-status")).to_have_text("Open")
    page.fill("#id_reason", "Vendor short-staffed; recovery plan requested.")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_test_id("breach-status")).to_have_text("Acknowledged")
    expect(page.get_by_test_id("breach-notes")).to_contain_text("recovery plan requested")
    shot(page, "07-breach-detail")
    breach.refresh_from_db()
    assert breach.status == "acknowledged"

    page.goto(f"{base}/contracts/{breach.contract_id}/")
    shot(page, "02-contract-detail")
    page.goto(f"{base}/vendors/")
    shot(page, "08-vendor-list")
    page.goto(f"{base}/vendors/{breach.contract.vendor_id}/")
    shot(page, "09-vendor-detail")

    # --- export the contract list to CSV ------------------------------------------------------
    page.goto(f"{base}/contracts/?q=E2E")
    shot(page, "10-contract-list")
    with page.expect_download() as download_info:
        page.get_by_test_id("export-csv").click()
    download = download_info.value
    assert download.suggested_filename == "contracts.csv"
    exported = list(csv.reader(io.StringIO(pathlib.Path(download.path()).read_text())))
    assert exported[0][0] == "Reference"
    assert [row[0] for row in exported[1:]] == ["E2E-001"]
    assert "Nearshore" in exported[1]

    # --- phone width ----------------------------------------------------------------------------
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/")
    shot(page, "11-dashboard-phone")
    page.goto(f"{base}/contracts/{breach.contract_id}/")
    assert charts_drawn(page) >= 1
    shot(page, "12-contract-phone")
    assert not problems, problems
    context.close()

    # --- the viewer reads everything and finds no edit controls ---------------------------------
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    problems = watch(page)
    log_in(page, base, "victor", "pw-v")
    expect(page.get_by_test_id("role")).to_have_text("viewer")
    for path in (
        "/",
        "/vendors/",
        f"/vendors/{breach.contract.vendor_id}/",
        "/contracts/",
        f"/contracts/{breach.contract_id}/",
        f"/contracts/slas/{breach.sla_id}/",
        "/breaches/",
        f"/breaches/{breach.pk}/",
        "/staff/",
    ):
        page.goto(base + path)
        for test_id in ("add-button", "edit-button", "edit-controls", "breach-actions"):
            expect(page.get_by_test_id(test_id)).to_have_count(0)
        expect(page.get_by_role("link", name="Import figures")).to_have_count(0)
    page.goto(f"{base}/contracts/{breach.contract_id}/")
    shot(page, "13-viewer-contract-detail")
    assert not problems, problems
    response = page.goto(f"{base}/contracts/{breach.contract_id}/edit/")
    assert response.status == 403  # (Chromium logs the 403 as a console error: expected here)
    shot(page, "14-viewer-forbidden")
    assert not [problem for problem in problems if problem.startswith("CSP")], problems
    context.close()


def test_admin_pages_run_under_the_content_security_policy(live_server, browser, reference_data):
    """The Django admin, its forms and the reports load every script and show no CSP violation; the
    watcher itself catches one (an inline script injected into the page is refused)."""
    from playwright.sync_api import expect

    from tests.factories import BreachFactory, ContractFactory, SLAFactory

    UserFactory(username="ada", password="pw-a", is_superuser=True, is_staff=True)
    contract = ContractFactory(reference="CSP-001")
    BreachFactory(contract=contract, sla=SLAFactory(contract=contract, effective_from=contract.start_date))
    base = live_server.url
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    problems = watch(page)
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", "pw-a")
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()
    for path in (
        "/admin/",
        "/admin/contracts/contract/",
        f"/admin/contracts/contract/{contract.pk}/change/",
        "/admin/contracts/contract/add/",
        "/admin/kpis/breach/",
        "/admin/reports/compliance-trend/",
        "/admin/reports/scorecard/",
        f"/contracts/{contract.pk}/edit/",
    ):
        response = page.goto(base + path)
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert "camera=()" in response.headers["permissions-policy"]
    # The admin's own scripts ran (jQuery-based widgets initialised on the change form).
    page.goto(f"{base}/admin/contracts/contract/{contract.pk}/change/")
    assert page.evaluate("() => typeof django !== 'undefined' && typeof django.jQuery === 'function'")
    assert not problems, problems

    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.__ran = true';"
        " document.body.appendChild(s); }"
    )
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.__ran === undefined")  # refused
    assert any(problem.startswith("CSP: script-src") for problem in problems), problems
    context.close()


def test_report_charts_are_drawn_by_chart_js(live_server, browser, reference_data):
    """A report's charts are Chart.js canvases drawn from their json_script config, under the CSP, with no
    console error; its tables sort by a heading."""
    from playwright.sync_api import expect

    from tests.factories import ContractFactory, StaffMemberFactory

    UserFactory(username="ada", password="pw-a", is_superuser=True, is_staff=True)
    for contract in (ContractFactory(reference="REP-001"), ContractFactory(reference="REP-002")):
        StaffMemberFactory.create_batch(3, contract=contract)
    base = live_server.url
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    problems = watch(page)
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", "pw-a")
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()
    page.goto(f"{base}/admin/reports/attrition/?group=contract")
    expect(page.locator("canvas[data-chart]")).to_have_count(2)
    page.wait_for_function("() => window.Chart && document.querySelectorAll('canvas[data-chart]').length === 2")
    assert charts_drawn(page) == 2
    assert page.evaluate("() => Chart.getChart(document.querySelector('canvas[data-chart]')).config.type") == "line"
    height = page.evaluate("() => document.querySelector('canvas[data-chart]').getBoundingClientRect().height")
    assert height > 200  # sized by its box, not collapsed
    page.get_by_role("link", name="Headcount now").click()
    expect(page).to_have_url(re.compile(r"summary-sort=headcount"))
    shot(page, "20-report-attrition")
    assert not problems, problems
    context.close()


def test_a_missing_weekly_report_is_entered_from_its_breach(live_server, browser, users):
    """A weekly SLA's missing-report breach → its "Enter figures" link → the owed week's form → the figure
    saved → the breach withdrawn by the check. Also screenshots the week and the week-of-days pages."""
    from playwright.sync_api import expect

    from kpis.periods import iso_week_label, period_start
    from tests.factories import ContractFactory, SLAFactory

    manager, _viewer = users
    base = live_server.url
    today = datetime.date.today()
    contract = ContractFactory(
        owner=manager, reference="WEEKLY-1", start_date=today - datetime.timedelta(days=70), reporting_grace_days=3
    )
    weekly = SLAFactory(contract=contract, kpi=KPI.objects.get(code="csat"), frequency="weekly")
    daily = SLAFactory(
        contract=contract,
        kpi=KPI.objects.get(code="average_handle_time"),
        expected=300,
        minimum=360,
        frequency="daily",
        effective_from=today - datetime.timedelta(days=20),
    )
    call_command("run_sla_checks", stdout=io.StringIO())
    breach = Breach.objects.filter(sla=weekly, kind="missing_report").order_by("-period_start").first()
    assert breach is not None and breach.status == "open"
    week = iso_week_label(breach.period_start)

    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    console_errors = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    log_in(page, base, "maria", "pw-m")
    page.goto(f"{base}/breaches/{breach.pk}/")
    page.get_by_test_id("enter-figures").click()
    page.wait_for_url(f"**/contracts/{contract.pk}/kpis/?period={week}")
    expect(page.get_by_test_id("period-label")).to_have_text(week)
    rows = page.locator("#kpi-entry-form tbody tr")
    expect(rows).to_have_count(1)  # the weekly SLA only; the daily one is under "Daily"
    expect(page.get_by_test_id("frequency-switch")).to_contain_text("Daily")
    shot(page, "20-kpi-entry-week")
    rows.filter(has_text="Customer satisfaction").locator("input[type=number]").fill("91")
    page.click("text=Save figures")
    expect(page.locator(".alert-success")).to_contain_text("Saved 1 figure")

    call_command("run_sla_checks", stdout=io.StringIO())  # in the app the saved figure queues this on Celery
    breach.refresh_from_db()
    assert breach.status == "withdrawn"

    # A week of daily figures on one screen.
    last_week = period_start("weekly", today - datetime.timedelta(days=7))
    page.goto(f"{base}/contracts/{contract.pk}/kpis/?period={iso_week_label(last_week)}&frequency=daily")
    expect(page.get_by_test_id("sla-group")).to_have_count(1)
    expect(page.locator("#kpi-entry-form input[type=number]")).to_have_count(7)
    shot(page, "21-kpi-entry-days-of-week")
    inputs = page.locator("#kpi-entry-form input[type=number]")
    for index in range(7):
        inputs.nth(index).fill(str(290 + index))
    page.click("text=Save figures")
    expect(page.locator(".alert-success")).to_contain_text("Saved 7 figures")
    assert daily.measurements.count() == 7

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/contracts/{contract.pk}/kpis/?period={week}")
    shot(page, "22-kpi-entry-week-phone")
    page.goto(f"{base}/contracts/{contract.pk}/kpis/?period={iso_week_label(last_week)}&frequency=daily")
    shot(page, "23-kpi-entry-days-of-week-phone")
    response = page.goto(f"{base}/contracts/{contract.pk}/kpis/?period=2026-13")
    assert response.status == 400
    expect(page.get_by_test_id("period-error")).to_contain_text("2026-13 is not a valid month")
    shot(page, "24-kpi-entry-bad-period-phone")
    assert not [e for e in console_errors if "400" not in e], console_errors
    context.close()


@pytest.fixture
def breach_world(users):
    """Two vendors with open and withdrawn breaches in two currencies, and a dozen more vendors to search."""
    from decimal import Decimal

    from tests.factories import BreachFactory, ContractFactory, SLAFactory, VendorFactory

    manager, _ = users
    for i in range(12):
        VendorFactory(name=f"Filler Vendor {i:02d}")
    andes = VendorFactory(
        name="Andes Contact Co",
        country="CO",
        contact_name="Lucía Gómez",
        contact_email="lucia.gomez@andes-contact-company.example.com",
        website="https://andes-contact-company.example.com",
    )
    baltic = VendorFactory(name="Baltic Shared Services Centre Sp. z o.o.", country="PL")
    contracts = {
        "andes": ContractFactory(vendor=andes, reference="AN-001", owner=manager, currency="USD"),
        "baltic": ContractFactory(vendor=baltic, reference="BA-001", currency="EUR"),
    }
    made = {}
    for key, contract in contracts.items():
        sla = SLAFactory(contract=contract)
        for month, status, credit in ((1, "open", "1500.00"), (2, "withdrawn", "0.00"), (3, "acknowledged", "250.50")):
            made[(key, status)] = BreachFactory(
                sla=sla,
                contract=contract,
                status=status,
                service_credit=Decimal(credit),
                period_start=datetime.date(2026, month, 1),
                period_end=datetime.date(2026, month, 28),
            )
    return made


def test_breach_list_filters_with_checkboxes_and_a_tom_select_lookup(live_server, browser, breach_world):
    from playwright.sync_api import expect

    base = live_server.url
    andes_withdrawn = breach_world[("andes", "withdrawn")]
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    console_errors = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    log_in(page, base, "maria", "pw-m")

    page.goto(f"{base}/breaches/")
    expect(page.locator("table tbody tr")).to_have_count(6)
    expect(page.get_by_test_id("credit-total-EUR")).to_have_text(re.compile(r"EUR\s1,750\.50"))
    expect(page.get_by_test_id("credit-total-USD")).to_have_text(re.compile(r"USD\s1,750\.50"))
    page.get_by_role("button", name="Show / hide").click()
    form = page.locator("#filter-form")
    expect(form.get_by_label("Withdrawn")).to_be_visible()  # every status fits, no Ctrl-click list
    expect(form.get_by_text("Unknown")).to_have_count(0)

    # Withdrawn ticked, then the vendor typed into the Tom Select lookup and chosen from its suggestions.
    form.get_by_label("Withdrawn").check()
    page.locator("#id_vendor-ts-control").click()
    page.locator("#id_vendor-ts-control").press_sequentially("and", delay=50)
    suggestion = page.locator(".ts-dropdown .option", has_text="Andes Contact Co")
    expect(suggestion).to_be_visible()
    expect(page.locator(".ts-dropdown .option", has_text="Filler Vendor")).to_have_count(0)
    suggestion.click()
    shot(page, "20-breach-filters-chosen")
    form.get_by_role("button", name="Apply").click()
    page.wait_for_url("**/breaches/?*")
    assert "status=withdrawn" in page.url and f"vendor={andes_withdrawn.contract.vendor_id}" in page.url
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("AN-001")
    expect(rows.first).to_contain_text("Withdrawn")
    # The page comes back with the choices made: the box ticked, the vendor shown in the lookup.
    expect(form.get_by_label("Withdrawn")).to_be_checked()
    expect(page.locator("#id_vendor + .ts-wrapper .item")).to_have_text("Andes Contact Co")
    expect(page.get_by_test_id("credit-total-USD")).to_have_text(re.compile(r"USD\s0\.00"))

    # Two statuses and "my contracts only" (a plain yes/no box): Maria owns the Andes contract.
    page.goto(f"{base}/breaches/")
    page.get_by_role("button", name="Show / hide").click()
    form.get_by_label("Open", exact=True).check()
    form.get_by_label("Acknowledged").check()
    form.get_by_label("My contracts only").check()
    form.get_by_role("button", name="Apply").click()
    page.wait_for_url("**/breaches/?*")
    expect(rows).to_have_count(2)
    for i in range(2):
        expect(rows.nth(i)).to_contain_text("AN-001")
    expect(page.get_by_test_id("credit-total-USD")).to_have_text(re.compile(r"USD\s1,750\.50"))
    expect(page.get_by_test_id("credit-total-EUR")).to_have_count(0)

    # Screenshots: the breach list and the vendor list on a laptop and on a phone.
    page.goto(f"{base}/breaches/?status=open&status=acknowledged&status=withdrawn")
    shot(page, "21-breach-list-laptop")
    page.goto(f"{base}/vendors/")
    shot(page, "22-vendor-list-laptop")
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(f"{base}/breaches/?status=open&status=acknowledged&status=withdrawn")
    shot(page, "23-breach-list-phone")
    # On a phone the rows stay one line high and the table scrolls sideways under a sticky first column.
    first_row = page.locator("table tbody tr").first
    assert first_row.bounding_box()["height"] < 60
    page.goto(f"{base}/vendors/")
    shot(page, "24-vendor-list-phone")
    name_cell = page.locator("table tbody tr td").first
    assert page.locator("table tbody tr").first.bounding_box()["height"] < 70
    page.locator(".table-container").first.evaluate("box => box.scrollLeft = 400")
    assert name_cell.bounding_box()["x"] < 40  # still in view after scrolling
    shot(page, "25-vendor-list-phone-scrolled")
    page.goto(f"{base}/vendors/?status=active")
    expect(page.get_by_role("button", name="Apply")).to_be_visible()  # the filters are open when one is on
    page.locator("#id_country-ts-control").click()
    page.locator("#id_country-ts-control").press_sequentially("colom")
    page.locator(".ts-dropdown .option", has_text="Colombia").click()
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**country=CO**")
    expect(page.locator("table tbody tr")).to_have_count(1)
    expect(page.locator("table tbody tr").first).to_contain_text("Andes Contact Co")
    shot(page, "26-vendor-filters-phone")
    assert not console_errors, console_errors
    context.close()
