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


def test_a_write_to_no_api_url_is_a_json_404_not_the_csrf_page(vendor):
    """Found by schemathesis: ``PATCH /api/v1/staff/0.5/`` matched no route and met the CSRF check (an
    HTML 403) before the JSON 404."""
    from django.test import Client

    from api.models import ApiKey

    _key, raw = ApiKey.create_key(name="k", vendor=vendor)
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.patch("/api/v1/staff/0.5/", {"left_on": "2026-01-01"}, content_type="application/json")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_a_filter_beyond_any_plausible_date_is_a_400_naming_it(vendor_client):
    """Found by schemathesis: ``expiring_within=762860275753264`` overflowed the date arithmetic (a 500)."""
    response = vendor_client.get("/api/v1/contracts/?expiring_within=762860275753264")
    assert response.status_code == 400
    assert "expiring_within" in response.json()["errors"]
    assert vendor_client.get("/api/v1/contracts/?expiring_within=90").status_code == 200


def test_every_operation_documents_its_errors_in_the_one_shape(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert schema["components"]["schemas"]["Error"]["required"] == ["detail"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status in ("400", "401", "403", "404", "429"):
                content = operation["responses"][status]["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/Error"}, (method, path, status)
    push = schema["paths"]["/api/v1/measurements/"]["post"]["responses"]
    assert "by item index" in push["400"]["description"]  # the operation's own words are kept
