"""``manage.py seed_demo``: the demo data set covers every model and rule, and loading it twice adds nothing."""

import datetime
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Max, Min
from django.utils import timezone

from accounts import roles
from accounts.models import Profile
from contracts.choices import ContractStatus, EngagementModel, ObligationState, ServiceType
from contracts.models import Contract, ReplacementObligation, StaffMember
from demo.management.commands import seed_demo
from kpis import periods
from kpis.choices import Frequency, MeasurementSource
from kpis.models import SLA, Breach, Measurement
from vendors.choices import SourcingModel
from vendors.models import DeliveryCenter, Vendor

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(settings):
    settings.HOME_COUNTRY = "US"
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _row_counts():
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def test_prints_the_demo_logins(seeded):
    for login in ("admin / demo-admin-2026", "manager / demo-manager-2026", "viewer / demo-viewer-2026"):
        username, password = login.split(" / ")
        assert username in seeded and password in seeded


def test_demo_users_can_log_in_with_their_roles(seeded, rf):
    request = rf.post("/accounts/login/")  # the login throttle (django-axes) authenticates a request
    assert authenticate(request, username="admin", password="demo-admin-2026").is_superuser
    manager = authenticate(request, username="manager", password="demo-manager-2026")
    viewer = authenticate(request, username="viewer", password="demo-viewer-2026")
    assert roles.is_manager(manager) and roles.role_name(viewer) == "viewer"
    assert roles.is_manager(get_user_model().objects.get(username="priya"))
    assert all(get_user_model().objects.values_list("email", flat=True))
    assert Profile.objects.filter(receives_all_vendors_digest=True).exists()
    owners = set(Contract.objects.values_list("owner__username", flat=True))
    assert owners == {"manager", "priya"}
    assert (
        Contract.objects.filter(owner__username="manager").count()
        > Contract.objects.filter(owner__username="priya").count()
    )


def test_vendors_and_centres_are_spread_across_countries(seeded):
    assert Vendor.objects.count() >= 12
    countries = set(Vendor.objects.values_list("country", flat=True))
    assert {"PH", "IN", "MX", "CO", "PL", "ZA", "US", "CA", "IE", "EG"} <= countries
    assert not DeliveryCenter.objects.filter(timezone="UTC").exists()
    assert Vendor.objects.filter(certifications__isnull=False).distinct().count() == Vendor.objects.count()


def test_contracts_cover_every_service_type_sourcing_and_engagement_model(seeded):
    contracts = Contract.objects.all()
    assert set(contracts.values_list("service_type", flat=True)) == set(ServiceType.values)
    assert set(contracts.values_list("sourcing_model", flat=True)) == set(SourcingModel.values)
    assert set(contracts.values_list("engagement_model", flat=True)) == set(EngagementModel.values)
    assert contracts.filter(status=ContractStatus.TERMINATED).count() == 1
    assert contracts.filter(status=ContractStatus.DRAFT).count() == 1
    assert contracts.notice_due_within(30).count() >= 2
    for contract in contracts:
        assert 8 <= contract.at_risk_percent <= 15
        assert contract.baseline_monthly_cost > contract.monthly_fee > 0


def test_slas_use_the_catalogue_with_sensible_levels(seeded):
    slas = SLA.objects.select_related("kpi")
    for sla in slas:
        sla.full_clean()
    frequencies = set(slas.values_list("frequency", flat=True))
    assert {Frequency.MONTHLY, Frequency.WEEKLY} <= frequencies
    assert slas.filter(kpi__code="attrition_rate").values("contract").distinct().count() >= 3


def test_measurements_cover_twelve_months_up_to_the_last_complete_month(seeded):
    today = timezone.localdate()
    last_month_end = today.replace(day=1) - datetime.timedelta(days=1)
    monthly = Measurement.objects.filter(sla__frequency=Frequency.MONTHLY)
    span = monthly.aggregate(first=Min("period_start"), last=Max("period_end"))
    assert span["last"] == last_month_end
    assert (span["last"] - span["first"]).days >= 365
    assert Measurement.objects.filter(period_end__gte=today).count() == 0
    for measurement in Measurement.objects.select_related("sla__kpi")[:300]:
        measurement.full_clean()
        assert periods.period_start(measurement.sla.frequency, measurement.period_start) == measurement.period_start


