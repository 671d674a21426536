"""Site-wide odds and ends: the favicon, ISO dates in the admin and the app, no inline scripts."""

import datetime
import pathlib
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import BreachFactory, ContractFactory

pytestmark = pytest.mark.django_db

TEMPLATES = pathlib.Path(__file__).resolve().parent.parent / "templates"


def test_favicon_is_served_to_anyone(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO header


def test_pages_and_admin_link_the_icon(client, admin_user):
    client.force_login(admin_user)
    for url in (reverse("dashboard:home"), reverse("admin:index"), reverse("admin:contracts_contract_changelist")):
        html = client.get(url).content.decode()
        assert re.search(r'<link rel="icon" href="[^"]*favicon\.svg"', html), url


def test_admin_shows_iso_dates(client, admin_user):
    contract = ContractFactory(end_date=datetime.date(2026, 9, 30))
    breach = BreachFactory(contract=contract)
    type(breach).objects.filter(pk=breach.pk).update(
        detected_at=datetime.datetime(2026, 9, 30, 7, 0, tzinfo=timezone.get_current_timezone())
    )
    client.force_login(admin_user)
    html = client.get(reverse("admin:contracts_contract_changelist")).content.decode()
    assert "2026-09-30" in html
    assert "Sept. 30, 2026" not in html
    html = client.get(reverse("admin:kpis_breach_change", args=[breach.pk])).content.decode()
    assert "2026-09-30 07:00" in html
    assert "a.m." not in html


def test_app_and_admin_date_formats_agree(settings):
    from django.utils import formats, translation

    with translation.override("en-us"):
        assert formats.date_format(datetime.date(2026, 9, 30)) == "2026-09-30"
        assert formats.date_format(datetime.datetime(2026, 9, 30, 7, 0), "DATETIME_FORMAT") == "2026-09-30 07:00"
        assert formats.date_format(datetime.date(2026, 9, 30), "SHORT_DATE_FORMAT") == "2026-09-30"
        assert formats.date_format(datetime.datetime(2026, 9, 30, 7, 0), "SHORT_DATETIME_FORMAT") == "2026-09-30 07:00"


def test_no_inline_scripts_in_templates():
    """A Content-Security-Policy of ``script-src 'self'``: scripts come from static files, data from
    ``json_script`` (type="application/json") or data- attributes."""
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        for tag in re.findall(r"<script\b[^>]*>", path.read_text()):
            if "src=" not in tag and "application/json" not in tag:
                offenders.append(f"{path.relative_to(TEMPLATES)}: {tag}")
        if re.search(r"\son(click|change|submit|load|input)=", path.read_text()):
            offenders.append(f"{path.relative_to(TEMPLATES)}: inline event handler")
    assert not offenders, offenders


def test_readme_names_port_every_demo_login_and_links_the_design_in_the_repo():
    from demo.data import DEMO_USERS

    root = TEMPLATES.parent
    readme = (root / "README.md").read_text()
    assert "make run PORT=8001" in readme and "| `PORT` |" in readme
    for username, password, *_rest in DEMO_USERS:
        assert f"`{username}` | `{password}`" in readme, username
    links = re.findall(r"\]\(([^)#]+)\)", readme)
    assert "docs/DESIGN.md" in links
    for link in links:
        if not link.startswith("http"):
            assert (root / link).is_file(), link
    assert "../shared" not in readme
    assert (root / "docs/DESIGN.md").read_text().startswith("# Outsourcing vendor & SLA tracker")
