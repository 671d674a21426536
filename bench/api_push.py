"""Bench step ``api_push``: a vendor's integration pushes 100,000 KPI figures through the live API.

A vendor of its own ("API push bench vendor": 28 contracts with 5 daily SLAs each, two years of days)
is created with 40 % of the figures already on record: half of those are pushed again unchanged, half
corrected; the other 60 % are new periods; about 15 % of the pushed figures miss their SLA. A vendor
key pushes them to ``POST /api/v1/measurements/`` on gunicorn (2 workers, as the load step) in batches
of 10,000, one request after the other as an integration would (``BENCH_API_PUSH_CLIENTS=2``: two at a
time). Reported: figures/s over the whole push, each request's time, and the time from the last
response until the breaches of the pushed figures are recorded, by a real Celery worker (``--pool
solo``, the project's broker) running the queued checks while the push goes on
(``BENCH_API_PUSH_CHECKS=sweep``: no worker, the pending-check sweep runs once after the push). Then
the first batch is pushed again: it must change nothing. Everything the step created is deleted at the
end (and left-overs of an interrupted run at the start).
"""

import datetime
import http.client
import json
import os
import random
import subprocess  # nosec B404  # this virtualenv's celery, fixed argument list
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from api.models import ApiKey
from contracts.models import Contract
from kpis.breaches import detect_breaches
from kpis.choices import BreachKind, BreachStatus, Direction
from kpis.models import KPI, SLA, Breach, Measurement, PendingCheck
from kpis.pending import run_pending_checks
from vendors.models import Vendor

from .load import start_gunicorn, stop_process
from .processes import bench_port
from .scale_data import LEVELS, write_rows

VENDOR_NAME = "API push bench vendor"
REFERENCE_PREFIX = "APIPUSH-"
KPI_CODES = ["service_level", "average_speed_of_answer", "abandonment_rate", "csat", "quality_score"]
DAYS = 730
URL = "/api/v1/measurements/"
REQUEST_TIMEOUT = 120
BREACH_WAIT_SECONDS = 300
CHECKS_RUN_BY = {
    "worker": "a Celery worker (--pool solo) on the project's broker, while the push goes on",
    "sweep": "the pending-check sweep (kpis.pending.run_pending_checks) run once after the push, no worker",
}


def scale_for(preset):
    """(figures, batch size, contracts): the full push at small and large, a few at the smoke sizes."""
    if preset in ("small", "large", "xl"):
        return 100_000, 10_000, 28
    return 2_000, 500, 2


# --- the vendor, its contracts and SLAs, the figures already on record -------------------------------
def remove_bench_vendor():
    """Delete what an earlier run created: its figures, breaches and their history rows set-based (a
    hundred thousand rows through the ORM would each get a "deleted" history row), the rest by SQL too
    so no signal queues checks for contracts that are going."""
    vendor_ids = list(Vendor.objects.filter(name=VENDOR_NAME).values_list("pk", flat=True))
    if not vendor_ids:
        return
    contracts = f"SELECT id FROM {Contract._meta.db_table} WHERE vendor_id = ANY(%s)"  # nosec B608  # table names from models
    slas = f"SELECT id FROM {SLA._meta.db_table} WHERE contract_id IN ({contracts})"  # nosec B608
    with transaction.atomic():
        _delete_tree(Vendor, "id = ANY(%s)", [vendor_ids], seen=set())
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {PendingCheck._meta.db_table} WHERE contract_id IN ({contracts}) "  # nosec B608
                f"OR sla_id IN ({slas})",
                [vendor_ids, vendor_ids],
            )


def _delete_tree(model, where, params, seen):
    """``DELETE`` the rows of ``model`` matching ``where`` after every row that points at them (children
    first, history rows included), in plain SQL."""
    table = model._meta.db_table
    selected = f"SELECT id FROM {table} WHERE {where}"  # nosec B608  # table and column names from models
    for relation in model._meta.related_objects:
        child = relation.related_model
        if relation.many_to_many:
            through = relation.through._meta
            column = next(f.column for f in through.fields if f.related_model is model)
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {through.db_table} WHERE {column} IN ({selected})", params)  # nosec B608
            continue
        if (child, relation.field.column) in seen:
            continue
        _delete_tree(child, f"{relation.field.column} IN ({selected})", params, seen | {(child, relation.field.column)})
    with connection.cursor() as cursor:
        history = getattr(model, "history", None)
        if history is not None:
            cursor.execute(f"DELETE FROM {history.model._meta.db_table} WHERE id IN ({selected})", params)  # nosec B608
        cursor.execute(f"DELETE FROM {table} WHERE {where}", params)  # nosec B608


