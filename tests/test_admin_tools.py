"""The big-table paginator never runs a full COUNT(*)."""

import pytest
from django.db import connection

from common.admin_tools import EstimatedCountPaginator
from kpis.models import Measurement
from reports.tests.builders import build_world


def _analyze(model):
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {model._meta.db_table}")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the estimate is PostgreSQL's")
def test_unfiltered_big_table_shows_the_planner_estimate_in_one_query(db, monkeypatch, django_assert_num_queries):
    build_world(5)
    _analyze(Measurement)  # the estimate: 5 rows
    build_world(2)  # 2 more rows the estimate does not know of yet
    monkeypatch.setattr(EstimatedCountPaginator, "cap", 3)
    with django_assert_num_queries(1):
        assert EstimatedCountPaginator(Measurement.objects.all(), 100).count == 5


def test_small_table_is_counted_exactly_in_one_query(db, django_assert_num_queries):
    build_world(5)
    _analyze(Measurement)
    build_world(2)
    with django_assert_num_queries(1):
        assert EstimatedCountPaginator(Measurement.objects.all(), 100).count == 7


def test_filtered_count_is_capped(db, monkeypatch):
    build_world(5)
    monkeypatch.setattr(EstimatedCountPaginator, "cap", 3)
    qs = Measurement.objects.filter(value__gte=0)
    assert EstimatedCountPaginator(qs, 2).count == 4  # cap + 1: "more than 3"


def test_action_checkbox_is_the_same_html_as_djangos(db):
    from django.contrib import admin

    from common.admin_tools import ActionCheckboxMixin
    from vendors.models import Vendor

    vendor = Vendor.objects.create(name='Ampersand & "Quotes" <Ltd>', country="PH")
    plain = admin.ModelAdmin(Vendor, admin.site)
    fast = type("FastAdmin", (ActionCheckboxMixin, admin.ModelAdmin), {})(Vendor, admin.site)
    assert fast.action_checkbox(vendor) == plain.action_checkbox(vendor)
