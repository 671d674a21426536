import datetime

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Case, DecimalField, Exists, ExpressionWrapper, F, OuterRef, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django_countries.filters import CountryFilter
from simple_history.admin import SimpleHistoryAdmin
from simple_history.utils import bulk_update_with_history

from access.admin_mixins import PolicyAdminMixin, PolicyInlineMixin
from common.admin_tools import (
    AdminExportMixin,
    BigTableAdminMixin,
    CachedChoicesMixin,
    VendorLookupFilter,
    count_of,
    limited_formset,
)
from common.exports import person_name
from common.money import format_money
from kpis.choices import OPEN_STATUSES
from kpis.models import SLA, Breach

from .choices import EngagementModel, ObligationState
from .models import Contract, ExchangeRate, ReplacementObligation, StaffMember

STAFF_INLINE_LIMIT = 25


def _today():
    return timezone.localdate()


# --- filters ---------------------------------------------------------------------------------
class _WithinDaysFilter(admin.SimpleListFilter):
    """Contracts whose ``date_field`` falls within the next 30/60/90 days (or has passed)."""

    date_field = None

    def lookups(self, request, model_admin):
        return [
            ("30", "In the next 30 days"),
            ("60", "In the next 60 days"),
            ("90", "In the next 90 days"),
            ("past", "Passed"),
        ]

    def queryset(self, request, queryset):
        value, today = self.value(), _today()
        if value == "past":
            return queryset.filter(**{f"{self.date_field}__lt": today})
        if value in ("30", "60", "90"):
            last = today + datetime.timedelta(days=int(value))
            return queryset.filter(**{f"{self.date_field}__gte": today, f"{self.date_field}__lte": last})
        return queryset


class ExpiringFilter(_WithinDaysFilter):
    title = "expiring"
    parameter_name = "expiring"
    date_field = "end_date"


class NoticeDeadlineFilter(_WithinDaysFilter):
    title = "notice deadline"
    parameter_name = "notice"
    date_field = "notice_deadline"


class ContractBreachedThisMonthFilter(admin.SimpleListFilter):
    title = "breached this month"
    parameter_name = "breached_this_month"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() not in ("yes", "no"):
            return queryset
        first = _today().replace(day=1)
        breached = Exists(Breach.objects.filter(contract=OuterRef("pk"), period_end__gte=first))
        return queryset.filter(breached) if self.value() == "yes" else queryset.exclude(breached)


