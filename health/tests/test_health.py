"""``/health/``: database, broker, the last finished breach check and beat's last tick; 200 or 503."""

import datetime
import io
import socket

import pytest
from django.conf import settings
from django.utils import timezone

from health import heartbeats
from health.models import Heartbeat
from health.tasks import beat_heartbeat
from kpis.tasks import detect_breaches

pytestmark = pytest.mark.django_db


def closed_port():
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def fresh():
    heartbeats.record(heartbeats.BREACH_CHECK, timezone.now() - datetime.timedelta(minutes=30))
    heartbeats.record(heartbeats.BEAT, timezone.now() - datetime.timedelta(seconds=40))


def test_all_fresh_is_200_for_an_anonymous_client(client, fresh):
    response = client.get("/health/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok" and body["failing"] == []
    assert set(body["checks"]) == {"database", "broker", "breach_check", "beat"}
    assert all(check["ok"] for check in body["checks"].values())
    assert 1790 <= body["checks"]["breach_check"]["age_seconds"] <= 1810
    assert body["checks"]["beat"]["max_age_seconds"] == settings.HEALTH_BEAT_MAX_AGE_SECONDS
    assert "no-cache" in response["Cache-Control"]


def test_an_unreachable_broker_is_503_naming_the_broker(client, fresh, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 720}
    response = client.get("/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail" and body["failing"] == ["broker"]
    assert body["checks"]["broker"]["error"].startswith("unreachable")
    assert b"127.0.0.1" not in response.content  # the address stays in the server's log


def test_a_stale_breach_check_is_503_naming_it(client, fresh, settings):
    heartbeats.record(heartbeats.BREACH_CHECK, timezone.now() - datetime.timedelta(hours=3))
    response = client.get("/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["breach_check"]
    assert "10800 s ago" in body["checks"]["breach_check"]["error"]
    settings.HEALTH_BREACH_CHECK_MAX_AGE_SECONDS = 4 * 60 * 60  # the threshold is a setting
    assert client.get("/health/").status_code == 200


def test_a_stale_beat_is_503_naming_it(client, fresh):
    heartbeats.record(heartbeats.BEAT, timezone.now() - datetime.timedelta(minutes=6))
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["failing"] == ["beat"]


def test_nothing_recorded_yet_is_503(client):
    response = client.get("/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["breach_check", "beat"]
    assert body["checks"]["beat"]["error"] == "no beat tick recorded yet"


def test_only_runs_the_named_checks(client):
    response = client.get("/health/?only=database,broker")
    assert response.status_code == 200
    assert set(response.json()["checks"]) == {"database", "broker"}
    assert client.get("/health/?only=beat").status_code == 503
    assert client.get("/health/?only=database,secrets").status_code == 400


def test_a_successful_breach_check_task_records_its_finish():
    before = timezone.now()
    result = detect_breaches.apply(kwargs={"today": "2026-06-20"})
    assert result.successful()
    assert Heartbeat.objects.get(name=heartbeats.BREACH_CHECK).at >= before


def test_a_failed_breach_check_records_nothing():
    result = detect_breaches.apply(kwargs={"today": "not-a-date"})
    assert result.failed()
    assert not Heartbeat.objects.filter(name=heartbeats.BREACH_CHECK).exists()


def test_other_tasks_do_not_count_as_a_breach_check():
    beat_heartbeat.apply()
    assert set(Heartbeat.objects.values_list("name", flat=True)) == {heartbeats.BEAT}


def test_beat_ticks_the_heartbeat_every_minute():
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "health.tasks.beat_heartbeat")
    assert entry["schedule"] == 60
    before = timezone.now()
    beat_heartbeat.apply()
    beat_heartbeat.apply()
    assert Heartbeat.objects.get(name=heartbeats.BEAT).at >= before


@pytest.mark.django_db
def test_run_sla_checks_from_cron_counts_as_a_finished_breach_check(client):
    from django.core.management import call_command

    from health.heartbeats import BREACH_CHECK, last_seen

    assert BREACH_CHECK not in last_seen()
    call_command("run_sla_checks", stdout=io.StringIO())
    assert BREACH_CHECK in last_seen()
