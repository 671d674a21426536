"""The demo (``make run``: seed_demo, run_sla_checks, date_demo_detections) has governance to look at: actions in
every state (late ones and ones still in time, on the dashboard), RACI charts, individual scorecards."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from contracts.models import Contract
from governance import raci
from governance.choices import ActionStatus
from governance.models import CorrectiveAction, RaciEntry, StaffMeasurement

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):
    settings.HOME_COUNTRY = "US"
    for command in ("seed_demo", "run_sla_checks", "date_demo_detections"):
        call_command(command, stdout=StringIO())


def test_the_demo_has_actions_raci_charts_and_individual_scorecards(demo, client):
    actions = list(CorrectiveAction.objects.select_related("contract"))
    assert {a.status for a in actions} == {
        ActionStatus.OPEN,
        ActionStatus.IN_PROGRESS,
        ActionStatus.DONE,
        ActionStatus.VERIFIED,
    }
    assert all(a.breaches.exists() and not a.breaches.filter(status="withdrawn").exists() for a in actions)
    verified = [a for a in actions if a.status == ActionStatus.VERIFIED]
    assert all(a.verified_by_id != a.done_by_id for a in verified)
    today = timezone.localdate()
    assert CorrectiveAction.objects.overdue(today).exists()
    assert CorrectiveAction.objects.pending().filter(due_on__gte=today).exists()

    charted = {e.contract for e in RaciEntry.objects.select_related("contract")}
    assert len(charted) >= 10
    assert all(not raci.accountability_errors(raci.grid_of(c)) for c in charted)

    with_figures = set(StaffMeasurement.objects.values_list("staff_member__contract", flat=True))
    assert len(with_figures) >= 3

    # What a demo user sees: overdue actions on the dashboard, performers on a contract with individual figures.
    manager = get_user_model().objects.get(username="manager")
    client.force_login(manager)
    dashboard = client.get("/").content.decode()
    assert "Overdue corrective actions (" in dashboard
    contract = Contract.objects.get(pk=min(with_figures))
    page = client.get(contract.get_absolute_url()).content.decode()
    assert 'data-testid="top-performers"' in page and 'data-testid="contract-raci"' in page
