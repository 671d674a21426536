"""Demo governance data: RACI charts, individual figures, corrective actions (idempotent).

Called from the demo seeding (``demo.data``): ``load_governance_demo`` with the rosters and figures,
``open_demo_actions`` once the breaches have been detected and dated.
"""

import random

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q

from contracts.models import Contract
from kpis import periods
from kpis.choices import BreachKind, BreachStatus, Severity
from kpis.models import Breach

from . import raci, scorecards
from .choices import ActionStatus, OwnerSide, StaffFigureSource
from .models import CorrectiveAction, RaciEntry, StaffMeasurement

INDIVIDUAL_MONTHS = 6
CONTRACTS_WITH_SCORECARDS = 4


def load_governance_demo(today, references):
    created = {"RACI entries": 0, "individual figures": 0}
    contracts = list(Contract.objects.filter(reference__in=references).order_by("reference"))
    with transaction.atomic():
        have_raci = set(RaciEntry.objects.filter(contract__in=contracts).values_list("contract_id", flat=True))
        entries = [e for c in contracts if c.pk not in have_raci for e in raci.template_entries(c)]
        RaciEntry.objects.bulk_create(entries)
        created["RACI entries"] = len(entries)
        created["individual figures"] = _individual_figures(contracts[:CONTRACTS_WITH_SCORECARDS], today)
    return created


def _individual_figures(contracts, today):
    rng = random.Random(20261)  # nosec B311  # demo data, not security
    rows = []
    for contract in contracts:
        slas = [s for s in scorecards.contract_slas(contract).values() if s.frequency == "monthly"][:3]
        if not slas:
            continue
        done = set(
            StaffMeasurement.objects.filter(staff_member__contract=contract).values_list(
                "staff_member_id", "kpi_id", "period_start"
            )
        )
        staff = list(contract.staff.all())
        start = periods.previous_period_start("monthly", today)
        for _ in range(INDIVIDUAL_MONTHS):
            end = periods.period_end("monthly", start)
            for member in staff:
                if not scorecards.on_roster(member, start, end):
                    continue
                skill = (member.pk * 7919 % 100) / 100  # stable per person: some strong, some weak
                for sla in slas:
                    if (member.pk, sla.kpi_id, start) in done or scorecards.recording.figure_period_error(
                        sla, start, today
                    ):
                        continue
                    rows.append(
                        StaffMeasurement(
                            staff_member=member,
                            kpi=sla.kpi,
                            period_start=start,
                            period_end=end,
                            value=_value(rng, sla, skill),
                            source=StaffFigureSource.IMPORT,
                        )
                    )
            start = periods.previous_period_start("monthly", start)
    StaffMeasurement.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def _value(rng, sla, skill):
    from decimal import Decimal

    expected, minimum = float(sla.expected), float(sla.minimum)
    spread = abs(expected - minimum) or max(abs(expected) * 0.05, 1)
    # skill 1 → well above expected; 0 → below the minimum (direction-aware)
    offset = (skill - 0.35) * 2.5 * spread + rng.uniform(-0.6, 0.6) * spread
    value = expected + offset if sla.kpi.higher_is_better else expected - offset
    if sla.kpi.unit == "percent":
        value = min(100.0, value)
    return Decimal(str(round(max(0.0, value), 2)))


ACTIONS = [
    (
        "Retrain the evening shift on the call flow",
        "New hires on the evening shift skipped the refresher.",
        "Two refresher sessions and side-by-side coaching for agents under target.",
        OwnerSide.VENDOR,
        "Team lead",
    ),
    (
        "Add two agents to the Monday peak",
        "Forecast under-staffed the Monday peak after a campaign.",
        "Re-forecast with campaign data; add two agents 08:00–12:00 on Mondays.",
        OwnerSide.VENDOR,
        "Workforce planner",
    ),
    (
        "Send the monthly report on day 3",
        "The KPI report waited on the client's export.",
        "Client schedules the export for day 1; vendor reports by day 3.",
        OwnerSide.CLIENT,
        "Operations lead",
    ),
]


def open_demo_actions(today, references):
    """A few corrective actions on the demo contracts' major breaches, in every state (once)."""
    contracts = list(Contract.objects.filter(reference__in=references).select_related("owner").order_by("reference"))
    if CorrectiveAction.objects.filter(contract__in=contracts).exists():
        return
    users = {u.username: u for u in get_user_model().objects.filter(username__in=["admin", "manager", "priya"])}
    states = [ActionStatus.VERIFIED, ActionStatus.DONE, ActionStatus.IN_PROGRESS, ActionStatus.OPEN]
    n = 0
    with transaction.atomic():
        for contract in contracts[:8]:
            breaches = list(
                Breach.objects.filter(contract=contract, severity=Severity.MAJOR)
                .filter(Q(kind=BreachKind.PERFORMANCE) | Q(kind=BreachKind.MISSING_REPORT))
                .exclude(status=BreachStatus.WITHDRAWN)
                .select_related("sla")
                .order_by("-period_end")[:6]
            )
            if len(breaches) < 2:
                continue
            title, cause, action, side, owner = ACTIONS[n % len(ACTIONS)]
            status = states[n % len(states)]
            opened = breaches[-1].period_end + periods.ONE_DAY * 7
            item = CorrectiveAction(
                contract=contract,
                title=title,
                root_cause=cause,
                action=action,
                owner_side=side,
                owner_name=owner,
                opened_by=contract.owner,
                opened_on=opened,
                # the open ones are still within their time, the others late by now: both show on the dashboard
                due_on=opened + periods.ONE_DAY * 30 if status != ActionStatus.OPEN else today + periods.ONE_DAY * 20,
                status=status,
            )
            verifier = users.get("admin") if contract.owner and contract.owner.username != "admin" else None
            if status in (ActionStatus.DONE, ActionStatus.VERIFIED):
                item.done_by, item.done_on = contract.owner, opened + periods.ONE_DAY * 20
                item.closed_on = item.done_on
            if status == ActionStatus.VERIFIED and verifier is not None:
                item.verified_by, item.verified_on = verifier, opened + periods.ONE_DAY * 25
            elif status == ActionStatus.VERIFIED:
                item.status = ActionStatus.DONE
            item.save()
            item.breaches.set(breaches[-2:])
            if item.status == ActionStatus.VERIFIED:
                from .actions import watch_until

                item.watch_until = watch_until(item, item.verified_on)
                item.save(update_fields=["watch_until"])
            n += 1
