"""One JSON error shape under /api/ (never an HTML page), and the OpenAPI schema and docs served offline
under the Content-Security-Policy."""

import re

import pytest
from django.test import RequestFactory

from api import errors

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/api/v1/nothing-here/", "/api/nothing/", "/api/v1/contracts/999999/"])
def test_not_found_under_api_is_json(vendor_client, url):
    response = vendor_client.get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"detail"}


def test_not_found_elsewhere_is_still_a_page(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "application/json" not in response["Content-Type"]


def test_server_error_under_api_is_json():
    response = errors.server_error(RequestFactory().get("/api/v1/contracts/"))
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert b'"detail"' in response.content
    page = errors.server_error(RequestFactory().get("/contracts/"))
    assert page.status_code == 500 and b"detail" not in page.content


def test_an_unhandled_exception_under_api_answers_json(vendor_client, monkeypatch):
    from api import views

    def boom(self, request, *args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views.ContractViewSet, "list", boom)
    vendor_client.raise_request_exception = False
    response = vendor_client.get("/api/v1/contracts/")
    assert response.status_code == 500
    assert response.json() == {"detail": "Server error."}


def test_schema_is_openapi_3_with_every_endpoint(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for endpoint in ("vendors", "contracts", "slas", "measurements", "breaches", "staff", "obligations"):
        assert f"/api/v1/{endpoint}/" in schema["paths"]
    assert schema["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"


def test_docs_are_served_without_inline_scripts_or_cdn(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    scripts = re.findall(r"<script([^>]*)>", html)
    assert scripts and all("src=" in attrs for attrs in scripts)  # CSP script-src 'self': nothing inline
    assert "cdn" not in html.lower() and "http" not in html.replace("http://testserver", "")
    assert "script-src 'self'" in response["Content-Security-Policy"]
    init_script = re.findall(r'<script src="([^"]*\?[^"]*script[^"]*)"', html)
    assert init_script
    script = client.get(init_script[0].replace("&amp;", "&"))
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


def test_not_found_is_json_with_debug_on_too(vendor_client, settings):
    settings.DEBUG = True
    response = vendor_client.get("/api/v1/nope")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found. API URLs end with a slash."}
