"""The dashboard's "missing reports" list and the engine's missing-report breaches follow one rule (DESIGN.md
rule 3): a period owes a report only when it lies within the contract's and the SLA's dates."""

import datetime

import pytest

from dashboard.views import missing_reports
from kpis.breaches import detect_breaches
from kpis.choices import BreachKind
from kpis.models import SLA, Breach
from kpis.recording import figure_due, report_owed
from tests.factories import ContractFactory, SLAFactory

pytestmark = pytest.mark.django_db

MARCH = (datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))
APRIL = (datetime.date(2026, 4, 1), datetime.date(2026, 4, 30))


@pytest.fixture
def sla():
    """A monthly SLA on a contract that starts mid-March: March overlaps the contract, April lies in it."""
    contract = ContractFactory(start_date=datetime.date(2026, 3, 15), reporting_grace_days=5)
    return SLAFactory(contract=contract)


def _missing(today):
    slas = list(SLA.objects.select_related("contract", "kpi"))
    dashboard = {(row["sla"].pk, row["period_start"]) for row in missing_reports(slas, today)}
    detect_breaches(today=today)
    engine = set(
        Breach.objects.filter(kind=BreachKind.MISSING_REPORT)
        .exclude(status="withdrawn")
        .filter(period_start=(today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1))  # last month
        .values_list("sla_id", "period_start")
    )
    return dashboard, engine


def test_a_period_overlapping_the_contract_start_may_take_a_figure_but_owes_no_report(sla):
    assert figure_due(sla, *MARCH)
    assert not report_owed(sla, *MARCH)
    assert report_owed(sla, *APRIL)


def test_dashboard_and_engine_agree_on_the_period_overlapping_the_contract_start(sla):
    today = datetime.date(2026, 4, 20)  # March ended 20 days ago, past the 5 grace days
    dashboard, engine = _missing(today)
    assert dashboard == engine == set()


def test_dashboard_and_engine_agree_on_the_first_whole_period(sla):
    today = datetime.date(2026, 5, 20)  # April: the first month wholly inside the contract
    dashboard, engine = _missing(today)
    assert dashboard == engine == {(sla.pk, APRIL[0])}
