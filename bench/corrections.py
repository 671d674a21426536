"""One corrected figure, from the manager's save to the breach recorded by a real Celery worker.

Run in a process of its own (``bench_step correct_figures``) whose broker is the worker's: the save is the
KPI entry page's (``KPIEntryForm.save``: the model's ``save()`` in a transaction; its signal writes the
outbox row, and the commit publishes ``run_pending_checks``), then this process polls the breach table
until the worker's check has committed the breach. The figure is then corrected back and the withdrawal
timed the same way, so the data set ends as it began.
"""

import statistics
import time
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from kpis import pending
from kpis.choices import BreachKind, BreachStatus, Direction, MeasurementSource
from kpis.models import Breach, Measurement

POLL_SECONDS = 0.002
TIMEOUT_SECONDS = 60


def figures_to_correct(count):
    """Figures of last month that meet their SLA (no breach recorded), one per contract, spread over the
    data set: each will be corrected to a major breach and back."""
    today = timezone.localdate()
    last_month = (today.replace(day=1) - timezone.timedelta(days=1)).replace(day=1)
    met = (
        Measurement.objects.filter(sla__frequency="monthly", period_start=last_month, sla__active=True)
        .filter(value__gte=F("sla__expected"), sla__kpi__direction=Direction.HIGHER_IS_BETTER)
        .filter(~Exists(Breach.objects.filter(measurement_id=OuterRef("pk"))))  # an anti-join, not NOT IN
        .order_by("pk")
    )
    candidates = list(met.values_list("pk", "sla__contract_id"))
    step = max(1, len(candidates) // max(count, 1))
    picked, contracts = [], set()
    for pk, contract_id in candidates[::step]:
        if contract_id not in contracts:
            picked.append(pk)
            contracts.add(contract_id)
        if len(picked) == count:
            break
    return list(Measurement.objects.filter(pk__in=picked).select_related("sla").order_by("pk"))


def save_as_a_manager(figure, value, manager):
    """What ``KPIEntryForm.save`` does for a corrected figure, in the page's transaction."""
    with transaction.atomic():
        figure.value = value
        figure.source, figure.recorded_by, figure.recorded_at = MeasurementSource.MANUAL, manager, timezone.now()
        figure.save()


def wait_until(predicate):
    deadline = time.perf_counter() + TIMEOUT_SECONDS
    while time.perf_counter() < deadline:
        if predicate():
            return time.perf_counter()
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"the worker did not record the change within {TIMEOUT_SECONDS} s")


def timed_correction(figure, value, manager, holds):
    """Seconds from the save to the committed breach (``holds``: recorded; else withdrawn)."""
    breach = Breach.objects.filter(sla_id=figure.sla_id, period_start=figure.period_start, kind=BreachKind.PERFORMANCE)
    if holds:
        done = breach.filter(actual=value).exclude(status=BreachStatus.WITHDRAWN).exists
    else:
        done = breach.filter(status=BreachStatus.WITHDRAWN).exists
    started = time.perf_counter()
    save_as_a_manager(figure, value, manager)
    published = pending._last_publish.queued
    finished = wait_until(done)
    return finished - started, published


def correct_figures(count, wait_for_worker_idle):
    """``count`` figures (and one not counted first: the worker's first task warms its connection), each
    corrected to a major breach and back. ``wait_for_worker_idle(n)`` returns once the worker has finished
    ``n`` tasks (the summaries it rebuilds after each check run after the breach is recorded)."""
    manager = get_user_model().objects.filter(is_superuser=True).first() or get_user_model().objects.first()
    figures = figures_to_correct(count + 1)
    recorded, withdrawn, published = [], [], []
    tasks = 0
    for n, figure in enumerate(figures):
        original = figure.value
        major = max(Decimal("0"), figure.sla.minimum - 1)
        seconds, queued = timed_correction(figure, major, manager, holds=True)
        tasks += 1
        wait_for_worker_idle(tasks)
        back, _ = timed_correction(figure, original, manager, holds=False)
        tasks += 1
        wait_for_worker_idle(tasks)
        if n:  # the first one warms the worker up
            recorded.append(seconds)
            withdrawn.append(back)
            published.append(queued)
    if not recorded:
        raise RuntimeError("no figure that meets its SLA was found to correct")
    return {
        "figures": len(recorded),
        "published_through_broker": all(published),
        "recorded_ms": [round(s * 1000, 1) for s in recorded],
        "median_ms": round(statistics.median(recorded) * 1000, 1),
        "max_ms": round(max(recorded) * 1000, 1),
        "withdrawn_median_ms": round(statistics.median(withdrawn) * 1000, 1),
    }
