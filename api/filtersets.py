"""The API's filters: the web lists' filtersets where a web list exists (vendors, contracts, breaches,
staff), small ones on the same base for the rest."""

import django_filters

from common.filtersets import BaseFilterSet
from contracts.filtersets import contract_filter, vendor_filter
from contracts.models import ReplacementObligation
from kpis.filtersets import BreachFilterSet
from kpis.models import SLA, Measurement


class ApiBreachFilterSet(BreachFilterSet):
    def filter_mine(self, queryset, name, value):
        from .permissions import is_vendor_key

        if value and self.request is not None and is_vendor_key(self.request.user):
            return queryset  # a vendor key owns no contract; its rows are already its vendor's
        return super().filter_mine(queryset, name, value)


class SLAFilterSet(BaseFilterSet):
    search_fields = ("contract__reference", "kpi__code", "kpi__name")

    contract = contract_filter()
    vendor = vendor_filter(field_name="contract__vendor", label="Vendor")
    kpi = django_filters.CharFilter(field_name="kpi__code", label="KPI code")
    active = django_filters.BooleanFilter()

    class Meta:
        model = SLA
        fields = ["q", "contract", "vendor", "kpi", "active"]


class MeasurementFilterSet(BaseFilterSet):
    contract = contract_filter(field_name="sla__contract", label="Contract")
    vendor = vendor_filter(field_name="sla__contract__vendor", label="Vendor")
    sla = django_filters.NumberFilter(field_name="sla_id")
    kpi = django_filters.CharFilter(field_name="sla__kpi__code", label="KPI code")
    period_from = django_filters.DateFilter(field_name="period_start", lookup_expr="gte")
    period_to = django_filters.DateFilter(field_name="period_start", lookup_expr="lte")
    updated_since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Measurement
        fields = ["contract", "vendor", "sla", "kpi", "period_from", "period_to", "updated_since"]


class ObligationFilterSet(BaseFilterSet):
    contract = contract_filter(field_name="departed__contract", label="Contract")
    vendor = vendor_filter(field_name="departed__contract__vendor", label="Vendor")
    due_from = django_filters.DateFilter(field_name="due_on", lookup_expr="gte")
    due_to = django_filters.DateFilter(field_name="due_on", lookup_expr="lte")

    class Meta:
        model = ReplacementObligation
        fields = ["contract", "vendor", "due_from", "due_to"]
