import django_filters
from django_countries import countries

from common.filtersets import BaseFilterSet
from contracts.choices import ServiceType
from contracts.models import Contract
from vendors.choices import RiskTier, SourcingModel, VendorStatus

from .models import Vendor


class VendorFilterSet(BaseFilterSet):
    search_fields = ("name", "contact_name", "contact_email", "notes", "delivery_centers__city")

    country = django_filters.ChoiceFilter(choices=list(countries))
    status = django_filters.MultipleChoiceFilter(distinct=False, choices=VendorStatus.choices)
    risk_tier = django_filters.MultipleChoiceFilter(distinct=False, choices=RiskTier.choices, label="Risk tier")
    service_type = django_filters.ChoiceFilter(
        choices=ServiceType.choices, method="filter_service_type", label="Service type"
    )
    sourcing_model = django_filters.ChoiceFilter(
        choices=SourcingModel.choices, method="filter_sourcing_model", label="Sourcing model"
    )

    class Meta:
        model = Vendor
        fields = ["q", "country", "status", "risk_tier", "service_type", "sourcing_model"]

    # Filters across the vendor's contracts / centres use ``pk IN (subquery)`` rather than a join and
    # DISTINCT, which would make the database de-duplicate every annotated row before paginating.
    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        matches = super().search(Vendor.objects.all(), name, value).values("pk")
        return queryset.filter(pk__in=matches)

    def filter_service_type(self, queryset, name, value):
        return queryset.filter(pk__in=Contract.objects.filter(service_type=value).values("vendor_id"))

    def filter_sourcing_model(self, queryset, name, value):
        return queryset.filter(pk__in=Contract.objects.filter(sourcing_model=value).values("vendor_id"))
