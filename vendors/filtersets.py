import django_filters
from django_countries import countries

from common.filtersets import BaseFilterSet
from contracts.choices import ServiceType
from vendors.choices import RiskTier, SourcingModel, VendorStatus

from .models import Vendor


class VendorFilterSet(BaseFilterSet):
    search_fields = ("name", "contact_name", "contact_email", "notes", "delivery_centers__city")

    country = django_filters.ChoiceFilter(choices=list(countries))
    status = django_filters.MultipleChoiceFilter(choices=VendorStatus.choices)
    risk_tier = django_filters.MultipleChoiceFilter(choices=RiskTier.choices, label="Risk tier")
    service_type = django_filters.ChoiceFilter(
        choices=ServiceType.choices, method="filter_service_type", label="Service type"
    )
    sourcing_model = django_filters.ChoiceFilter(
        choices=SourcingModel.choices, method="filter_sourcing_model", label="Sourcing model"
    )

    class Meta:
        model = Vendor
        fields = ["q", "country", "status", "risk_tier", "service_type", "sourcing_model"]

    def search(self, queryset, name, value):
        return super().search(queryset, name, value).distinct()

    def filter_service_type(self, queryset, name, value):
        return queryset.filter(contracts__service_type=value).distinct()

    def filter_sourcing_model(self, queryset, name, value):
        return queryset.filter(contracts__sourcing_model=value).distinct()