def test_figures_give_a_mix_of_met_minor_major_and_missing(seeded):
    outcomes = list(Measurement.objects.with_outcome().values_list("outcome", flat=True))
    met, minor, major = (outcomes.count(o) for o in ("met", "minor", "major"))
    assert met > minor > major > 0
    assert met / len(outcomes) > 0.7
    # Some recent periods were deliberately left without figures.
    last_month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    reported = set(
        Measurement.objects.filter(period_start=last_month, sla__frequency=Frequency.MONTHLY).values_list(
            "sla_id", flat=True
        )
    )
    live = SLA.objects.filter(contract__status=ContractStatus.ACTIVE, frequency=Frequency.MONTHLY)
    assert live.exclude(pk__in=reported).exists()
    assert Measurement.objects.filter(source=MeasurementSource.COMPUTED, sla__kpi__code="attrition_rate").exists()


def test_breaches_are_left_to_the_checks(seeded):
    assert Breach.objects.count() == 0


def test_rosters_have_departures_in_every_obligation_state(seeded):
    today = timezone.localdate()
    assert StaffMember.objects.filter(left_on__isnull=True).count() >= 8 * 10
    departed = StaffMember.objects.filter(left_on__isnull=False)
    assert departed.count() == ReplacementObligation.objects.count()
    obligations = ReplacementObligation.objects.select_related("departed__contract")
    for obligation in obligations:
        assert obligation.due_on == ReplacementObligation.due_date_for(obligation.departed)
        obligation.full_clean()
    states = {obligation.state(today) for obligation in obligations}
    assert {ObligationState.FULFILLED_ON_TIME, ObligationState.FULFILLED_LATE, ObligationState.OVERDUE} <= states
    # Fulfilment follows the engagement model: BPO by candidate, BPM/BPS by productive replacement.
    assert obligations.filter(
        departed__contract__engagement_model=EngagementModel.BPM,
        candidate_provided_on__isnull=False,
        replacement_productive_on__isnull=True,
    ).exists()
    assert obligations.filter(replacement__isnull=False).exists()


def test_running_twice_changes_no_row_count(seeded):
    before = _row_counts()
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert _row_counts() == before
    assert "nothing to add" in out.getvalue()


def test_same_day_gives_the_same_data():
    from demo.data import build_plan

    day = datetime.date(2026, 11, 23)
    assert build_plan(day) == build_plan(day)


def test_today_option_builds_the_data_for_that_day(settings):
    settings.HOME_COUNTRY = "US"
    call_command("seed_demo", "--today", "2026-06-15", stdout=StringIO())
    assert Measurement.objects.aggregate(last=Max("period_end"))["last"] == datetime.date(2026, 6, 14)
    assert Measurement.objects.filter(sla__frequency=Frequency.MONTHLY).aggregate(last=Max("period_end"))[
        "last"
    ] == datetime.date(2026, 5, 31)


def test_detections_are_dated_as_if_the_checks_had_run_all_along(seeded):
    """After the checks, ``date_demo_detections`` spreads the breaches over the weeks they would have been
    found in: past weeks' digests have news, and this week's is not the whole history at once."""
    call_command("run_sla_checks", stdout=StringIO())
    out = StringIO()
    call_command("date_demo_detections", stdout=out)
    assert "Dated the detection of" in out.getvalue()
    now = timezone.now()
    breaches = list(Breach.objects.select_related("contract", "measurement"))
    assert breaches and all(b.detected_at <= now for b in breaches)
    for b in breaches:
        if b.kind == "performance":
            assert b.measurement.recorded_at < b.detected_at < b.measurement.recorded_at + datetime.timedelta(hours=1)
        elif b.kind == "missing_report":
            grace = datetime.timedelta(days=b.contract.reporting_grace_days)
            assert timezone.localtime(b.detected_at).date() == min(
                b.period_end + grace + datetime.timedelta(days=1), timezone.localdate()
            )
        else:
            assert timezone.localtime(b.detected_at).date() == min(
                b.period_end + datetime.timedelta(days=1), timezone.localdate()
            )
    weeks = {periods.iso_week_label(timezone.localtime(b.detected_at).date()) for b in breaches}
    assert len(weeks) > 20
    this_week = periods.iso_week_label(timezone.localdate())
    assert sum(periods.iso_week_label(timezone.localtime(b.detected_at).date()) == this_week for b in breaches) < 20
    before = dict(Breach.objects.values_list("pk", "detected_at"))
    call_command("date_demo_detections", stdout=StringIO())
    assert dict(Breach.objects.values_list("pk", "detected_at")) == before  # the same dates again


def test_seed_demo_refuses_production_settings_unless_forced(settings, db, monkeypatch):
    loads = []
    monkeypatch.setattr(seed_demo, "load_demo_data", lambda today: loads.append(today) or {})
    settings.IS_PRODUCTION = True
    with pytest.raises(CommandError, match="production settings"):
        call_command("seed_demo", stdout=StringIO())
    assert loads == []
    call_command("seed_demo", "--force", "--today", "2026-06-15", stdout=StringIO())
    assert loads == [datetime.date(2026, 6, 15)]