def create_bench_vendor(contracts, today, seed=2026):
    """The vendor, its contracts and daily SLAs, and the figures already on record (COPY, checked once
    here so the breaches of what was already there are recorded before the push). Returns the figures
    to push, ``[{contract, kpi, period_start, value}]`` in day order as an integration sends them, and
    those on record, ``{(contract, kpi, period_start): value}``."""
    rng = random.Random(seed)  # nosec B311  # bench data, not a secret
    owner = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    if owner is None:
        owner = get_user_model().objects.create_superuser("bench_admin", "bench@example.com", "bench-admin")
    kpis = {k.code: k for k in KPI.objects.filter(code__in=KPI_CODES)}
    start = today - datetime.timedelta(days=DAYS)
    now = timezone.now()
    with transaction.atomic():
        vendor = Vendor.objects.create(name=VENDOR_NAME, country="PH", status="active")
        contract_rows = []
        for n in range(contracts):
            contract_rows.append(
                Contract(
                    vendor=vendor,
                    reference=f"{REFERENCE_PREFIX}{n + 1:03d}",
                    title=f"API push bench contract {n + 1}",
                    owner=owner,
                    engagement_model="bpo",
                    service_type="front_office",
                    start_date=start,
                    end_date=today + datetime.timedelta(days=365),
                    notice_days=60,
                    notice_deadline=today + datetime.timedelta(days=305),
                    currency="USD",
                    monthly_fee=Decimal(100_000),
                    at_risk_percent=Decimal(10),
                    contracted_headcount=20,
                    created_at=now,
                    updated_at=now,
                )
            )
        # bulk_create: no signals, so no checks are queued for the set-up itself.
        created = Contract.objects.bulk_create(contract_rows)
        slas = SLA.objects.bulk_create(
            SLA(
                contract=contract,
                kpi=kpis[code],
                expected=Decimal(LEVELS[code][0]),
                minimum=Decimal(LEVELS[code][1]),
                frequency="daily",
                credit_allocation_percent=Decimal(20),
                effective_from=start,
            )
            for contract in created
            for code in KPI_CODES
        )
        figures, on_record = [], []
        for offset in range(DAYS):
            day = start + datetime.timedelta(days=offset)
            for sla in slas:
                value = _figure_value(rng, sla, kpis)
                roll = rng.random()
                if roll < 0.4:  # on record already: the same value (0–0.2) or another one (a correction)
                    old = value if roll < 0.2 else _figure_value(rng, sla, kpis, avoid=value)
                    on_record.append((sla, day, old))
                figures.append(
                    {"contract": sla.contract.reference, "kpi": sla.kpi.code, "period_start": day, "value": value}
                )
        write_rows(
            Measurement,
            (
                {
                    "sla_id": sla_id,
                    "period_start": day,
                    "period_end": day,
                    "value": value,
                    "source": "import",
                    "recorded_by_id": None,
                    "recorded_at": now,
                    "updated_at": now,
                    "note": "",
                }
                for sla_id, day, value in ((sla.pk, day, value) for sla, day, value in on_record)
            ),
            {"sla_id", "period_start", "period_end", "value", "source", "recorded_by_id", "recorded_at", "updated_at"},
        )
        detect_breaches(sla_ids=[sla.pk for sla in slas], today=today)
    for figure in figures:
        figure["period_start"] = figure["period_start"].isoformat()
        figure["value"] = str(figure["value"])
    on_record = {(sla.contract.reference, sla.kpi.code, day.isoformat()): value for sla, day, value in on_record}
    return vendor, slas, figures, on_record


def _figure_value(rng, sla, kpis, avoid=None):
    """About 85 % meet the SLA, 10 % miss it (minor), 5 % fall below its minimum (major)."""
    higher = sla.kpi.direction == Direction.HIGHER_IS_BETTER
    spread = float(abs(sla.expected - sla.minimum)) or 1.0
    while True:
        roll = rng.random()
        if roll < 0.85:
            delta = rng.uniform(0, spread)
        elif roll < 0.95:
            delta = -rng.uniform(0.01, spread - 0.01)
        else:
            delta = -spread - rng.uniform(0.01, spread)
        value = float(sla.expected) + (delta if higher else -delta)
        value = Decimal(f"{min(max(value, 0), 100):.2f}")
        if value != avoid:
            return value


def expected_breaches(slas, pushed, on_record):
    """How many figures miss their SLA's expected level once ``pushed`` is recorded over ``on_record``:
    each must end as a performance breach (rule 1)."""
    by_key = {(sla.contract.reference, sla.kpi.code): sla for sla in slas}
    values = dict(on_record)
    values.update({(f["contract"], f["kpi"], f["period_start"]): Decimal(f["value"]) for f in pushed})
    count = 0
    for (reference, code, _day), value in values.items():
        sla = by_key[(reference, code)]
        met = value >= sla.expected if sla.kpi.direction == Direction.HIGHER_IS_BETTER else value <= sla.expected
        count += not met
    return count


