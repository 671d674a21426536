"""Steps measured through a real Celery worker (``bench.processes.Worker``) on the bench database.

* ``corrected_figure``: a manager's corrected figure, from the save to the breach the worker records.
* ``cold_check_worker``: the hourly task (``kpis.tasks.detect_breaches``: the whole check, then the report
  summaries it triggers) run cold by the worker, and the peak memory of the process that ran it — the
  worker's pool process — with the PostgreSQL backends' private memory sampled beside it (the sets are
  built there, not in Python).
"""

import threading

from django.conf import settings
from django.db import connection, connections

from bench import processes
from bench.runner import _database_url, clear_breaches, run_step_in_child, table_counts
from kpis.models import Breach


def corrected_figure(count=5):
    broker = processes.broker_url()
    log = settings.DATA_DIR / "bench-worker-corrections.log"
    worker = processes.Worker(_database_url(), broker, log)
    try:
        figures = run_step_in_child(
            "correct_figures", "--queue", worker.queue, "--worker-log", log, "--count", count,
            env={"CELERY_BROKER_URL": broker},
        )  # fmt: skip
    finally:
        worker.stop()
    return {**figures, "broker": broker.split("://")[0]}


class BackendMemory(threading.Thread):
    """Samples the private memory (``RssAnon``) of this database's PostgreSQL backends and parallel
    workers every ``interval`` seconds; ``peak_mb``: the highest sum seen."""

    def __init__(self, interval=0.25):
        super().__init__(daemon=True)
        self.interval, self.peak_kb, self.stopping = interval, 0, threading.Event()

    def run(self):
        try:
            with connections["default"].cursor() as cursor:
                while not self.stopping.wait(self.interval):
                    cursor.execute(
                        "SELECT pid FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                    pids = [pid for (pid,) in cursor.fetchall()]
                    self.peak_kb = max(self.peak_kb, sum(processes.memory_kb(pid, "RssAnon") or 0 for pid in pids))
        finally:
            connections["default"].close()

    def stop(self):
        self.stopping.set()
        self.join(timeout=10)
        return processes.mb(self.peak_kb)


def cold_check_worker(timeout=15 * 60):
    clear_breaches()
    counts = table_counts()
    worker = processes.Worker(_database_url(), processes.broker_url(), settings.DATA_DIR / "bench-worker-cold.log")
    try:
        pool = worker.pool_pids()
        before = {pid: processes.memory_kb(pid) for pid in pool}
        backends = BackendMemory()
        backends.start()
        task_id = worker.send("kpis.tasks.detect_breaches")
        seconds = worker.wait_for_task(task_id, timeout)
        backend_peak = backends.stop()
        peaks = {pid: processes.memory_kb(pid, "VmHWM") for pid in pool}
        main_peak = processes.memory_kb(worker.process.pid, "VmHWM")
    finally:
        worker.stop()
    connection.close()
    return {
        "seconds": round(seconds, 3),
        "measurements": counts["measurements"],
        "breaches_written": Breach.objects.count(),
        "pool_processes": len(pool),
        "peak_rss_mb": processes.mb(max(peaks.values(), default=None)),
        "rss_before_mb": processes.mb(max(before.values(), default=None)),
        "main_process_peak_rss_mb": processes.mb(main_peak),
        "postgresql_backends_peak_private_mb": backend_peak,
    }
