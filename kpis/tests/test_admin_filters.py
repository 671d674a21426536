"""The breach changelist's period filter: which period ends fall in this month, last month, this quarter, this year."""

import datetime

import pytest

from kpis import admin as kpis_admin
from kpis.models import Breach
from tests.factories import BreachFactory, ContractFactory, SLAFactory

ENDS = ["2025-12-31", "2026-01-31", "2026-03-31", "2026-04-30", "2026-05-31", "2026-06-30", "2026-07-31", "2027-01-31"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("today", "value", "expected"),
    [
        ("2026-05-15", "this_month", ["2026-05-31"]),
        ("2026-05-15", "last_month", ["2026-04-30"]),
        ("2026-05-15", "this_quarter", ["2026-04-30", "2026-05-31", "2026-06-30"]),
        ("2026-05-15", "this_year", ENDS[1:7]),
        ("2026-01-10", "last_month", ["2025-12-31"]),
        ("2026-01-10", "this_quarter", ["2026-01-31", "2026-03-31"]),
        ("2026-05-15", None, ENDS),
    ],
)
def test_period_filter_keeps_the_breaches_whose_period_ends_in_the_chosen_span(monkeypatch, today, value, expected):
    contract = ContractFactory()
    for i, end in enumerate(ENDS):
        sla = SLAFactory(contract=contract, effective_from=f"2025-01-{i + 1:02d}")
        BreachFactory(sla=sla, contract=contract, period_start=f"{end[:8]}01", period_end=end)
    monkeypatch.setattr(kpis_admin, "_today", lambda: datetime.date.fromisoformat(today))
    params = {"period": [value]} if value else {}
    period_filter = kpis_admin.PeriodFilter(None, params, Breach, None)
    kept = period_filter.queryset(None, Breach.objects.all()).order_by("period_end")
    assert [breach.period_end.isoformat() for breach in kept] == expected
