"""Content-Security-Policy (scripts only from our static files) and Permissions-Policy on app and admin pages,
and no page carries a script the policy would block."""

from decimal import Decimal
from html.parser import HTMLParser

import pytest

from tests.factories import BreachFactory, MeasurementFactory, SLAFactory, StaffMemberFactory, VendorFactory

pytestmark = pytest.mark.django_db


class ScriptFinder(HTMLParser):
    """Collects what a ``script-src 'self'`` policy refuses: inline <script> code and on…= handlers."""

    def __init__(self):
        super().__init__()
        self.blocked = []
        self.external = []
        self._inline = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in attrs:
            if name.startswith("on"):
                self.blocked.append(f"<{tag} {name}=…>")
        if tag == "script":
            if attrs.get("src"):
                self.external.append(attrs["src"])
            elif attrs.get("type") != "application/json":  # data, not code (json_script)
                self._inline = ""

    def handle_data(self, data):
        if self._inline is not None:
            self._inline += data

    def handle_endtag(self, tag):
        if tag == "script" and self._inline is not None:
            self.blocked.append(f"inline <script>: {self._inline.strip()[:80]}")
            self._inline = None

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)


def scripts(html):
    finder = ScriptFinder()
    finder.feed(html)
    return finder


def directives(response):
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def test_the_finder_sees_inline_code_but_not_json_data_or_files():
    found = scripts(
        '<script src="/static/js/a.js"></script><script type="application/json" id="d">{"a": 1}</script>'
        '<script>alert(1)</script><button onclick="go()">x</button>'
    )
    assert found.external == ["/static/js/a.js"]
    assert found.blocked == ["inline <script>: alert(1)", "<button onclick=…>"]


@pytest.fixture
def pages(contract, admin_user):
    VendorFactory()
    sla = SLAFactory(contract=contract, effective_from=contract.start_date)
    MeasurementFactory(sla=sla, period_start=contract.start_date, value=Decimal("50"))
    StaffMemberFactory(contract=contract)
    breach = BreachFactory(contract=contract, sla=sla)
    return [
        "/",
        "/vendors/",
        f"/vendors/{contract.vendor_id}/",
        "/contracts/",
        "/contracts/add/",
        f"/contracts/{contract.pk}/",
        f"/contracts/{contract.pk}/edit/",
        f"/contracts/{contract.pk}/kpis/",
        f"/contracts/slas/{sla.pk}/",
        "/contracts/import/",
        "/staff/",
        "/breaches/",
        f"/breaches/{breach.pk}/",
        "/admin/",
        "/admin/contracts/contract/",
        f"/admin/contracts/contract/{contract.pk}/change/",
        "/admin/contracts/contract/add/",
        "/admin/kpis/breach/",
        "/admin/kpis/measurement/",
        "/admin/axes/accessattempt/",
        "/admin/reports/",
        "/admin/reports/scorecard/",
        "/admin/reports/compliance-trend/",
        "/admin/reports/attrition/",
    ]


def test_every_page_has_the_policies_and_no_script_they_would_block(client, admin_user, pages):
    client.force_login(admin_user)
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        policy = directives(response)
        assert policy["script-src"] == ["'self'"], url
        assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"], url
        assert "'unsafe-inline'" not in policy["default-src"], url
        assert "camera=()" in response["Permissions-Policy"], url
        found = scripts(response.content.decode())
        assert not found.blocked, (url, found.blocked)
        same_origin = [src for src in found.external if src.startswith("/") and not src.startswith("//")]
        assert same_origin == found.external, (url, found.external)


def test_the_login_pages_and_errors_carry_them_too(client):
    for url, status in (("/accounts/login/", 200), ("/admin/login/", 200), ("/no-such-page/", 404)):
        response = client.get(url)
        assert response.status_code == status
        assert "script-src 'self'" in response["Content-Security-Policy"]
        assert "geolocation=()" in response["Permissions-Policy"]


def test_the_contract_form_script_is_a_static_file(client, owner, contract):
    client.force_login(owner)
    found = scripts(client.get(f"/contracts/{contract.pk}/edit/").content.decode())
    assert "/static/js/contract_form.js" in found.external and not found.blocked
