"""Weekly digest at scale, sent the way production sends it: every manager with news that week gets one e-mail.

The digests go through the broker to a real Celery worker (prefork, ``WORKER_PROCESSES`` processes: one per
core of this machine), which builds and sends them in batches over SMTP to a local sink in this process
(aiosmtpd). Timed: from planning the week's deliveries until the database says every one is ``sent`` —
planning, publishing one task per batch, the workers building, rendering and sending, the sink receiving.
The worker is started (and ready) before the clock starts; the sink shares the machine's cores with it.

The broker is the one the settings name (``CELERY_BROKER_URL``): Redis in production, kombu's filesystem
broker when the bench runs without one. The bench plans and publishes the batches as beat's
``send_weekly_breach_digest`` does, but to a queue of this run's own, so no other worker takes them.
Checked, not just timed: every delivery sent once (one message per recipient, none twice), and the largest
HTML part under Gmail's clipping size.
"""

import datetime
import email
import email.policy
import heapq
import logging
import os
import subprocess  # nosec B404  # starts this virtualenv's celery worker, fixed argument list
import sys
import threading
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kpis.digest import plan_weekly_batches
from kpis.models import Breach, DigestDelivery
from kpis.periods import iso_week_label, parse_iso_week

from .processes import bench_port, database_url

ROOT = Path(settings.BASE_DIR)
WORKER_PROCESSES = 2  # this machine's cores: what one worker host gives the digest
READY_TIMEOUT = 60
SEND_TIMEOUT = 15 * 60
# Gmail clips an HTML part past 102 KB ("[Message clipped] View entire message"): stay clear of it.
HTML_LIMIT_BYTES = 100_000
LARGEST_KEPT = 20  # the largest messages (by raw size) kept to measure their HTML parts


def spread_detection_dates():
    """As if the hourly check had run all along: each breach detected 6 days after its period ended.

    Then ``VACUUM ANALYZE`` of the breach table, as autovacuum would before Monday (rewriting every row's
    ``detected_at`` leaves its index full of dead entries and its statistics wrong). Returns the ISO week
    in which last month's breaches were detected (the week the digest covers).
    """
    table = Breach._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET detected_at = (period_end + 6)::timestamp AT TIME ZONE 'UTC'"  # nosec B608  # SQL from model table names and fragments built in code; values are bound parameters
        )
        if connection.vendor == "postgresql":
            cursor.execute(f"VACUUM ANALYZE {table}")  # nosec B608  # a model's table name
    last_month_end = timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
    return iso_week_label(last_month_end + datetime.timedelta(days=6))


class Sink:
    """An aiosmtpd handler that counts what it receives and keeps only the largest messages."""

    def __init__(self):
        self.count = 0
        self.bytes = 0
        self.recipients = []
        self.connections = set()
        self.largest = []  # heap of (size, n, raw)
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        with self.lock:
            self.count += 1
            self.bytes += len(raw)
            self.recipients += envelope.rcpt_tos
            self.connections.add(session.peer)
            item = (len(raw), self.count, raw)
            if len(self.largest) < LARGEST_KEPT:
                heapq.heappush(self.largest, item)
            else:
                heapq.heappushpop(self.largest, item)
        return "250 Message accepted for delivery"

    def largest_parts(self):
        """(HTML bytes, text bytes, subject) of the largest HTML part among the largest messages received."""
        best = (0, 0, "")
        for _size, _n, raw in self.largest:
            message = email.message_from_bytes(raw, policy=email.policy.default)
            html = len(message.get_body(("html",)).get_content().encode())
            text = len(message.get_body(("plain",)).get_content().encode())
            best = max(best, (html, text, str(message["Subject"])))
        return best


