"""Request ids in responses and log lines; every Celery task logs its start, end, duration and summary;
JSON logs in production; Sentry only when SENTRY_DSN is set."""

import io
import json
import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from common import logs
from health.tasks import beat_heartbeat

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def console():
    """What the root logger's console handler (the one LOGGING configures) writes."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    stream = io.StringIO()
    old = handler.setStream(stream)
    yield stream
    handler.setStream(old)


@pytest.mark.django_db
def test_a_request_id_from_the_client_is_returned_and_logged(client, console):
    logging.getLogger("sla.requests").setLevel(logging.INFO)
    try:
        response = client.get("/health/?only=database", HTTP_X_REQUEST_ID="req-123.abc")
    finally:
        logging.getLogger("sla.requests").setLevel(logging.WARNING)
    assert response["X-Request-ID"] == "req-123.abc"
    line = next(line for line in console.getvalue().splitlines() if "sla.requests" in line)
    assert "[req-123.abc] GET /health/ 200" in line


@pytest.mark.django_db
def test_without_one_a_new_id_is_made_for_every_request(client):
    first = client.get("/accounts/login/")["X-Request-ID"]
    second = client.get("/contracts/")["X-Request-ID"]  # a redirect to the login page carries one too
    assert len(first) == len(second) == 32 and first != second
    int(first, 16)


@pytest.mark.django_db
@pytest.mark.parametrize("forged", ["a" * 129, "x\nFAKE LOG LINE", "id with spaces", "<script>"])
def test_an_unusable_incoming_id_is_replaced(client, forged):
    returned = client.get("/accounts/login/", HTTP_X_REQUEST_ID=forged)["X-Request-ID"]
    assert returned != forged and len(returned) == 32


def test_records_outside_a_request_carry_a_dash():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "message", None, None)
    logs.RequestIdFilter().filter(record)
    assert record.request_id == "-"


@pytest.mark.django_db
def test_every_task_logs_start_and_end_with_duration_and_summary(caplog, console):
    caplog.set_level(logging.INFO, logger="sla.tasks")
    result = beat_heartbeat.apply(task_id="task-42")
    assert result.successful()
    started, finished = [r for r in caplog.records if r.name == "sla.tasks"]
    assert (started.task_name, started.task_id) == ("health.tasks.beat_heartbeat", "task-42")
    assert started.getMessage() == "task health.tasks.beat_heartbeat started"
    assert finished.state == "SUCCESS" and finished.summary == "None"
    assert 0 <= finished.duration_seconds < 5
    # The task's own lines carry the task's id as their request id.
    assert "[task-42] task health.tasks.beat_heartbeat finished: SUCCESS in" in console.getvalue()
    assert logs.request_id_var.get() == "-"  # and it does not leak past the task


@pytest.mark.django_db
def test_a_failing_task_logs_its_state_and_error(caplog):
    from kpis.tasks import detect_breaches

    caplog.set_level(logging.INFO, logger="sla.tasks")
    detect_breaches.apply(kwargs={"today": "not-a-date"})
    finished = [r for r in caplog.records if r.name == "sla.tasks"][-1]
    assert finished.levelno == logging.WARNING and finished.state == "FAILURE"
    assert "ValueError" in finished.summary


def test_a_task_queued_during_a_request_carries_its_id():
    headers = {}
    token = logs.request_id_var.set("req-7")
    try:
        logs.on_before_task_publish(headers=headers)
    finally:
        logs.request_id_var.reset(token)
    assert headers == {"request_id": "req-7"}


def run_production(code, **extra_env):
    env = {key: value for key, value in os.environ.items() if key not in ("DEBUG", "LOG_FORMAT", "SENTRY_DSN")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="example.com",
        EMAIL_URL="dummymail://",
        SITE_URL="https://sla.example.com",
        DATA_DIR=os.environ.get("DATA_DIR", "/tmp"),
        **extra_env,
    )
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_logs_are_json_with_the_request_id():
    code = """
import logging
from django.test import Client
from config.celery import app

response = Client().get("/health/?only=broker", secure=True, HTTP_HOST="example.com", HTTP_X_REQUEST_ID="abc-1")
print("status", response.status_code, flush=True)

@app.task(name="demo.count")
def count():
    logging.getLogger("demo").info("counting")
    return {"rows": 3}

count.apply(task_id="t-1")
"""
    result = run_production(code)
    assert "status 200" in result.stdout, result.stdout + result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    request = next(line for line in lines if line["logger"] == "sla.requests")
    assert request["request_id"] == "abc-1" and request["status"] == 200 and request["path"] == "/health/"
    assert {"time", "level", "message", "duration_ms"} <= set(request)
    tasks = [line for line in lines if line.get("task_name") == "demo.count"]
    assert [line["message"].split(":")[0] for line in tasks] == ["task demo.count started", "task demo.count finished"]
    assert tasks[1]["summary"] == "{'rows': 3}" and tasks[1]["state"] == "SUCCESS"
    assert next(line for line in lines if line["message"] == "counting")["request_id"] == "t-1"


def test_sentry_is_initialised_only_when_a_dsn_is_set():
    code = "import sentry_sdk; c = sentry_sdk.get_client(); print(c.is_active(), c.options['send_default_pii'])"
    without = run_production("import sys; print('sentry_sdk' in sys.modules)")
    assert without.stdout.strip() == "False", without.stderr
    # A DSN on the loopback: nothing is sent (no event happens), and nothing leaves the machine.
    with_dsn = run_production(code, SENTRY_DSN="http://public@127.0.0.1:9/1")
    assert with_dsn.stdout.strip() == "True False", with_dsn.stderr
