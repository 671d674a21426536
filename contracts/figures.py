"""Figures about vendors that come from their contracts, computed here where contracts can see vendors
(``vendors`` sits below ``contracts`` and never imports it)."""

from common.queries import subquery_count
from vendors.models import DeliveryCenter

from .models import Contract


def vendors_with_counts(vendors):
    """``contract_count``, ``active_contract_count`` and ``center_count`` (one query, subqueries)."""
    return vendors.annotate(
        contract_count=subquery_count(Contract.objects.all(), "vendor"),
        active_contract_count=subquery_count(Contract.objects.active(), "vendor"),
        center_count=subquery_count(DeliveryCenter.objects.all(), "vendor"),
    )
