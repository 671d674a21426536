import django_filters
from django import forms

from common.filtersets import BaseFilterSet
from common.lookups import LookupSelect
from contracts.models import Contract
from vendors.models import Vendor

from .choices import BreachKind, BreachStatus, Severity
from .models import Breach


class BreachFilterSet(BaseFilterSet):
    search_fields = ("contract__reference", "contract__title", "contract__vendor__name", "sla__kpi__name", "notes")

    kind = django_filters.MultipleChoiceFilter(distinct=False, choices=BreachKind.choices)
    severity = django_filters.MultipleChoiceFilter(distinct=False, choices=Severity.choices)
    status = django_filters.MultipleChoiceFilter(distinct=False, choices=BreachStatus.choices)
    vendor = django_filters.ModelChoiceFilter(
        queryset=Vendor.objects.order_by("name"),
        field_name="contract__vendor",
        label="Vendor",
        widget=LookupSelect("vendors:vendor_lookup"),
    )
    contract = django_filters.ModelChoiceFilter(
        queryset=Contract.objects.order_by("reference"), widget=LookupSelect("contracts:contract_lookup")
    )
    period_from = django_filters.DateFilter(
        field_name="period_end",
        lookup_expr="gte",
        label="Period ends on or after",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    period_to = django_filters.DateFilter(
        field_name="period_start",
        lookup_expr="lte",
        label="Period starts on or before",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    mine = django_filters.BooleanFilter(method="filter_mine", label="My contracts only")

    class Meta:
        model = Breach
        fields = ["q", "kind", "severity", "status", "vendor", "contract", "period_from", "period_to", "mine"]

    def filter_mine(self, queryset, name, value):
        if value and self.request is not None:
            return queryset.filter(contract__owner=self.request.user)
        return queryset
