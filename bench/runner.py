"""Benchmark steps. Each returns a dict of figures; ``run_bench`` writes them to JSON and RESULTS.md.

Run through ``bash bench/run.sh [tiny|small|large]`` (a fresh PostgreSQL database per preset), never from
the test suite: the suite runs only a tiny smoke of these functions.
"""

import datetime
import gc
import json
import os
import random
import statistics
import subprocess  # nosec B404  # runs only this project's own commands (manage.py, gunicorn, wrk), fixed argument lists
import sys
import time
from pathlib import Path

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import connection, reset_queries, transaction
from django.db.models import Count, Max
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from kpis.models import SLA, Breach, Measurement
from vendors.models import Vendor

from .load import session_cookie, start_gunicorn, stop_process
from .processes import database_url as _database_url

ROOT = Path(settings.BASE_DIR)


def _python():
    return str(Path(sys.executable))


def run_step_in_child(step, *args, env=None):
    """Run ``manage.py bench_step <step>`` in a fresh process: wall time and the child's own peak RSS.
    ``env``: more environment for it (a broker)."""
    # the database this process uses (tests: test_…)
    env = {**os.environ, "DATABASE_URL": _database_url(), **(env or {})}
    out = subprocess.run(  # nosec B603  # argv is [python, manage.py, a fixed step name, its numeric/ path arguments], no shell
        [_python(), "manage.py", "bench_step", step, *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    if out.returncode:
        raise RuntimeError(f"bench_step {step} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def table_counts():
    return {
        "vendors": Vendor.objects.count(),
        "slas": SLA.objects.count(),
        "measurements": Measurement.objects.count(),
        "breaches": Breach.objects.count(),
    }


def clear_breaches(sla_ids=None):
    """Reset for a cold run: TRUNCATE (no breaches yet, no dead rows left behind) or one DELETE for some
    SLAs — never the ORM's delete(), which loads every breach to write its history row first."""
    with connection.cursor() as cursor:
        if sla_ids is None:
            # CASCADE: also empties the tables that reference breaches (corrective actions' breach links)
            # A first run finds no history either.
            cursor.execute(f"TRUNCATE {Breach._meta.db_table}, {Breach.history.model._meta.db_table} CASCADE")
        else:
            cursor.execute(f"DELETE FROM {Breach._meta.db_table} WHERE sla_id = ANY(%s)", [list(sla_ids)])  # nosec B608  # SQL from model table names and fragments built in code; values are bound parameters


# --- 1. detect_breaches, cold and incremental ---------------------------------------------
def detect_cold():
    clear_breaches()
    counts = table_counts()
    figures = run_step_in_child("detect")
    figures["measurements"] = counts["measurements"]
    figures["measurements_per_second"] = round(counts["measurements"] / figures["seconds"])
    figures["breaches_written"] = Breach.objects.count()
    return figures


def change_one_percent(seed=7):
    """Change 1 % of the figures (value and updated_at), as a correction wave would. Returns the
    ``[sla_id, period_start]`` of each, as the import would queue them for a check."""
    max_id = Measurement.objects.aggregate(m=Max("pk"))["m"] or 0
    n = max(1, Measurement.objects.count() // 100)
    rng = random.Random(seed)  # nosec B311  # picks which figures the benchmark changes, not a secret
    ids = rng.sample(range(1, max_id + 1), min(n, max_id))
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE kpis_measurement SET value = CASE WHEN value > 1 THEN value - 1 ELSE value + 1 END, "
            "updated_at = %s WHERE id = ANY(%s)",
            [timezone.now(), ids],
        )
    return sorted(
        [sla_id, start.isoformat()]
        for sla_id, start in Measurement.objects.filter(pk__in=ids).values_list("sla_id", "period_start")
    )


def detect_incremental():
    changed = change_one_percent()
    path = settings.DATA_DIR / "bench_figures.json"
    Path(path).write_text(json.dumps(changed))
    figures = run_step_in_child("detect", "--figures-file", path)
    figures["figures_changed"] = len(changed)
    figures["slas_rechecked"] = len({sla_id for sla_id, _ in changed})
    # What a manager waits for after saving one figure: the check queued for it.
    Path(path).write_text(json.dumps(changed[:1]))
    one = run_step_in_child("detect", "--figures-file", path)
    figures["one_figure"] = {key: one[key] for key in ("seconds", "queries", "peak_rss_mb")}
    return figures


# --- 2. naive loop vs set-based on a 50,000-measurement slice --------------------------------
def slice_sla_ids(target=50_000):
    ids, total = [], 0
    for sla_id, n in Measurement.objects.values_list("sla_id").order_by("sla_id").annotate(n=Count("id")):
        ids.append(sla_id)
        total += n
        if total >= target:
            break
    return ids, total


def naive_vs_set_based(target=50_000):
    sla_ids, n = slice_sla_ids(target)
    path = settings.DATA_DIR / "bench_slice.json"
    Path(path).write_text(json.dumps(sla_ids))
    clear_breaches(sla_ids)
    naive = run_step_in_child("naive", "--sla-ids-file", path)
    clear_breaches(sla_ids)
    set_based = run_step_in_child("detect", "--sla-ids-file", path)
    return {
        "measurements": n,
        "naive_seconds": naive["seconds"],
        "set_based_seconds": set_based["seconds"],
        "speed_up": round(naive["seconds"] / set_based["seconds"], 1),
    }


# --- 3. the raw-SQL floor -------------------------------------------------------------------
FLOOR_SELECT = """
SELECT m.sla_id, s.contract_id, m.id AS measurement_id, m.period_start, m.period_end, s.expected, s.minimum,
       CASE WHEN (k.direction = 'higher_is_better' AND m.value >= s.minimum)
              OR (k.direction = 'lower_is_better' AND m.value <= s.minimum) THEN 'minor' ELSE 'major' END AS severity,
       m.value AS actual,
       CASE WHEN (k.direction = 'higher_is_better' AND m.value >= s.minimum)
              OR (k.direction = 'lower_is_better' AND m.value <= s.minimum) THEN 0
            ELSE round(c.monthly_fee * c.at_risk_percent / 100 * s.credit_allocation_percent / 100, 2) END AS credit
FROM kpis_measurement m
JOIN kpis_sla s ON s.id = m.sla_id
JOIN kpis_kpi k ON k.id = s.kpi_id
JOIN contracts_contract c ON c.id = s.contract_id
WHERE NOT ((k.direction = 'higher_is_better' AND m.value >= s.expected)
        OR (k.direction = 'lower_is_better' AND m.value <= s.expected))
"""


def raw_sql_floor():
    """One hand-written INSERT … SELECT of rule 1 (+ uncapped credit) over every figure, two ways:

    * into the breach table itself, committed, from empty — the rows our job must write, into the
      table it must write them to (its indexes and foreign-key checks): the floor the job is held to;
    * into a scratch table (unlogged, one index) — the cost of evaluating the rule alone.

    The breaches are then recomputed by the job, for the steps that follow.
    """
    from kpis.breaches import BREACH_COLUMNS, detect_breaches

    clear_breaches()
    with connection.cursor() as cursor:
        started = time.perf_counter()
        with transaction.atomic():
            cursor.execute(
                f"INSERT INTO kpis_breach ({BREACH_COLUMNS}) "  # nosec B608  # SQL from model table names and fragments built in code; values are bound parameters
                "SELECT 'performance', severity, contract_id, sla_id, measurement_id, NULL, period_start, period_end, "
                "expected, minimum, actual, credit, 0, now(), now(), 'open', '', '' FROM (" + FLOOR_SELECT + ") floor"
            )
            rows = cursor.rowcount
        into_breaches = {"seconds": round(time.perf_counter() - started, 3), "rows": rows}
        cursor.execute("DROP TABLE IF EXISTS bench_floor")
        cursor.execute(
            "CREATE UNLOGGED TABLE bench_floor (sla_id bigint, contract_id bigint, measurement_id bigint UNIQUE, "
            "period_start date, period_end date, expected numeric(14,2), minimum numeric(14,2), "
            "severity varchar(10), actual numeric(14,2), credit numeric(14,2))"
        )
        started = time.perf_counter()
        cursor.execute(
            "INSERT INTO bench_floor (sla_id, contract_id, measurement_id, period_start, period_end, expected, "
            "minimum, severity, actual, credit) " + FLOOR_SELECT
        )
        scratch = {"seconds": round(time.perf_counter() - started, 3), "rows": cursor.rowcount}
        cursor.execute("DROP TABLE bench_floor")
    clear_breaches()
    detect_breaches()
    return {**into_breaches, "scratch_table": scratch}


# --- 4. page latency and query counts ---------------------------------------------------------
def refresh_all_summaries():
    """What the hourly job does before anyone looks: rebuild the report summaries the pages read."""
    from reports.summaries import refresh_summaries

    result = refresh_summaries()
    rows = {key: result[key] for key in ("contract_months", "vendor_months", "slas")}
    return {"seconds": round(result["seconds"], 3), "rows": rows}


@override_settings(PAGE_CACHE=False)  # every request renders its page (the load step has the cache on)
def bench_pages(repeat=20):
    user = get_user_model().objects.filter(is_superuser=True).first()
    if user is None:
        user = get_user_model().objects.create_superuser("bench_admin", "bench@example.com", "bench-admin")
    client = Client(HTTP_HOST="localhost")  # a host every settings module allows
    client.force_login(user)
    vendor = Vendor.objects.order_by("pk").first()
    pages = {
        "dashboard": reverse("dashboard:home"),
        "vendor list": reverse("vendors:vendor_list"),
        "contract list (2 filters)": reverse("contracts:contract_list")
        + "?service_type=front_office&engagement_model=bpo",
        "breach list": reverse("kpis:breach_list"),
        "vendor detail": vendor.get_absolute_url(),
    }
    for model, _model_admin in admin.site._registry.items():
        opts = model._meta
        try:
            pages[f"admin {opts.app_label}.{opts.model_name}"] = reverse(
                f"admin:{opts.app_label}_{opts.model_name}_changelist"
            )
        except NoReverseMatch:
            continue
    pages.update(report_pages())
    clients = {name: client for name in pages}
    manager = get_user_model().objects.filter(groups__name="Managers", owned_contracts__isnull=False).first()
    if manager is not None:
        manager_client = Client(HTTP_HOST="localhost")
        manager_client.force_login(manager)
        pages = {"dashboard (a manager's own contracts)": "/", **pages}
        clients["dashboard (a manager's own contracts)"] = manager_client
    pages["dashboard (all contracts, admin)"] = pages.pop("dashboard")
    clients["dashboard (all contracts, admin)"] = client
    results = {}
    gc.freeze()  # as config/wsgi.py does once a web worker has loaded the app
    for name, url in pages.items():
        client = clients[name]
        client.get(url)  # warm caches and connections
        reset_queries()  # the request_started signal clears the log; start from an empty one
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        query_count = len(queries)  # now: the captured list is a live slice of a log later requests clear
        timings = []
        for _ in range(repeat):
            started = time.perf_counter()
            client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        results[name] = {
            "url": url,
            "status": response.status_code,
            "queries": query_count,
            "p50_ms": round(statistics.median(timings), 1),
            "p95_ms": round(timings[max(0, int(len(timings) * 0.95) - 1)], 1),
        }
        reset_queries()
    return results


def report_pages():
    try:
        from reports import urls as report_urls
    except ImportError:
        return {}
    pages = {}
    for pattern in report_urls.urlpatterns:
        name = getattr(pattern, "name", None)
        if not name or pattern.pattern.regex.groups:
            continue
        try:
            pages[f"report {name}"] = reverse(f"reports:{name}")
        except NoReverseMatch:
            continue
    return pages


# --- 5. weekly digest ------------------------------------------------------------------------
def bench_digest():
    from bench.digest import spread_detection_dates

    week = spread_detection_dates()
    return run_step_in_child("digest", "--week", week)


# --- 6. throughput under concurrent load -------------------------------------------------------
def bench_throughput(seconds=15, connections=8, port=None):
    import shutil

    port = port or int(os.environ.get("BENCH_PORT") or 8199)
    if shutil.which("wrk") is None:
        return {"skipped": "wrk is not installed (the load step measures the same with a Python client)"}
    port = port or int(os.environ.get("BENCH_PORT", 8199))
    user = get_user_model().objects.filter(is_superuser=True).first()
    cookie = session_cookie(user)
    server = start_gunicorn(port, _database_url(), Path(settings.DATA_DIR) / "bench-throughput-gunicorn.log")
    try:
        url = f"http://127.0.0.1:{port}/contracts/?service_type=front_office"
        out = subprocess.run(  # nosec B603 B607  # wrk from PATH with fixed options and our own loopback URL, no shell
            [
                "wrk",
                "-t2",
                f"-c{connections}",
                f"-d{seconds}s",
                "--latency",
                "-H",
                f"Cookie: {cookie}",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 30,
        )
        text = out.stdout
        figures = {"tool": "wrk", "connections": connections, "seconds": seconds, "raw": text}
        for line in text.splitlines():
            line = line.strip()
            if line.startswith("Requests/sec:"):
                figures["requests_per_second"] = float(line.split()[1])
            if line.startswith("50%"):
                figures["p50"] = line.split()[1]
            if line.startswith("99%"):
                figures["p99"] = line.split()[1]
            if "Non-2xx" in line:
                figures["non_2xx"] = int(line.split()[-1])
        return figures
    finally:
        stop_process(server)


def machine():
    return {
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "postgresql": connection.cursor().connection.info.server_version,
        "date": datetime.date.today().isoformat(),
    }
