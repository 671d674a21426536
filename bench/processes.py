"""Servers the benchmark starts for a step and stops by PID: a Celery worker on its own queue, gunicorn;
and what the kernel says of a process's memory (``/proc/<pid>/status``: VmRSS now, VmHWM its peak)."""

import contextlib
import os
import re
import signal
import socket
import subprocess  # nosec B404  # starts this virtualenv's celery and gunicorn, fixed argument lists
import sys
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(settings.BASE_DIR)


def bench_port(offset=0):
    """``BENCH_PORT`` + ``offset`` when the environment sets it (a shared machine: each user has ports),
    else a free port the kernel picks."""
    if os.environ.get("BENCH_PORT"):
        return int(os.environ["BENCH_PORT"]) + offset
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url():
    """The URL of the database this process uses, for a child process (a worker, gunicorn) to use it too."""
    db = connection.settings_dict
    if connection.vendor != "postgresql":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    auth = f"{user}:{db['PASSWORD']}" if db.get("PASSWORD") else user
    return f"postgres://{auth}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def broker_url():
    """The broker a step's worker and publisher share: ``BENCH_BROKER_URL``, else the settings' one (the
    embedded filesystem broker polls once a second: set a Redis URL to measure latency)."""
    return os.environ.get("BENCH_BROKER_URL") or settings.CELERY_BROKER_URL


def child_env(database_url, **extra):
    env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "False", **extra}
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    return env


def memory_kb(pid, field="VmRSS"):
    """``VmRSS`` (resident now) or ``VmHWM`` (peak resident) of ``pid`` in kB; None once it has exited."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) if match else None


def children(pid):
    """The PIDs of ``pid``'s direct children (a prefork worker's pool, gunicorn's workers)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def mb(kb):
    return None if kb is None else round(kb / 1024, 1)


class Worker:
    """``celery -A config worker`` (prefork, one pool process: the process that runs each task, as in
    production) consuming a queue of its own on ``broker``, writing its log to ``log_path``."""

    def __init__(self, database_url, broker, log_path):
        self.queue = f"bench-{uuid.uuid4().hex[:8]}"
        self.broker = broker
        self.log_path = Path(log_path)
        env = child_env(database_url, CELERY_BROKER_URL=broker)
        self.log = open(self.log_path, "w")  # noqa: SIM115  (closed in stop)
        self.process = subprocess.Popen(  # nosec B603  # this virtualenv's celery, fixed options, no shell
            [str(Path(sys.executable).parent / "celery"), "-A", "config", "worker", "--pool", "prefork",
             "--concurrency", "1", "-Q", self.queue, "--without-gossip", "--without-mingle", "--without-heartbeat",
             "--loglevel", "INFO"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.wait_for(lambda text: " ready." in text, 90, "start")

    def text(self):
        return self.log_path.read_text(errors="replace")

    def wait_for(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.text()
            if predicate(text):
                return text
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"the Celery worker did not {what} in {timeout} s; its log:\n{self.text()[-3000:]}")

    def send(self, task_name, **kwargs):
        from config.celery import app

        with app.connection_for_write(self.broker) as connection:
            return app.send_task(task_name, kwargs=kwargs, queue=self.queue, connection=connection).id

    def wait_for_task(self, task_id, timeout):
        """Seconds the task took, from the worker's own log line (``… succeeded in 1.23s``)."""
        text = self.wait_for(lambda text: f"[{task_id}] succeeded" in text or f"[{task_id}] raised" in text,
                             timeout, f"finish task {task_id}")  # fmt: skip
        match = re.search(rf"\[{task_id}\] succeeded in ([\d.]+)s", text)
        if match is None:
            raise RuntimeError(f"task {task_id} failed in the worker; its log:\n{text[-3000:]}")
        return float(match.group(1))

    def pool_pids(self):
        return children(self.process.pid)

    def stop(self):
        """SIGTERM to the worker (a warm shutdown: it stops its pool itself), then SIGKILL to its own process
        group (it started a session of its own) if it has not exited within 30 s."""
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.log.close()
        if self.broker.startswith("redis://"):
            import redis

            client = redis.Redis.from_url(self.broker)
            client.delete(self.queue, *client.keys(f"*{self.queue}*"))