# --- the worker ----------------------------------------------------------------------------------
def start_worker(env, log_path):
    log = open(log_path, "w")  # noqa: SIM115  (closed in stop_process)
    process = subprocess.Popen(  # nosec B603  # this virtualenv's celery, fixed options
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "INFO",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    process.log = log
    return process


# --- the push --------------------------------------------------------------------------------------
def post(port, key, body):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        conn.request(
            "POST", URL, body=body, headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def push_all(port, key, bodies, clients):
    """POST every body, ``clients`` at a time (each client one request after the other); returns
    ``[(seconds, answer)]`` in body order. Any answer but 200 fails the step."""

    def push(body):
        sent = time.perf_counter()
        status, answer = post(port, key, body)
        if status != 200:
            raise RuntimeError(f"push answered HTTP {status}: {str(answer)[:500]}")
        return round(time.perf_counter() - sent, 3), answer

    with ThreadPoolExecutor(max_workers=clients) as pool:
        return list(pool.map(push, bodies))


def performance_breaches(slas):
    return Breach.objects.filter(sla__in=slas, kind=BreachKind.PERFORMANCE).exclude(status=BreachStatus.WITHDRAWN)


def bench_api_push(database_url, preset, port=None, log_dir=None, checks=None, clients=None):
    total, batch_size, contracts = scale_for(preset)
    today = timezone.localdate()
    work = Path(log_dir or settings.DATA_DIR) / "api_push"
    work.mkdir(parents=True, exist_ok=True)
    remove_bench_vendor()
    vendor, slas, figures, on_record = create_bench_vendor(contracts, today)
    figures = figures[:total]
    expected = expected_breaches(slas, figures, on_record)
    _key, raw_key = ApiKey.create_key(name="bench: API push", vendor=vendor)
    bodies = [json.dumps(figures[i : i + batch_size]).encode() for i in range(0, len(figures), batch_size)]

    # The server and the worker share a broker of their own (a filesystem queue under this step's
    # folder, unless the settings name a broker server), so no other run's worker takes these checks.
    env = {**os.environ, "DATABASE_URL": database_url, "DATA_DIR": str(work), "API_THROTTLE_RATE": "10000/min"}
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    port = port or bench_port()
    checks = checks or os.environ.get("BENCH_API_PUSH_CHECKS", "worker")
    worker = start_worker(env, work / "worker.log") if checks == "worker" else None
    server = start_gunicorn(port, database_url, work / "gunicorn.log", env=env)
    clients = clients or int(os.environ.get("BENCH_API_PUSH_CLIENTS", 1))
    load_before = os.getloadavg()[0]
    try:
        started = time.perf_counter()
        answers = push_all(port, raw_key, bodies, clients)
        pushed = time.perf_counter()
        counts = {name: sum(answer[name] for _, answer in answers) for name in ("created", "corrected", "unchanged")}
        requests = [seconds for seconds, _ in answers]
        seconds = pushed - started
        if worker is None:
            run_pending_checks()  # what the every-minute sweep runs, here at once
        recorded, found = _wait_for_breaches(slas, expected, worker)
        after_push = time.perf_counter() - pushed
        sent = time.perf_counter()
        status, again = post(port, raw_key, bodies[0])
        repeat_seconds = time.perf_counter() - sent
    finally:
        stop_process(server)
        if worker is not None:
            stop_process(worker)
    figures_result = {
        "figures": len(figures),
        "batch_size": batch_size,
        "requests": len(bodies),
        "seconds": round(seconds, 3),
        "figures_per_second": round(len(figures) / seconds),
        "request_seconds": requests,
        "counts": counts,
        "checks_run_by": CHECKS_RUN_BY[checks],
        "breaches_expected": expected,
        "breaches_found": found,
        "breaches_recorded_seconds_after_push": round(after_push, 3) if recorded else None,
        "repeat_first_batch": {"status": status, "answer": again, "seconds": round(repeat_seconds, 3)},
        "workers": 2,
        "clients": clients,
        # The machine is shared: what else ran shows in the load average (2 cores: 2.0 is both busy).
        "load_average_before": round(load_before, 1),
        "load_average_after": round(os.getloadavg()[0], 1),
    }
    errors = []
    if not recorded:
        errors.append(f"breaches not all recorded within {BREACH_WAIT_SECONDS} s ({found} of {expected})")
    if again != {"created": 0, "corrected": 0, "unchanged": batch_size}:
        errors.append(f"pushing the first batch again changed something: {again}")
    remove_bench_vendor()
    if errors:
        figures_result["error"] = "; ".join(errors)
    return figures_result


def _wait_for_breaches(slas, expected, worker):
    """Poll until the queued checks are done (no pending rows left for these SLAs) and the breaches of
    the pushed figures are there; ``(done, breaches found)``."""
    sla_ids = [sla.pk for sla in slas]
    deadline = time.monotonic() + BREACH_WAIT_SECONDS
    found = 0
    while time.monotonic() < deadline:
        if worker is not None and worker.poll() is not None:
            raise RuntimeError(f"the Celery worker stopped: {Path(worker.log.name).read_text()[-2000:]}")
        pending = PendingCheck.objects.filter(sla_id__in=sla_ids).exists()
        found = performance_breaches(slas).count()
        if not pending and found == expected:
            return True, found
        time.sleep(0.05)
    return False, found
