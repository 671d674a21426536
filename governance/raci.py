"""RACI charts: a contract's grid of activities × parties, its default by engagement model, saving it whole.

The default follows the seeds' distinction (DESIGN.md "Domain background"): under a plain BPO agreement the
vendor only finds replacement candidates and the client onboards, trains and manages the staff; under BPM
(and BPS, which counts like BPM) the vendor finds, trains and manages the replacement and owns the
transition, and under BPS also redesigns and automates the process.
"""

from dataclasses import dataclass, field

from django.db import transaction

from contracts.choices import EngagementModel

from .choices import OwnerSide, RaciAssignment
from .models import RaciEntry

CLIENT, VENDOR = OwnerSide.CLIENT.value, OwnerSide.VENDOR.value
PARTIES = (
    (CLIENT, "Vendor manager"),
    (CLIENT, "Operations lead"),
    (VENDOR, "Account manager"),
    (VENDOR, "Team lead"),
)
# activity → assignment per party, in PARTIES' order ("" = none)
_COMMON = [
    ("Report KPI figures", ("I", "I", "A", "R")),
    ("Review SLA performance and breaches", ("A", "C", "R", "I")),
    ("Agree and track corrective actions", ("A", "C", "R", "I")),
    ("Source replacement candidates", ("I", "C", "A", "R")),
]
_BPO = [
    ("Onboard and train replacements", ("C", "A", "I", "I")),
    ("Manage day-to-day staff performance", ("I", "A", "C", "R")),
    ("Keep individual scorecards", ("I", "A", "C", "R")),
    ("Manage the transition after a departure", ("C", "A", "I", "R")),
]
_BPM = [
    ("Onboard and train replacements", ("I", "C", "A", "R")),
    ("Manage day-to-day staff performance", ("I", "C", "A", "R")),
    ("Keep individual scorecards", ("I", "C", "A", "R")),
    ("Manage the transition after a departure", ("I", "C", "A", "R")),
]
_BPS_EXTRA = [("Redesign and automate the process", ("C", "C", "A", "R"))]


def default_template(engagement_model):
    """``(parties, [(activity, assignments)])`` for a contract of ``engagement_model``."""
    if engagement_model == EngagementModel.BPO:
        rows = _COMMON + _BPO
    elif engagement_model == EngagementModel.BPS:
        rows = _COMMON + _BPM + _BPS_EXTRA
    else:
        rows = _COMMON + _BPM
    return PARTIES, rows


def template_entries(contract):
    parties, rows = default_template(contract.engagement_model)
    return [
        RaciEntry(
            contract=contract,
            activity=activity,
            activity_order=a_index,
            side=side,
            party=party,
            party_order=p_index,
            assignment=letter,
        )
        for a_index, (activity, letters) in enumerate(rows)
        for p_index, ((side, party), letter) in enumerate(zip(parties, letters, strict=True))
        if letter
    ]


@dataclass
class Grid:
    """A contract's RACI chart as rows × columns (what the page and the XLSX export show)."""

    parties: list = field(default_factory=list)  # [(side, party)]
    activities: list = field(default_factory=list)  # [activity]
    cells: dict = field(default_factory=dict)  # (activity index, party index) → letter

    def rows(self):
        return [
            (activity, [self.cells.get((a, p), "") for p in range(len(self.parties))])
            for a, activity in enumerate(self.activities)
        ]


def grid_of(contract):
    """The saved chart of ``contract`` as a ``Grid`` (one query)."""
    grid = Grid()
    parties, activities = {}, {}
    entries = sorted(
        RaciEntry.objects.filter(contract=contract).values_list(
            "activity", "activity_order", "side", "party", "party_order", "assignment"
        ),
        key=lambda e: (e[1], e[0]),
    )
    for _activity, _order, side, party, _party_order, _letter in sorted(entries, key=lambda e: (e[4], e[2], e[3])):
        parties.setdefault((side, party), len(parties))
    for activity, *_ in entries:
        activities.setdefault(activity, len(activities))
    for activity, _, side, party, _, letter in entries:
        grid.cells[(activities[activity], parties[(side, party)])] = letter
    grid.parties = list(parties)
    grid.activities = list(activities)
    return grid


def accountability_errors(grid):
    """{activity index: message} for each activity without exactly one A."""
    errors = {}
    for a, activity in enumerate(grid.activities):
        accountable = [grid.parties[p][1] for p in range(len(grid.parties)) if grid.cells.get((a, p)) == "A"]
        if len(accountable) > 1:
            errors[a] = (
                f"“{activity}” has {len(accountable)} accountable parties ({', '.join(accountable)}): "
                "exactly one A per activity."
            )
        elif not accountable:
            errors[a] = f"No one is accountable for “{activity}”: mark exactly one party A."
    return errors


def save_grid(contract, grid):
    """Replace the contract's chart with ``grid`` (validated by the caller), in one transaction."""
    with transaction.atomic():
        RaciEntry.objects.filter(contract=contract).delete()
        RaciEntry.objects.bulk_create(
            [
                RaciEntry(
                    contract=contract,
                    activity=activity,
                    activity_order=a,
                    side=side,
                    party=party,
                    party_order=p,
                    assignment=grid.cells[(a, p)],
                )
                for a, activity in enumerate(grid.activities)
                for p, (side, party) in enumerate(grid.parties)
                if grid.cells.get((a, p))
            ]
        )


def apply_template(contract):
    with transaction.atomic():
        RaciEntry.objects.filter(contract=contract).delete()
        RaciEntry.objects.bulk_create(template_entries(contract))


ASSIGNMENTS = RaciAssignment.values