def start_worker(queue, smtp_port, log_path, processes):
    env = {
        **os.environ,
        # The bench's settings even under the test suite's smoke run, whose settings keep e-mail in memory.
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "DEBUG": "False",
    }
    log = open(log_path, "w+")  # noqa: SIM115  (closed by stop_worker)
    worker = subprocess.Popen(  # nosec B603  # argv is the venv's celery with fixed options, no shell
        [str(Path(sys.executable).parent / "celery"), "-A", "config", "worker", "--pool", "prefork",
         "--concurrency", str(processes), "-Q", queue, "--without-gossip", "--without-mingle",
         "--without-heartbeat", "--loglevel", "INFO"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + READY_TIMEOUT
    while " ready." not in Path(log_path).read_text():
        if worker.poll() is not None or time.monotonic() > deadline:
            stop_worker(worker, log)
            raise RuntimeError(f"the Celery worker did not start:\n{Path(log_path).read_text()[-2000:]}")
        time.sleep(0.2)
    return worker, log


def cpu_seconds(pids):
    """User + system CPU seconds used so far by ``pids`` and their descendants (Linux ``/proc``)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, seen, todo = 0, set(), list(pids)
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            todo += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
    return total


def database_backends():
    """PIDs of the PostgreSQL backends connected to this database (the bench's own and the workers')."""
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        return [pid for (pid,) in cursor.fetchall()]


def stop_worker(worker, log):
    if worker.poll() is None:
        os.killpg(worker.pid, 15)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, 9)
            worker.wait()
    log.close()


def wait_until_sent(week, expected):
    deadline = time.monotonic() + SEND_TIMEOUT
    while True:
        done = DigestDelivery.objects.filter(week=week, status=DigestDelivery.Status.SENT).count()
        if done >= expected:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {done} of {expected} digests sent after {SEND_TIMEOUT} s")
        time.sleep(0.1)


def run_digest(week, processes=WORKER_PROCESSES, log_dir=None):
    from aiosmtpd.controller import Controller

    from kpis.tasks import send_breach_digest_batch

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command at INFO
    DigestDelivery.objects.filter(week=week).delete()
    queue = f"bench-digest-{uuid.uuid4().hex[:8]}"
    log_path = Path(log_dir or settings.DATA_DIR) / "bench-digest-worker.log"
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=bench_port(3), data_size_limit=0)
    controller.start()
    worker, log = start_worker(queue, controller.port, log_path, processes)
    try:
        backends_before = {pid: cpu_seconds([pid]) for pid in database_backends()}
        worker_before, cpu_before, load_before = cpu_seconds([worker.pid]), time.process_time(), os.getloadavg()[0]
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            batches = plan_weekly_batches(week)
            for batch in batches:
                send_breach_digest_batch.apply_async(args=[batch], queue=queue)
        planned = time.perf_counter() - started
        recipients = sum(len(batch) for batch in batches)
        wait_until_sent(week, recipients)
        seconds = time.perf_counter() - started
        worker_cpu = cpu_seconds([worker.pid]) - worker_before
        database_cpu = sum(cpu_seconds([pid]) - backends_before.get(pid, 0) for pid in database_backends())
        bench_cpu = time.process_time() - cpu_before  # this process: planning, then mostly the SMTP sink
        load = (load_before + os.getloadavg()[0]) / 2
    finally:
        stop_worker(worker, log)
        controller.stop()
    html, text, subject = sink.largest_parts()
    if html >= HTML_LIMIT_BYTES:
        raise AssertionError(f"the largest digest's HTML part is {html:,} bytes ({subject}); Gmail clips past 102 KB")
    if sink.count != recipients or len(set(sink.recipients)) != recipients:
        raise AssertionError(
            f"{recipients} digests planned, {sink.count} messages received for {len(set(sink.recipients))} recipients"
        )
    return {
        "seconds": round(seconds, 3),
        "planning_seconds": round(planned, 3),
        "planning_queries": len(queries),
        "worker_processes": processes,
        "broker": settings.CELERY_BROKER_URL.split(":", 1)[0],
        "batches": len(batches),
        "smtp_connections": len(sink.connections),
        # CPU seconds spent on the run by the worker's processes, PostgreSQL's backends and the bench process
        # (planning, the SMTP sink): what the run costs whatever else shares the cores.
        "cpu_seconds": {
            "worker": round(worker_cpu, 1),
            "postgresql": round(database_cpu, 1),
            "bench_and_sink": round(bench_cpu, 1),
        },
        "load_average": round(load, 1),  # the 1-minute load average around the run (2 cores)
        "largest_html_bytes": html,
        "largest_text_bytes": text,
        "largest_subject": subject,
        "mean_message_bytes": round(sink.bytes / max(sink.count, 1)),
        "week": week,
        "recipients": recipients,
        "emails": sink.count,
        "emails_per_second": round(sink.count / seconds, 1),
        "one_batch": profile_one_batch(week),
        "breaches_in_week": Breach.objects.detected_between(*parse_iso_week(week)).count(),
    }


def profile_one_batch(week):
    """Where a worker's time goes, measured in this process after the run: the queries that build one batch
    (the week's first ``BATCH_SIZE`` owners) and the CPU time per e-mail of building it, rendering both
    parts and writing the MIME message (what the SMTP connection is given)."""
    from kpis.digest import BATCH_SIZE, build_digests, digest_recipients
    from kpis.emails import breach_digest_message

    recipients = [(user, False) for user, everything in digest_recipients(week).items() if not everything]
    recipients = recipients[:BATCH_SIZE]
    if not recipients:
        return {}
    with CaptureQueriesContext(connection) as queries:
        cpu = time.process_time()
        digests = [digest for digest in build_digests(recipients, week).values() if digest is not None]
        built = time.process_time()
    messages = [breach_digest_message(digest) for digest in digests]
    rendered = time.process_time()
    for message in messages:
        message.message().as_bytes()
    written = time.process_time()
    per_email = 1000 / max(len(digests), 1)
    return {
        "emails": len(digests),
        "build_queries": len(queries),
        "build_ms_per_email": round((built - cpu) * per_email, 2),
        "render_ms_per_email": round((rendered - built) * per_email, 2),
        "mime_ms_per_email": round((written - rendered) * per_email, 2),
    }
