import re

import pytest
from django.urls import reverse

from tests.factories import BreachFactory, ContractFactory, VendorFactory

pytestmark = pytest.mark.django_db


def select_options(html, name):
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.findall(r'<option value="([^"]*)"', select)


def test_contract_lookup_finds_by_reference_or_title(client, viewer):
    ContractFactory(reference="CX-2026-014", title="Spanish voice support")
    ContractFactory(reference="BO-2026-001", title="Claims processing")
    client.force_login(viewer)
    found = client.get(reverse("contracts:contract_lookup"), {"q": "voice"}).json()["results"]
    assert [row["text"] for row in found] == ["CX-2026-014 — Spanish voice support"]
    found = client.get(reverse("contracts:contract_lookup"), {"q": "bo-2026"}).json()["results"]
    assert [row["text"] for row in found] == ["BO-2026-001 — Claims processing"]


def test_lookup_returns_at_most_twenty_rows(client, viewer):
    VendorFactory.create_batch(25)
    client.force_login(viewer)
    assert len(client.get(reverse("vendors:vendor_lookup")).json()["results"]) == 20


def test_lookup_needs_a_login(client):
    response = client.get(reverse("vendors:vendor_lookup"), {"q": "a"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_filter_renders_only_the_chosen_contract_not_every_contract(client, viewer, django_assert_max_num_queries):
    breach = BreachFactory()
    ContractFactory.create_batch(30)
    client.force_login(viewer)
    html = client.get(reverse("kpis:breach_list")).content.decode()
    assert select_options(html, "contract") == [""]
    assert 'data-lookup-url="/contracts/lookup/"' in html
    with django_assert_max_num_queries(12):
        html = client.get(reverse("kpis:breach_list"), {"contract": breach.contract_id}).content.decode()
    assert select_options(html, "contract") == ["", str(breach.contract_id)]
    assert f'<option value="{breach.contract_id}" selected>{breach.contract}</option>' in html


@pytest.mark.parametrize(
    ("url_name", "parameter"), [("kpis:breach_list", "contract"), ("contracts:contract_list", "vendor")]
)
def test_filter_with_a_value_that_is_not_an_id_renders_no_choice(client, viewer, url_name, parameter):
    client.force_login(viewer)
    response = client.get(reverse(url_name), {parameter: "x"})
    assert response.status_code == 200
    assert select_options(response.content.decode(), parameter) == [""]