class DeliveryCountryFilter(CountryFilter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = "delivery country"


class VendorCountryFilter(CountryFilter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = "vendor HQ country"


class StaffStatusFilter(admin.SimpleListFilter):
    title = "employment"
    parameter_name = "employment"

    def lookups(self, request, model_admin):
        return [("active", "Active"), ("departed", "Departed"), ("left_this_month", "Left this month")]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "active":
            return queryset.filter(left_on__isnull=True)
        if value == "departed":
            return queryset.filter(left_on__isnull=False)
        if value == "left_this_month":
            return queryset.filter(left_on__gte=_today().replace(day=1))
        return queryset


class ObligationStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return ObligationState.choices

    def queryset(self, request, queryset):
        value, today = self.value(), _today()
        if value == ObligationState.PENDING:
            return queryset.filter(fulfilment_date__isnull=True, due_on__gte=today)
        if value == ObligationState.OVERDUE:
            return queryset.filter(fulfilment_date__isnull=True, due_on__lt=today)
        if value == ObligationState.FULFILLED_ON_TIME:
            return queryset.filter(fulfilment_date__lte=F("due_on"))
        if value == ObligationState.FULFILLED_LATE:
            return queryset.filter(fulfilment_date__gt=F("due_on"))
        return queryset


# --- inlines ---------------------------------------------------------------------------------
class SLAInline(PolicyInlineMixin, CachedChoicesMixin, admin.TabularInline):
    model = SLA
    extra = 0
    fields = (
        "kpi",
        "expected",
        "minimum",
        "frequency",
        "credit_allocation_percent",
        "effective_from",
        "effective_to",
        "active",
    )
    cached_choice_fields = ("kpi",)
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("kpi")


class StaffMemberInline(PolicyInlineMixin, admin.TabularInline):
    model = StaffMember
    fk_name = "contract"
    extra = 0
    fields = ("employee_ref", "full_name", "role", "joined_on", "left_on", "leave_reason")
    ordering = ("left_on", "-joined_on")
    formset = limited_formset(STAFF_INLINE_LIMIT)
    show_change_link = True
    verbose_name_plural = f"staff (first {STAFF_INLINE_LIMIT}: active first; the full roster is under Staff members)"


# --- admins ----------------------------------------------------------------------------------
@admin.register(Contract)
class ContractAdmin(PolicyAdminMixin, BigTableAdminMixin, AdminExportMixin, SimpleHistoryAdmin):
    list_display = (
        "reference",
        "title",
        "vendor",
        "service_type",
        "engagement",
        "sourcing_model",
        "status",
        "end_date",
        "notice_deadline",
        "monthly_fee_display",
        "savings_percent",
        "headcount_display",
        "open_breach_count",
    )
    list_filter = (
        "status",
        ("vendor", VendorLookupFilter),
        ("vendor__country", VendorCountryFilter),
        ("delivery_center__country", DeliveryCountryFilter),
        "sourcing_model",
        "service_type",
        "engagement_model",
        ("currency", admin.AllValuesFieldListFilter),
        ExpiringFilter,
        NoticeDeadlineFilter,
        ContractBreachedThisMonthFilter,
        "auto_renew",
    )
    list_select_related = ("vendor",)
    search_fields = ("reference", "title", "service_line", "vendor__name")
    autocomplete_fields = ("vendor", "owner", "delivery_center")
    inlines = [SLAInline, StaffMemberInline]
    readonly_fields = ("notice_deadline", "credit_cap_display", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("reference", "title", "vendor", "owner", "status")}),
        (
            "Service",
            {
                "fields": (
                    "engagement_model",
                    "service_type",
                    "service_line",
                    "delivery_center",
                    "sourcing_model",
                    "contracted_headcount",
                    "replacement_days",
                )
            },
        ),
        ("Term", {"fields": ("start_date", "end_date", "notice_days", "notice_deadline", "auto_renew")}),
        (
            "Money",
            {
                "fields": (
                    "currency",
                    "monthly_fee",
                    "baseline_monthly_cost",
                    "at_risk_percent",
                    "credit_cap_display",
                    "earn_back_periods",
                )
            },
        ),
        ("Reporting", {"fields": ("reporting_grace_days", "missing_report_is_breach")}),
        (None, {"fields": ("notes", "created_at", "updated_at")}),
    )
    actions = ["rerun_breach_checks"]
    history_list_display = ["status", "end_date", "monthly_fee", "at_risk_percent"]
    export_fields = (
        ("Reference", "reference"),
        ("Title", "title"),
        ("Vendor", "vendor__name"),
        ("Owner", person_name("owner")),
        ("Engagement model", "engagement_model"),
        ("Service type", "service_type"),
        ("Service line", "service_line"),
        ("Sourcing model", "sourcing_model"),
        ("Status", "status"),
        ("Start", "start_date"),
        ("End", "end_date"),
        ("Notice deadline", "notice_deadline"),
        ("Currency", "currency"),
        ("Monthly fee", "monthly_fee"),
        ("In-house baseline", "baseline_monthly_cost"),
        ("At risk %", "at_risk_percent"),
        ("Contracted headcount", "contracted_headcount"),
        ("Active headcount", "active_headcount"),
        ("Open breaches", "open_breach_count"),
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                active_headcount=count_of(StaffMember, "contract", left_on__isnull=True),
                open_breach_count=count_of(Breach, "contract", status__in=OPEN_STATUSES),
                saving_pct=Case(
                    When(baseline_monthly_cost=0, then=Value(None)),
                    default=ExpressionWrapper(
                        (F("baseline_monthly_cost") - F("monthly_fee")) * 100 / F("baseline_monthly_cost"),
                        output_field=DecimalField(max_digits=20, decimal_places=4),
                    ),
                ),
            )
        )

    @admin.display(description="Model", ordering="engagement_model")
    def engagement(self, obj):
        return obj.engagement_model.upper()

    @admin.display(description="Monthly fee", ordering="monthly_fee")
    def monthly_fee_display(self, obj):
        return format_money(obj.monthly_fee, obj.currency)

    @admin.display(description="Savings", ordering="saving_pct")
    def savings_percent(self, obj):
        return "—" if obj.saving_pct is None else f"{obj.saving_pct:.1f} %"

    @admin.display(description="Headcount (contracted)", ordering="active_headcount")
    def headcount_display(self, obj):
        return f"{obj.active_headcount} ({obj.contracted_headcount})"

    @admin.display(description="Open breaches", ordering="open_breach_count")
    def open_breach_count(self, obj):
        if not obj.open_breach_count:
            return 0
        url = reverse("admin:kpis_breach_changelist") + f"?contract__id__exact={obj.pk}&open=yes"
        return format_html('<a href="{}">{}</a>', url, obj.open_breach_count)

    @admin.display(description="Service-credit cap per month")
    def credit_cap_display(self, obj):
        if obj.pk is None:
            return "—"
        return format_money(obj.credit_cap, obj.currency)

    @admin.action(description="Re-run breach checks for selected contracts", permissions=["change"])
    def rerun_breach_checks(self, request, queryset):
        sla_ids = list(SLA.objects.filter(contract__in=queryset).order_by("pk").values_list("pk", flat=True))
        if not sla_ids:
            self.message_user(request, "The selected contracts have no SLAs to check.", messages.WARNING)
            return
        from kpis.tasks import detect_breaches  # lazy: the task module imports the engine

        detect_breaches.delay(sla_ids=sla_ids)
        self.message_user(
            request,
            f"Queued a breach check of {len(sla_ids)} SLA(s) on {queryset.count()} contract(s).",
            messages.SUCCESS,
        )


