"""The big-table paginator never runs a full COUNT(*)."""

import pytest

from kpis.models import Measurement
from reports import admin_tools
from reports.admin_tools import EstimatedCountPaginator

from .builders import build_world


def test_unfiltered_big_table_uses_the_planner_estimate(db, monkeypatch, django_assert_num_queries):
    monkeypatch.setattr(admin_tools, "estimated_row_count", lambda model, using: 2_000_000)
    paginator = EstimatedCountPaginator(Measurement.objects.all(), 100)
    with django_assert_num_queries(0):
        assert paginator.count == 2_000_000


def test_small_table_is_counted_exactly(db):
    build_world(5)
    assert EstimatedCountPaginator(Measurement.objects.all(), 100).count == 5


def test_filtered_count_is_capped(db, monkeypatch):
    build_world(5)
    monkeypatch.setattr(EstimatedCountPaginator, "cap", 3)
    qs = Measurement.objects.filter(value__gte=0)
    assert EstimatedCountPaginator(qs, 2).count == 4  # cap + 1: "more than 3"


@pytest.mark.django_db
def test_estimated_row_count_reads_pg_class():
    estimate = admin_tools.estimated_row_count(Measurement)
    assert estimate is None or estimate >= 0


def test_action_checkbox_is_the_same_html_as_djangos(db):
    from django.contrib import admin

    from reports.admin_tools import ActionCheckboxMixin
    from vendors.models import Vendor

    vendor = Vendor.objects.create(name='Ampersand & "Quotes" <Ltd>', country="PH")
    plain = admin.ModelAdmin(Vendor, admin.site)
    fast = type("FastAdmin", (ActionCheckboxMixin, admin.ModelAdmin), {})(Vendor, admin.site)
    assert fast.action_checkbox(vendor) == plain.action_checkbox(vendor)
