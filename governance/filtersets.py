import django_filters
from django import forms
from django.utils import timezone

from common.filtersets import BaseFilterSet, yes_no_filter
from contracts.filtersets import contract_filter, vendor_filter

from .choices import ActionStatus, OwnerSide
from .models import CorrectiveAction


class CorrectiveActionFilterSet(BaseFilterSet):
    search_fields = ("title", "owner_name", "contract__reference", "contract__vendor__name", "root_cause", "action")

    status = django_filters.MultipleChoiceFilter(choices=ActionStatus.choices)
    owner_side = django_filters.MultipleChoiceFilter(choices=OwnerSide.choices, label="Owner side")
    vendor = vendor_filter(field_name="contract__vendor", label="Vendor")
    contract = contract_filter()
    breach = django_filters.NumberFilter(field_name="breaches", label="Breach #", widget=forms.HiddenInput)
    due_before = django_filters.DateFilter(
        field_name="due_on", lookup_expr="lte", label="Due on or before", widget=forms.DateInput(attrs={"type": "date"})
    )
    overdue = yes_no_filter("filter_overdue", "Overdue only")
    ineffective = yes_no_filter("filter_ineffective", "Ineffective only")
    mine = yes_no_filter("filter_mine", "My contracts only")

    class Meta:
        model = CorrectiveAction
        fields = ["q", "status", "owner_side", "vendor", "contract", "breach", "due_before", "overdue", "ineffective"]

    def filter_overdue(self, queryset, name, value):
        return queryset.overdue(timezone.localdate()) if value else queryset

    def filter_ineffective(self, queryset, name, value):
        return queryset.filter(ineffective=True) if value else queryset

    def filter_mine(self, queryset, name, value):
        if value and self.request is not None:
            return queryset.filter(contract__owner=self.request.user)
        return queryset
