"""Beat's own heartbeat: scheduled every minute (``CELERY_BEAT_SCHEDULE``), run by a worker."""

from celery import shared_task

from . import heartbeats


@shared_task(name="health.tasks.beat_heartbeat", acks_late=False, ignore_result=True, soft_time_limit=20, time_limit=30)
def beat_heartbeat():
    heartbeats.record(heartbeats.BEAT)
