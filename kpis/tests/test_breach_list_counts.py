"""The breach list over more breaches than it counts (millions at the xl preset): one query says how many there
are and what they owe, exact up to the list's cap, the planner's estimate for the whole table above it."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kpis.views import BreachListView
from tests.builders import bulk_world

pytestmark = pytest.mark.django_db

CAP = 10  # stands for the 10,000 of the real list: bulk_world(8) makes 16 breaches


@pytest.fixture
def small_cap(monkeypatch):
    monkeypatch.setattr(BreachListView, "count_cap", CAP)


@pytest.fixture
def sixteen_breaches(owner):
    """8 performance breaches (credit USD 20 each) and 8 replacement breaches (no credit); statistics taken,
    as autovacuum would have, so PostgreSQL's estimate for the table is its size."""
    bulk_world(8, owner)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE kpis_breach")


def row_count(html):
    return re.search(r'data-testid="row-count">([^<]+) found<', html).group(1)


def test_unfiltered_over_the_cap_shows_the_estimate_and_no_totals(client, viewer, small_cap, sixteen_breaches):
    client.force_login(viewer)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("kpis:breach_list"))
    html = response.content.decode()
    assert row_count(html) == "about 16"
    assert response.context["credit_totals"] is None
    assert "Service credits are totalled for up to 10 breaches" in html
    assert html.count("<tr ") == 16  # the page itself is complete (25 rows a page)
    count_queries = [q["sql"] for q in queries if "pg_class" in q["sql"]]
    assert len(count_queries) == 1 and "COUNT(*)" in count_queries[0]  # one query, and it counts no row
    assert not any(q["sql"].startswith("SELECT COUNT(") for q in queries)


def test_filtered_over_the_cap_says_more_than(client, viewer, small_cap, sixteen_breaches):
    client.force_login(viewer)
    response = client.get(reverse("kpis:breach_list"), {"severity": "major"})
    assert row_count(response.content.decode()) == "more than 10"
    assert response.context["credit_totals"] is None
    assert response.context["table"].paginator.num_pages == 1  # 11 rows counted: one page of 25


def test_filtered_within_the_cap_counts_and_totals_exactly(client, viewer, small_cap, sixteen_breaches):
    client.force_login(viewer)
    response = client.get(reverse("kpis:breach_list"), {"kind": "performance"})
    html = response.content.decode()
    assert row_count(html) == "8"
    assert response.context["credit_totals"] == [
        {"currency": "USD", "service_credit": Decimal("160.00"), "credit_earned_back": Decimal("0.00"), "breaches": 8}
    ]
    assert re.search(r'data-testid="credit-total-USD">\s*USD\xa0160\.00<', html)


def test_a_small_table_is_counted_and_totalled_whatever_its_estimate(client, viewer, sixteen_breaches):
    client.force_login(viewer)  # the real cap (10,000): 16 breaches are counted, not estimated
    response = client.get(reverse("kpis:breach_list"))
    assert row_count(response.content.decode()) == "16"
    assert [t["service_credit"] for t in response.context["credit_totals"]] == [Decimal("160.00")]


@pytest.mark.parametrize("rows", [4, 40])
def test_same_queries_under_and_over_the_cap(client, viewer, owner, small_cap, rows, django_assert_num_queries):
    """4 vendors: 8 breaches, counted and totalled; 40: 80, estimated. The same queries either way."""
    bulk_world(rows, owner)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE kpis_breach")
    client.force_login(viewer)
    client.get(reverse("kpis:breach_list"))
    # session, user, BEGIN, the data version (common.page_cache), the user's groups, count + totals, COMMIT,
    # the page's rows
    with django_assert_num_queries(8):
        response = client.get(reverse("kpis:breach_list"))
    assert (response.context["credit_totals"] is None) is (rows == 40)
