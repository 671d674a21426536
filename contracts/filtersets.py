import django_filters
from django.contrib.auth import get_user_model

from common.filtersets import BaseFilterSet, lookup_filter
from common.validators import PLAUSIBLE_YEARS_AHEAD
from vendors.choices import SourcingModel
from vendors.models import Vendor

from .choices import ContractStatus, EngagementModel, ServiceType
from .models import Contract, StaffMember

# The users the owner filter offers, and its type-ahead (``OwnerLookupView``) searches.
CONTRACT_OWNERS = get_user_model().objects.filter(owned_contracts__isnull=False).distinct().order_by("username")


def vendor_filter(**kwargs):
    return lookup_filter(Vendor.objects.order_by("name"), "vendors:vendor_lookup", **kwargs)


def contract_filter(**kwargs):
    return lookup_filter(Contract.objects.order_by("reference"), "contracts:contract_lookup", **kwargs)


class ContractFilterSet(BaseFilterSet):
    search_fields = ("reference", "title", "service_line", "vendor__name")

    vendor = vendor_filter()
    owner = lookup_filter(CONTRACT_OWNERS, "contracts:owner_lookup")
    service_type = django_filters.MultipleChoiceFilter(
        distinct=False, choices=ServiceType.choices, label="Service type"
    )
    sourcing_model = django_filters.MultipleChoiceFilter(
        distinct=False, choices=SourcingModel.choices, label="Sourcing model"
    )
    engagement_model = django_filters.MultipleChoiceFilter(
        distinct=False, choices=EngagementModel.choices, label="Engagement model"
    )
    status = django_filters.MultipleChoiceFilter(distinct=False, choices=ContractStatus.choices)
    # At most the plausible-date horizon: a larger number of days is no date at all (and overflowed to a 500).
    expiring_within = django_filters.NumberFilter(
        method="filter_expiring_within",
        label="Expiring within (days)",
        min_value=0,
        max_value=PLAUSIBLE_YEARS_AHEAD * 366,
    )

    class Meta:
        model = Contract
        fields = [
            "q",
            "vendor",
            "owner",
            "service_type",
            "sourcing_model",
            "engagement_model",
            "status",
            "expiring_within",
        ]

    def filter_expiring_within(self, queryset, name, value):
        return queryset.expiring_within(int(value))


class StaffMemberFilterSet(BaseFilterSet):
    search_fields = ("full_name", "employee_ref", "role")

    contract = contract_filter()
    vendor = vendor_filter(field_name="contract__vendor", label="Vendor")
    state = django_filters.ChoiceFilter(
        choices=[("active", "On staff"), ("departed", "Departed")], method="filter_state", label="State"
    )
    left_after = django_filters.DateFilter(field_name="left_on", lookup_expr="gte", label="Left on or after")

    class Meta:
        model = StaffMember
        fields = ["q", "contract", "vendor", "state", "left_after"]

    def filter_state(self, queryset, name, value):
        if value == "active":
            return queryset.filter(left_on__isnull=True)
        if value == "departed":
            return queryset.filter(left_on__isnull=False)
        return queryset
