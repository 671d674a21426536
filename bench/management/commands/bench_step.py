"""One benchmark step in its own process, so its wall time and peak RSS are its own. Prints one JSON line."""

import json
import re
import resource
import time
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import connection
from django.test.utils import CaptureQueriesContext


class Command(BaseCommand):
    help = "Internal: run one benchmark step (detect | naive | digest | correct_figures), print its figures as JSON."

    def add_arguments(self, parser):
        parser.add_argument("step", choices=["detect", "naive", "digest", "correct_figures"])
        parser.add_argument("--sla-ids-file")
        parser.add_argument("--figures-file", help="JSON [[sla_id, period_start], …]: figures that changed.")
        parser.add_argument("--week", help="ISO week for the digest step, e.g. 2026-W45.")
        parser.add_argument("--queue", help="correct_figures: the queue of the worker that runs the checks.")
        parser.add_argument("--worker-log", help="correct_figures: that worker's log (finished tasks).")
        parser.add_argument("--count", type=int, default=5, help="correct_figures: figures to correct.")

    def handle(self, *args, step, sla_ids_file, figures_file, week, **options):
        self.week = week
        self.options = options
        self.figures = json.loads(Path(figures_file).read_text()) if figures_file else None
        sla_ids = json.loads(Path(sla_ids_file).read_text()) if sla_ids_file else None
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            result = getattr(self, f"step_{step}")(sla_ids)
        seconds = time.perf_counter() - started
        figures = {
            "seconds": round(seconds, 3),
            "queries": len(queries),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "rss_before_mb": round(rss_before / 1024, 1),
            "result": result,
        }
        self.stdout.write(json.dumps(figures, default=str))

    def step_detect(self, sla_ids):
        from kpis.breaches import detect_breaches

        return detect_breaches(sla_ids=sla_ids, figures=self.figures)

    def step_naive(self, sla_ids):
        from bench.naive import naive_detect

        return naive_detect(sla_ids)

    def step_digest(self, sla_ids):
        from bench.digest import run_digest

        return run_digest(self.week)

    def step_correct_figures(self, sla_ids):
        from bench.corrections import correct_figures
        from config.celery import app

        queue, log = self.options["queue"], Path(self.options["worker_log"])
        app.conf.task_routes = {"kpis.tasks.run_pending_checks": {"queue": queue}}  # the bench worker's queue

        def wait_for_worker_idle(tasks, timeout=120):
            deadline = time.monotonic() + timeout
            while len(re.findall(r"run_pending_checks\[[^\]]+\] succeeded", log.read_text(errors="replace"))) < tasks:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the worker did not finish {tasks} checks in {timeout} s")
                time.sleep(0.01)

        return correct_figures(self.options["count"], wait_for_worker_idle)
