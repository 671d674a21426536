"""A task lost with its worker runs again within minutes, and a live one is never handed out twice.

Tasks are acknowledged late: a message stays in Redis, invisible, until its task finishes. When a worker
dies mid-task, Redis hands the message to another worker only after the broker's visibility timeout. So
that timeout must be short (kombu's default is an hour) but above every task's hard time limit (a task
still running past it would be delivered to a second worker), and above every retry delay (a retry waits
in a worker as an unacknowledged message with an ETA).
"""

import pytest
from django.conf import settings

from config.celery import app

MINUTES = 60


@pytest.fixture(scope="module")
def tasks():
    app.loader.import_default_modules()  # autodiscover every app's tasks.py, as the worker does
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


def visibility_timeout():
    return app.conf.broker_transport_options["visibility_timeout"]


def test_the_project_tasks_are_registered(tasks):
    assert {
        "kpis.tasks.detect_breaches",
        "kpis.tasks.send_breach_digest_email",
        "reports.tasks.refresh_summaries",
        "contracts.tasks.check_replacement_obligations",
    } <= set(tasks)


def test_the_broker_redelivers_a_lost_task_within_minutes_not_an_hour():
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    assert visibility_timeout() <= 15 * MINUTES
    with app.connection_for_write() as connection:  # what kombu's Redis transport is actually given
        assert connection.transport_options["visibility_timeout"] == visibility_timeout()


def test_every_task_is_killed_before_the_broker_would_hand_it_to_another_worker(tasks):
    for name, task in tasks.items():
        hard = task.time_limit or app.conf.task_time_limit
        soft = task.soft_time_limit or app.conf.task_soft_time_limit
        assert hard, f"{name} has no hard time limit"
        assert soft and soft < hard, f"{name}: the soft limit ({soft}) must come before the hard one ({hard})"
        assert hard < visibility_timeout(), f"{name}: time limit {hard}s, visibility timeout {visibility_timeout()}s"


def test_every_retry_delay_is_shorter_than_the_visibility_timeout(tasks):
    for name, task in tasks.items():
        if getattr(task, "autoretry_for", None):
            longest_delay = task.retry_backoff_max if task.retry_backoff else task.default_retry_delay
            assert longest_delay < visibility_timeout(), name


def test_beat_schedules_only_registered_tasks(tasks):
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in tasks, entry["task"]