@admin.register(StaffMember)
class StaffMemberAdmin(PolicyAdminMixin, BigTableAdminMixin, AdminExportMixin, SimpleHistoryAdmin):
    list_display = ("full_name", "employee_ref", "role", "contract", "vendor", "joined_on", "left_on", "leave_reason")
    list_filter = (
        StaffStatusFilter,
        "leave_reason",
        ("contract__vendor", VendorLookupFilter),
        "contract__service_type",
        "contract__sourcing_model",
    )
    list_select_related = ("contract__vendor",)
    search_fields = ("full_name", "employee_ref", "role", "contract__reference")
    autocomplete_fields = ("contract",)
    export_fields = (
        ("Employee ref.", "employee_ref"),
        ("Full name", "full_name"),
        ("Role", "role"),
        ("Contract", "contract__reference"),
        ("Vendor", "contract__vendor__name"),
        ("Joined", "joined_on"),
        ("Left", "left_on"),
        ("Leave reason", "leave_reason"),
    )

    @admin.display(description="Vendor", ordering="contract__vendor__name")
    def vendor(self, obj):
        return obj.contract.vendor


@admin.register(ReplacementObligation)
class ReplacementObligationAdmin(PolicyAdminMixin, BigTableAdminMixin, AdminExportMixin, SimpleHistoryAdmin):
    list_display = (
        "departed_name",
        "contract",
        "engagement",
        "left_on",
        "due_on",
        "candidate_provided_on",
        "replacement_productive_on",
        "state_display",
    )
    list_filter = (
        ObligationStateFilter,
        ("departed__contract__vendor", VendorLookupFilter),
        "departed__contract__engagement_model",
        "departed__contract__service_type",
    )
    list_select_related = ("departed__contract__vendor", "replacement")
    search_fields = (
        "departed__full_name",
        "departed__employee_ref",
        "departed__contract__reference",
        "replacement__full_name",
    )
    autocomplete_fields = ("departed", "replacement")
    date_hierarchy = "due_on"
    actions = ["mark_fulfilled"]
    history_list_display = ["candidate_provided_on", "replacement_productive_on"]
    export_fields = (
        ("Departed", "departed__full_name"),
        ("Employee ref.", "departed__employee_ref"),
        ("Contract", "departed__contract__reference"),
        ("Vendor", "departed__contract__vendor__name"),
        ("Engagement model", "departed__contract__engagement_model"),
        ("Left", "departed__left_on"),
        ("Due", "due_on"),
        ("Candidate provided", "candidate_provided_on"),
        ("Replacement productive", "replacement_productive_on"),
        ("Fulfilled", "fulfilment_date"),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).with_fulfilment()

    @admin.display(description="Departed", ordering="departed__full_name")
    def departed_name(self, obj):
        return obj.departed.full_name

    @admin.display(description="Contract", ordering="departed__contract__reference")
    def contract(self, obj):
        return obj.departed.contract.reference

    @admin.display(description="Model", ordering="departed__contract__engagement_model")
    def engagement(self, obj):
        return obj.departed.contract.engagement_model.upper()

    @admin.display(description="Left", ordering="departed__left_on")
    def left_on(self, obj):
        return obj.departed.left_on

    @admin.display(description="State")
    def state_display(self, obj):
        state = obj.state()
        colour = {"overdue": "#ba2121", "fulfilled_late": "#b36b00"}.get(state, "inherit")
        return format_html('<span style="color:{}">{}</span>', colour, state.label)

    @admin.action(description="Mark selected obligations fulfilled today", permissions=["change"])
    def mark_fulfilled(self, request, queryset):
        """Sets the date that fulfils the obligation for its engagement model (BPO: candidate; BPM/BPS:
        productive) to today, on the selected obligations not yet fulfilled."""
        today = _today()
        total = queryset.count()  # before the change: the "state" filter depends on it
        pending = list(queryset.filter(fulfilment_date__isnull=True).select_related("departed__contract"))
        for obligation in pending:
            if obligation.departed.contract.engagement_model == EngagementModel.BPO:
                obligation.candidate_provided_on = today
            else:
                obligation.replacement_productive_on = today
                obligation.candidate_provided_on = obligation.candidate_provided_on or today
            obligation.updated_at = timezone.now()
        if pending:
            bulk_update_with_history(
                pending,
                ReplacementObligation,
                ["candidate_provided_on", "replacement_productive_on", "updated_at"],
                default_user=request.user,
                default_change_reason="Marked fulfilled from the admin",
            )
        skipped = total - len(pending)
        message = f"Marked {len(pending)} obligation(s) fulfilled on {today:%Y-%m-%d}."
        if skipped:
            message += f" {skipped} already fulfilled, left as they were."
        self.message_user(request, message, messages.SUCCESS)


@admin.register(ExchangeRate)
class ExchangeRateAdmin(PolicyAdminMixin, admin.ModelAdmin):
    """Monthly rates to the reporting currency, kept by admins (totals over several currencies use them)."""

    list_display = ["month_display", "currency", "rate", "reporting_currency", "updated_at"]
    list_filter = ["currency"]
    ordering = ["-month", "currency"]
    date_hierarchy = "month"
    search_fields = ["currency"]
    fields = ["currency", "month", "rate"]

    @admin.display(description="Month", ordering="month")
    def month_display(self, obj):
        return f"{obj.month:%Y-%m}"

    @admin.display(description="Converts to")
    def reporting_currency(self, obj):
        return settings.REPORTING_CURRENCY
