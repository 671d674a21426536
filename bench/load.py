"""Load step: gunicorn (2 workers) driven by N concurrent logged-in clients over loopback.

Each client is a thread with its own session, asking for a mix of pages (contract list, breach list,
dashboard) one after another for a fixed time, each request on a new connection (gunicorn's sync workers do
not keep connections alive) with a 30 s timeout. Reported per level of concurrency: requests/s, p50/p99
latency, errors (any non-200 answer or failed request). Traffic goes to 127.0.0.1 only and stops by itself.
"""

import http.client
import os
import statistics
import subprocess  # nosec B404  # starts this virtualenv's gunicorn, fixed argument list
import sys
import threading
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.urls import reverse_lazy
from django.utils.text import format_lazy

from .processes import bench_port

ROOT = Path(settings.BASE_DIR)
# Reversed when first used (URLs are not loaded when this module is imported).
PAGES = {
    "contract list": format_lazy("{}?service_type=front_office", reverse_lazy("contracts:contract_list")),
    "breach list": reverse_lazy("kpis:breach_list"),
    "dashboard": reverse_lazy("dashboard:home"),
}
REQUEST_TIMEOUT = 30
APPLICATION_NAME = "sla-bench-load"
MAX_REQUESTS_PER_CLIENT = 100_000  # a bound besides the clock


