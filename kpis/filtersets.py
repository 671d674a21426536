import django_filters
from django import forms

from common.filtersets import BaseFilterSet, yes_no_filter
from contracts.filtersets import contract_filter, vendor_filter

from .choices import BreachKind, BreachStatus, Severity
from .models import Breach


class BreachFilterSet(BaseFilterSet):
    search_fields = ("contract__reference", "contract__title", "contract__vendor__name", "sla__kpi__name", "notes")

    kind = django_filters.MultipleChoiceFilter(distinct=False, choices=BreachKind.choices)
    severity = django_filters.MultipleChoiceFilter(distinct=False, choices=Severity.choices)
    status = django_filters.MultipleChoiceFilter(distinct=False, choices=BreachStatus.choices)
    vendor = vendor_filter(field_name="contract__vendor", label="Vendor")
    contract = contract_filter()
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
    mine = yes_no_filter("filter_mine", "My contracts only")

    class Meta:
        model = Breach
        fields = ["q", "kind", "severity", "status", "vendor", "contract", "period_from", "period_to", "mine"]

    def filter_mine(self, queryset, name, value):
        if value and self.request is not None:
            return queryset.filter(contract__owner=self.request.user)
        return queryset
