from django.contrib import admin
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django_countries.filters import CountryFilter

from access.admin_mixins import PolicyAdminMixin, PolicyInlineMixin
from common.admin_tools import AdminExportMixin, BigTableAdminMixin, VendorLookupFilter, count_of
from contracts.choices import ContractStatus
from contracts.models import Contract
from kpis.choices import OPEN_STATUSES
from kpis.models import Breach

from .models import Certification, DeliveryCenter, Vendor


class DeliveryCenterInline(PolicyInlineMixin, admin.TabularInline):
    model = DeliveryCenter
    extra = 0
    fields = ("name", "city", "country", "timezone", "seats", "operates_24x7")
    show_change_link = True

    class Media:
        js = ["js/lookup.js"]  # the time zone select, searchable (Tom Select: admin/base_site.html)


class BreachedThisMonthFilter(admin.SimpleListFilter):
    title = "breached this month"
    parameter_name = "breached_this_month"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() not in ("yes", "no"):
            return queryset
        first = timezone.localdate().replace(day=1)
        breached = Exists(Breach.objects.filter(contract__vendor=OuterRef("pk"), period_end__gte=first))
        return queryset.filter(breached) if self.value() == "yes" else queryset.exclude(breached)


class CountryColumnMixin:
    """The country as a column: its name straight from the field (the admin's generic choice lookup
    rebuilds django-countries' 250 choices for every row: 2-3 ms a row)."""

    @admin.display(description="Country", ordering="country")
    def country_name(self, obj):
        return obj.country.name


@admin.register(Vendor)
class VendorAdmin(PolicyAdminMixin, BigTableAdminMixin, CountryColumnMixin, AdminExportMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "country_name",
        "status",
        "risk_tier",
        "active_contract_count",
        "delivery_center_count",
        "open_breach_count",
        "contact_name",
    )
    list_filter = ("status", "risk_tier", ("country", CountryFilter), "certifications", BreachedThisMonthFilter)
    search_fields = ("name", "contact_name", "contact_email", "website")
    filter_horizontal = ("certifications",)
    inlines = [DeliveryCenterInline]
    fieldsets = (
        (None, {"fields": ("name", "country", "status", "risk_tier", "website")}),
        ("Contact", {"fields": ("contact_name", "contact_email")}),
        ("Compliance", {"fields": ("certifications", "notes")}),
    )
    export_fields = (
        ("Name", "name"),
        ("Country", "country"),
        ("Status", "status"),
        ("Risk tier", "risk_tier"),
        ("Active contracts", "active_contract_count"),
        ("Delivery centres", "delivery_center_count"),
        ("Open breaches", "open_breach_count"),
        ("Contact", "contact_name"),
        ("Contact e-mail", "contact_email"),
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                active_contract_count=count_of(Contract, "vendor", status=ContractStatus.ACTIVE),
                delivery_center_count=count_of(DeliveryCenter, "vendor"),
                open_breach_count=count_of(Breach, "contract__vendor", status__in=OPEN_STATUSES),
            )
        )

    @admin.display(description="Active contracts", ordering="active_contract_count")
    def active_contract_count(self, obj):
        return obj.active_contract_count

    @admin.display(description="Centres", ordering="delivery_center_count")
    def delivery_center_count(self, obj):
        return obj.delivery_center_count

    @admin.display(description="Open breaches", ordering="open_breach_count")
    def open_breach_count(self, obj):
        return obj.open_breach_count


@admin.register(DeliveryCenter)
class DeliveryCenterAdmin(PolicyAdminMixin, BigTableAdminMixin, CountryColumnMixin, AdminExportMixin, admin.ModelAdmin):
    list_display = ("name", "vendor", "city", "country_name", "timezone", "seats", "operates_24x7")
    list_filter = (("country", CountryFilter), "operates_24x7", ("vendor", VendorLookupFilter))
    list_select_related = ("vendor",)
    search_fields = ("name", "city", "vendor__name")
    autocomplete_fields = ("vendor",)

    class Media:
        js = ["js/lookup.js"]  # the time zone select, searchable (Tom Select: admin/base_site.html)

    export_fields = (
        ("Vendor", "vendor__name"),
        ("Name", "name"),
        ("City", "city"),
        ("Country", "country"),
        ("Time zone", "timezone"),
        ("Seats", "seats"),
        ("24x7", "operates_24x7"),
    )


@admin.register(Certification)
class CertificationAdmin(PolicyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "code", "vendor_count")
    search_fields = ("name", "code")
    prepopulated_fields = {"code": ("name",)}

    def get_queryset(self, request):
        through = Vendor.certifications.through
        return super().get_queryset(request).annotate(vendor_count=count_of(through, "certification"))

    @admin.display(description="Vendors", ordering="vendor_count")
    def vendor_count(self, obj):
        return obj.vendor_count