def session_cookie(user):
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "access.backends.NonPolicyModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def get(port, path, cookie=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def start_gunicorn(port, database_url, log_path, env=None, workers=2):
    env = {
        **(env or os.environ),
        "DATABASE_URL": database_url,
        "DEBUG": "False",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PGAPPNAME": APPLICATION_NAME,  # libpq: tells the CPU meter which backends are this server's
    }
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    log = open(log_path, "w")  # noqa: SIM115  (closed in stop_process)
    process = subprocess.Popen(  # nosec B603  # this virtualenv's gunicorn, fixed options, loopback only
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "config/gunicorn.conf.py",
            "config.wsgi",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    process.log = log
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if get(port, "/health/?only=database") == 200:
                return process
        except OSError:
            pass
        time.sleep(0.2)
    stop_process(process)
    raise RuntimeError(f"gunicorn did not start; its log:\n{Path(log_path).read_text()[-2000:]}")


def stop_process(process):
    """Stop a server or worker started here (with its ``log``), killing it if it does not stop in 15 s."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    process.log.close()


class CpuMeter:
    """CPU seconds spent by gunicorn (master and workers) and by the database backends of its connections while
    the clients run: requests/s depends on what else the machine runs, CPU per request much less (Linux /proc;
    backends opened or closed meanwhile are sampled every half second)."""

    TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def __init__(self, server_pid):
        self.server_pid = server_pid
        self.first, self.last = {}, {}
        self.stop = threading.Event()

    @classmethod
    def cpu_seconds(cls, pid):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / cls.TICKS  # utime + stime

    def pids(self):
        children = Path(f"/proc/{self.server_pid}/task/{self.server_pid}/children")
        workers = children.read_text().split() if children.exists() else []
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s",
                [APPLICATION_NAME],
            )
            backends = [row[0] for row in cursor.fetchall()]
        return [("web", self.server_pid), *(("web", int(pid)) for pid in workers), *(("db", pid) for pid in backends)]

    def sample(self, first=False):
        for kind, pid in self.pids():
            seconds = self.cpu_seconds(pid)
            if seconds is None:
                continue
            # A process first seen after the start was born during the run: all its CPU counts.
            self.first.setdefault((kind, pid), seconds if first else 0.0)
            self.last[(kind, pid)] = seconds

    def run(self):
        while not self.stop.wait(0.5):
            self.sample()

    def __enter__(self):
        self.sample(first=True)
        self.client_started = time.process_time()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self.sample()
        self.client_seconds = time.process_time() - self.client_started

    def per_request_ms(self, requests):
        used = {"web": 0.0, "db": 0.0}
        for (kind, pid), seconds in self.last.items():
            used[kind] += seconds - self.first[(kind, pid)]
        requests = max(requests, 1)
        return {
            "web_cpu_ms": round(used["web"] * 1000 / requests, 1),
            "db_cpu_ms": round(used["db"] * 1000 / requests, 1),
            "client_cpu_ms": round(self.client_seconds * 1000 / requests, 1),
        }


def client(port, cookie, offset, deadline, out):
    paths = [str(path) for path in PAGES.values()]
    latencies, errors = [], []
    for n in range(offset, offset + MAX_REQUESTS_PER_CLIENT):
        if time.monotonic() >= deadline:
            break
        path = paths[n % len(paths)]
        started = time.perf_counter()
        try:
            status = get(port, path, cookie)
            if status != 200:
                errors.append(f"{path}: HTTP {status}")
        except Exception as error:  # counted and reported: the step fails on any error
            errors.append(f"{path}: {type(error).__name__}: {error}")
        latencies.append((time.perf_counter() - started) * 1000)
    out[offset] = (latencies, errors)


def drive(port, cookies, seconds, server_pid=None):
    if server_pid is not None and Path("/proc").exists() and connection.vendor == "postgresql":
        with CpuMeter(server_pid) as meter:
            figures = drive(port, cookies, seconds)
        figures["cpu_per_request"] = meter.per_request_ms(figures["requests"])
        return figures
    results = {}
    deadline = time.monotonic() + seconds
    started = time.perf_counter()
    threads = [
        threading.Thread(target=client, args=(port, cookie, offset, deadline, results))
        for offset, cookie in enumerate(cookies)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + REQUEST_TIMEOUT + 10)
    elapsed = time.perf_counter() - started
    latencies = sorted(ms for lat, _ in results.values() for ms in lat)
    errors = [error for _, errs in results.values() for error in errs]
    if not latencies:
        return {"clients": len(cookies), "seconds": round(elapsed, 1), "requests": 0, "errors": len(errors)}
    return {
        "clients": len(cookies),
        "seconds": round(elapsed, 1),
        "requests": len(latencies),
        "requests_per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 1),
        "errors": len(errors),
        "error_examples": sorted(set(errors))[:5],
    }


def _drive_levels(port, database_url, log_path, user, seconds, concurrency, env=None):
    server = start_gunicorn(port, database_url, log_path, env=env)
    try:
        for path in PAGES.values():  # warm both workers' caches and connections
            get(port, str(path), session_cookie(user))
        levels = {}
        for clients in concurrency:
            cookies = [session_cookie(user) for _ in range(clients)]
            levels[str(clients)] = drive(port, cookies, seconds, server.pid)
        return levels
    finally:
        stop_process(server)


def bench_load(database_url, seconds=60, concurrency=(8, 32), log_dir=None):
    """Figures per concurrency level, as deployed (``levels``: the page content cache on, no writes while it
    runs, so the pages come from the cache), then the most clients again with every page rendered
    (``rendered``: ``PAGE_CACHE=False``), what the same load costs right after writes. ``error`` is set (the
    step fails) when any request failed."""
    user = get_user_model().objects.filter(is_superuser=True).first()
    if user is None:
        user = get_user_model().objects.create_superuser("bench_admin", "bench@example.com", "bench-admin")
    port = bench_port()
    log_path = Path(log_dir or settings.DATA_DIR) / "bench-load-gunicorn.log"
    figures = {"workers": 2, "pages": {name: str(path) for name, path in PAGES.items()}}
    figures["levels"] = _drive_levels(port, database_url, log_path, user, seconds, concurrency)
    figures["rendered"] = _drive_levels(
        port, database_url, log_path, user, seconds, concurrency[-1:], env={**os.environ, "PAGE_CACHE": "False"}
    )
    every_level = {**figures["levels"], **{f"{n} rendered": f for n, f in figures["rendered"].items()}}
    failed = {level: f["errors"] for level, f in every_level.items() if f["errors"] or not f["requests"]}
    if failed:
        figures["error"] = f"failed requests (or none made) at these concurrency levels: {failed}"
    return figures
