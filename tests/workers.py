"""Test helpers that start real processes: a Celery worker on its own Redis queue against the test database,
a server on a free port, and a pytest run of some modules on the embedded SQLite database."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(__file__).resolve().parent.parent


def redis_available(url):
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
        return True
    except Exception:  # noqa: BLE001
        return False


def database_url():
    """The URL of the *test* database this process writes to, for a child process to use it too."""
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_process_group(process):
    """Stop a process started with ``start_new_session=True`` and its children: SIGTERM, SIGKILL after 15 s."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def celery_worker(broker, tmp_path, prefix="e2e", **env):
    """A worker process (solo pool) consuming a queue of its own on ``broker``, against the test database;
    yields ``(queue, process, log)``, and stops it and empties its queue afterwards. ``env``: more variables."""
    queue = f"{prefix}-{uuid.uuid4().hex[:8]}"  # our own queue: no other worker takes our tasks
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url(),  # the *test* database the test writes to
        "CELERY_BROKER_URL": broker,
        "DATA_DIR": str(tmp_path),
        "CONN_MAX_AGE": "0",
        **{key: value.replace("{queue}", queue) for key, value in env.items()},
    }
    log = open(tmp_path / "worker.log", "w+")  # noqa: SIM115
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "config", "worker", "--pool", "solo", "-Q", queue,
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO"],
        cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        yield queue, process, log
    finally:
        stop_process_group(process)
        log.close()
        import redis

        client = redis.Redis.from_url(broker)
        client.delete(queue, *client.keys(f"*{queue}*"))


def wait_for(predicate, process, log, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if process.poll() is not None:
            break
        time.sleep(0.5)
    log.seek(0)
    pytest.fail("The worker did not produce the expected rows. Worker log:\n" + log.read()[-5000:])


def run_on_sqlite(modules, tmp_path, timeout=280):
    """Run these test modules in a pytest subprocess on ``config.settings.test_sqlite``; assert they pass."""
    env = {**os.environ, "DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings.test_sqlite"}
    env.pop("DATABASE_URL", None)
    modules = [module for module in modules if (BASE_DIR / module).exists()]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--ds=config.settings.test_sqlite", "-q", "-p", "no:cacheprovider", *modules],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
