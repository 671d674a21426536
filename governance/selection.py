"""Breaches chosen to open a corrective action (``/actions/add/?breaches=3&breaches=8`` or ``?breaches=3,8``):
grouped by contract, since an action answers the breaches of one contract; withdrawn ones set apart (they no
longer hold and owe nothing, so no action answers them)."""

from dataclasses import dataclass, field

from kpis.choices import BreachStatus
from kpis.models import Breach

MAX_SELECTED = 200


def breach_ids(query):
    """The breach ids of a query string (``breaches`` repeated and/or comma-separated), in order, once each."""
    ids = []
    for value in query.getlist("breaches"):
        for part in value.split(","):
            part = part.strip()
            if part.isdigit() and int(part) not in ids:
                ids.append(int(part))
    return ids[:MAX_SELECTED]


@dataclass
class ContractGroup:
    contract: object
    breaches: list = field(default_factory=list)

    @property
    def query(self):
        """The query string that opens an action on these breaches."""
        return "&".join(f"breaches={b.pk}" for b in self.breaches)


@dataclass
class Selection:
    groups: list  # ContractGroup per contract with breaches that can be linked, by contract reference
    withdrawn: list  # breaches that cannot be linked
    unknown: list  # ids that are no breach

    @property
    def contract(self):
        """The one contract of the selection (of its withdrawn breaches when nothing else), or None."""
        if len(self.groups) == 1:
            return self.groups[0].contract
        if not self.groups and self.withdrawn:
            contracts = {b.contract_id: b.contract for b in self.withdrawn}
            return next(iter(contracts.values())) if len(contracts) == 1 else None
        return None

    @property
    def spans_contracts(self):
        return len(self.groups) > 1


def select_breaches(ids):
    """The :class:`Selection` of breach ``ids`` (one query)."""
    breaches = list(Breach.objects.filter(pk__in=ids).select_related("contract__vendor", "contract__owner", "sla__kpi"))
    found = {b.pk: b for b in breaches}
    groups, withdrawn = {}, []
    for pk in ids:
        breach = found.get(pk)
        if breach is None:
            continue
        if breach.status == BreachStatus.WITHDRAWN:
            withdrawn.append(breach)
        else:
            groups.setdefault(breach.contract_id, ContractGroup(breach.contract)).breaches.append(breach)
    return Selection(
        groups=sorted(groups.values(), key=lambda g: g.contract.reference),
        withdrawn=withdrawn,
        unknown=[pk for pk in ids if pk not in found],
    )
