"""Request ids and task logging.

* ``RequestIdMiddleware`` takes the request id from ``X-Request-ID`` (or makes a new one), keeps it in a
  context variable for the request's duration, returns it as a response header and logs one line per request.
* ``RequestIdFilter`` (on the log handlers, see ``LOGGING``) adds it to every record as ``request_id``.
* Celery: a task queued during a request carries the id in its headers; every task logs its start and its
  end with duration, state and summary (the return value), and its own log lines carry the same id.
"""

import contextvars
import logging
import re
import time
import uuid

from celery import signals

request_id_var = contextvars.ContextVar("request_id", default="-")

REQUEST_ID_HEADER = "X-Request-ID"
# What an incoming id may look like (a proxy's or a client's); anything else is replaced, so a header
# cannot forge log lines or fill them with junk.
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

request_logger = logging.getLogger("sla.requests")
task_logger = logging.getLogger("sla.tasks")


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


def incoming_request_id(value):
    return value if value and VALID_REQUEST_ID.fullmatch(value) else uuid.uuid4().hex


class RequestIdMiddleware:
    """First in ``MIDDLEWARE``: every response, redirects and errors included, carries the id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = incoming_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            request_logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            return response
        finally:
            request_id_var.reset(token)


# --- Celery -------------------------------------------------------------------------------------
_running = {}  # task id -> (monotonic start, context token); one entry per task running in this process


def summary_of(value, limit=500):
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def on_before_task_publish(headers=None, **kwargs):
    request_id = request_id_var.get()
    if headers is not None and request_id != "-":
        headers.setdefault("request_id", request_id)


def on_task_prerun(task_id=None, task=None, args=None, kwargs=None, **extra):
    request_id = getattr(task.request, "request_id", None) or task_id
    _running[task_id] = (time.monotonic(), request_id_var.set(request_id))
    task_logger.info("task %s started", task.name, extra={"task_name": task.name, "task_id": task_id})


def on_task_postrun(task_id=None, task=None, retval=None, state=None, **extra):
    started, token = _running.pop(task_id, (None, None))
    duration = round(time.monotonic() - started, 3) if started is not None else None
    level = logging.INFO if state == "SUCCESS" else logging.WARNING
    task_logger.log(
        level,
        "task %s finished: %s in %s s: %s",
        task.name,
        state,
        duration,
        summary_of(retval),
        extra={
            "task_name": task.name,
            "task_id": task_id,
            "state": state,
            "duration_seconds": duration,
            "summary": summary_of(retval),
        },
    )
    if token is not None:
        try:
            request_id_var.reset(token)
        except ValueError:  # set in another context (a thread pool hop): nothing to restore
            request_id_var.set("-")


def connect_task_signals():
    signals.before_task_publish.connect(on_before_task_publish, dispatch_uid="common.logs.publish")
    signals.task_prerun.connect(on_task_prerun, dispatch_uid="common.logs.prerun")
    signals.task_postrun.connect(on_task_postrun, dispatch_uid="common.logs.postrun")
