import datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db import models
from django.db.models import Max, OuterRef, Subquery
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
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
from common.validators import SHORT_TEXT_MAX_LENGTH

from . import pending, periods
from .choices import OPEN_STATUSES, BreachStatus, Frequency, Severity
from .models import KPI, SLA, Breach, DigestDelivery, Measurement

MEASUREMENT_INLINE_LIMIT = 24


def _today():
    return timezone.localdate()


# --- filters ---------------------------------------------------------------------------------
class OutcomeFilter(admin.SimpleListFilter):
    title = "outcome"
    parameter_name = "outcome"

    def lookups(self, request, model_admin):
        return [
            ("met", "Met"),
            (Severity.MINOR, "Minor breach"),
            (Severity.MAJOR, "Major breach"),
            ("breached", "Any breach"),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "breached":
            return queryset.with_outcome().filter(met=False)
        if value in ("met", Severity.MINOR, Severity.MAJOR):
            return queryset.with_outcome().filter(outcome=value)
        return queryset


class PeriodFilter(admin.SimpleListFilter):
    """Breaches by the month their period ends in (the month their service credit counts in)."""

    title = "period"
    parameter_name = "period"

    def lookups(self, request, model_admin):
        return [
            ("this_month", "Breached this month"),
            ("last_month", "Last month"),
            ("this_quarter", "This quarter"),
            ("this_year", "This year"),
        ]

    def queryset(self, request, queryset):
        today = _today()
        if self.value() == "this_month":
            first, last = periods.period_bounds(Frequency.MONTHLY, today)
        elif self.value() == "last_month":
            first, last = periods.period_bounds(Frequency.MONTHLY, today.replace(day=1) - periods.ONE_DAY)
        elif self.value() == "this_quarter":
            first, last = periods.period_bounds(Frequency.QUARTERLY, today)
        elif self.value() == "this_year":
            first, last = datetime.date(today.year, 1, 1), datetime.date(today.year, 12, 31)
        else:
            return queryset
        return queryset.filter(period_end__gte=first, period_end__lte=last)


class OpenFilter(admin.SimpleListFilter):
    title = "needs attention"
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", "Open or acknowledged"), ("no", "Closed")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(status__in=OPEN_STATUSES)
        if self.value() == "no":
            return queryset.exclude(status__in=OPEN_STATUSES)
        return queryset


class CreditFilter(admin.SimpleListFilter):
    title = "service credit"
    parameter_name = "credit"

    def lookups(self, request, model_admin):
        return [("yes", "Earns a credit"), ("earned_back", "Earned back"), ("no", "No credit")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(service_credit__gt=0)
        if self.value() == "earned_back":
            return queryset.filter(credit_earned_back__gt=0)
        if self.value() == "no":
            return queryset.filter(service_credit=0)
        return queryset


# --- KPI catalogue ---------------------------------------------------------------------------
@admin.register(KPI)
class KPIAdmin(PolicyAdminMixin, AdminExportMixin, admin.ModelAdmin):
    list_display = ("name", "code", "unit", "direction", "is_computed", "sla_count")
    list_filter = ("unit", "direction", "is_computed")
    search_fields = ("name", "code", "description")
    prepopulated_fields = {"code": ("name",)}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(sla_count=count_of(SLA, "kpi"))

    @admin.display(description="SLAs", ordering="sla_count")
    def sla_count(self, obj):
        return obj.sla_count


# --- SLAs ------------------------------------------------------------------------------------
class MeasurementInline(PolicyInlineMixin, admin.TabularInline):
    model = Measurement
    extra = 0
    fields = ("period_start", "period_end", "value", "source", "note", "recorded_by", "recorded_at")
    readonly_fields = ("recorded_by", "recorded_at")
    ordering = ("-period_start",)
    formset = limited_formset(MEASUREMENT_INLINE_LIMIT)
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 1, "cols": 32})}}
    show_change_link = True
    verbose_name_plural = f"latest {MEASUREMENT_INLINE_LIMIT} measurements (all of them: the “Measurements” link above)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("recorded_by", "sla__contract", "sla__kpi")


@admin.register(SLA)
class SLAAdmin(PolicyAdminMixin, BigTableAdminMixin, AdminExportMixin, CachedChoicesMixin, SimpleHistoryAdmin):
    list_display = (
        "__str__",
        "vendor",
        "kpi",
        "expected",
        "minimum",
        "frequency",
        "credit_allocation_percent",
        "active",
        "measurement_count",
        "last_period",
        "breach_count",
    )
    list_filter = (
        "active",
        "frequency",
        "kpi",
        ("contract__vendor", VendorLookupFilter),
        "contract__service_type",
        "contract__sourcing_model",
        "contract__status",
    )
    list_select_related = ("contract__vendor", "kpi")
    search_fields = ("contract__reference", "contract__title", "contract__vendor__name", "kpi__name", "kpi__code")
    autocomplete_fields = ("contract", "kpi")
    inlines = [MeasurementInline]
    actions = ["rerun_breach_checks"]
    history_list_display = ["expected", "minimum", "credit_allocation_percent", "active"]
    readonly_fields = ("measurements_link",)
    fields = (
        "contract",
        "kpi",
        "expected",
        "minimum",
        "frequency",
        "credit_allocation_percent",
        "effective_from",
        "effective_to",
        "active",
        "measurements_link",
    )
    export_fields = (
        ("Contract", "contract__reference"),
        ("Vendor", "contract__vendor__name"),
        ("KPI", "kpi__name"),
        ("Expected", "expected"),
        ("Minimum", "minimum"),
        ("Frequency", "frequency"),
        ("Credit allocation %", "credit_allocation_percent"),
        ("Effective from", "effective_from"),
        ("Effective to", "effective_to"),
        ("Active", "active"),
        ("Measurements", "measurement_count"),
        ("Breaches", "breach_count"),
    )

    def get_queryset(self, request):
        last_period = (
            Measurement.objects.filter(sla=OuterRef("pk")).order_by().values("sla").annotate(m=Max("period_start"))
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                measurement_count=count_of(Measurement, "sla"),
                breach_count=count_of(Breach, "sla"),
                last_period_start=Subquery(last_period.values("m")),
            )
        )

    @admin.display(description="Vendor", ordering="contract__vendor__name")
    def vendor(self, obj):
        return obj.contract.vendor

    @admin.display(description="Measurements", ordering="measurement_count")
    def measurement_count(self, obj):
        url = reverse("admin:kpis_measurement_changelist") + f"?sla__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.measurement_count)

    @admin.display(description="Latest period", ordering="last_period_start")
    def last_period(self, obj):
        return obj.last_period_start or "—"

    @admin.display(description="Breaches", ordering="breach_count")
    def breach_count(self, obj):
        url = reverse("admin:kpis_breach_changelist") + f"?sla__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.breach_count)

    @admin.display(description="Measurements")
    def measurements_link(self, obj):
        if obj.pk is None:
            return "—"
        url = reverse("admin:kpis_measurement_changelist") + f"?sla__id__exact={obj.pk}"
        return format_html('<a href="{}">All measurements of this SLA</a>', url)

    @admin.action(description="Re-run breach checks for selected SLAs", permissions=["change"])
    def rerun_breach_checks(self, request, queryset):
        sla_ids = list(queryset.order_by("pk").values_list("pk", flat=True))
        from kpis.tasks import detect_breaches  # lazy: the task module imports the engine

        detect_breaches.delay(sla_ids=sla_ids)
        self.message_user(request, f"Queued a breach check of {len(sla_ids)} SLA(s).", messages.SUCCESS)


# --- measurements ----------------------------------------------------------------------------
@admin.register(Measurement)
class MeasurementAdmin(PolicyAdminMixin, BigTableAdminMixin, AdminExportMixin, SimpleHistoryAdmin):
    list_display = (
        "contract_reference",
        "kpi_name",
        "period",
        "value",
        "expected",
        "outcome_display",
        "source",
        "recorded_by",
        "recorded_at",
    )
    list_filter = (
        OutcomeFilter,
        ("period_start", admin.DateFieldListFilter),
        "source",
        "sla__frequency",
        "sla__kpi",
        ("sla__contract__vendor", VendorLookupFilter),
        "sla__contract__service_type",
        "sla__contract__sourcing_model",
    )
    list_select_related = ("sla__contract", "sla__kpi", "recorded_by")
    search_fields = ("sla__contract__reference", "sla__contract__vendor__name", "sla__kpi__name", "note")
    autocomplete_fields = ("sla", "recorded_by")
    # No date_hierarchy: its year list is a DISTINCT over every figure; the period filter needs no query.
    readonly_fields = ("updated_at",)
    history_list_display = ["value", "source"]
    export_fields = (
        ("Contract", "sla__contract__reference"),
        ("Vendor", "sla__contract__vendor__name"),
        ("KPI", "sla__kpi__name"),
        ("Frequency", "sla__frequency"),
        ("Period start", "period_start"),
        ("Period end", "period_end"),
        ("Value", "value"),
        ("Expected", "sla__expected"),
        ("Minimum", "sla__minimum"),
        ("Outcome", "outcome"),
        ("Source", "source"),
        ("Recorded by", person_name("recorded_by")),
        ("Recorded at", "recorded_at"),
        ("Note", "note"),
    )

    # Rule 1 in SQL (``with_outcome``) only where it is needed — the outcome filter and the export — so the
    # changelist's count and date-hierarchy queries stay on the measurement table alone.
    def get_export_queryset(self, queryset):
        return queryset.with_outcome()

    @admin.display(description="Contract", ordering="sla__contract__reference")
    def contract_reference(self, obj):
        return obj.sla.contract.reference

    @admin.display(description="KPI", ordering="sla__kpi__name")
    def kpi_name(self, obj):
        return obj.sla.kpi.name

    @admin.display(description="Period", ordering="period_start")
    def period(self, obj):
        return obj.period_label

    @admin.display(description="Expected (minimum)")
    def expected(self, obj):
        return f"{obj.sla.expected} ({obj.sla.minimum})"

    @admin.display(description="Outcome")
    def outcome_display(self, obj):
        outcome = obj.sla.evaluate(obj.value) or "met"  # sla and kpi are select_related: no query
        colour = {"met": "#2e7d32", "minor": "#b36b00", "major": "#ba2121"}.get(outcome, "inherit")
        label = {"met": "Met", "minor": "Minor breach", "major": "Major breach"}.get(outcome, "—")
        return format_html('<strong style="color:{}">{}</strong>', colour, label)

    def save_model(self, request, obj, form, change):
        if not obj.recorded_by_id:
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)


# --- breaches --------------------------------------------------------------------------------
class WaiveForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        min_length=3,
        max_length=SHORT_TEXT_MAX_LENGTH,
        help_text="Why these breaches are waived. Kept in each breach's notes and in its history.",
    )


@admin.register(Breach)
class BreachAdmin(PolicyAdminMixin, BigTableAdminMixin, AdminExportMixin, SimpleHistoryAdmin):
    list_display = (
        "contract_reference",
        "subject",
        "vendor",
        "period_end",
        "kind",
        "severity_display",
        "actual",
        "expected",
        "credit_display",
        "status",
        "detected_on",
    )
    list_display_links = ("contract_reference",)
    list_filter = (
        OpenFilter,
        "status",
        "severity",
        "kind",
        PeriodFilter,
        CreditFilter,
        ("detected_at", admin.DateFieldListFilter),
        ("contract__vendor", VendorLookupFilter),
        "contract__service_type",
        "contract__sourcing_model",
        "contract__engagement_model",
    )
    list_select_related = ("contract__vendor", "sla__kpi")
    search_fields = ("contract__reference", "contract__vendor__name", "sla__kpi__name", "notes")
    autocomplete_fields = ("contract", "sla", "measurement", "obligation")
    # No date_hierarchy (a DISTINCT over every breach): the "detected" filter above needs no query.
    actions = ["acknowledge", "waive"]
    history_list_display = ["status", "severity", "actual", "service_credit"]
    readonly_fields = (
        "kind",
        "severity",
        "contract",
        "sla",
        "measurement",
        "obligation",
        "period_start",
        "period_end",
        "expected",
        "minimum",
        "actual",
        "service_credit",
        "credit_earned_back",
        "detected_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("status", "notes")}),
        (
            "What was breached",
            {
                "fields": (
                    "kind",
                    "severity",
                    "contract",
                    "sla",
                    "measurement",
                    "obligation",
                    "period_start",
                    "period_end",
                    "expected",
                    "minimum",
                    "actual",
                )
            },
        ),
        ("Money", {"fields": ("service_credit", "credit_earned_back")}),
        (None, {"fields": ("detected_at", "updated_at")}),
    )
    export_fields = (
        ("Contract", "contract__reference"),
        ("Vendor", "contract__vendor__name"),
        ("KPI", "sla__kpi__name"),
        ("Kind", "kind"),
        ("Severity", "severity"),
        ("Period start", "period_start"),
        ("Period end", "period_end"),
        ("Expected", "expected"),
        ("Minimum", "minimum"),
        ("Actual", "actual"),
        ("Service credit", "service_credit"),
        ("Credit earned back", "credit_earned_back"),
        ("Currency", "contract__currency"),
        ("Status", "status"),
        ("Detected at", "detected_at"),
        ("Notes", "notes"),
    )

    def has_add_permission(self, request):
        return False  # breaches are found by the checks, never typed in

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status == BreachStatus.WITHDRAWN:
            return ("status", *self.readonly_fields)  # it does not hold: nobody acts on it (rule 5)
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        obj.save_workflow()  # only what a person owns, decided from the row as it is now

    @admin.display(description="Vendor", ordering="contract__vendor__name")
    def vendor(self, obj):
        return obj.contract.vendor

    @admin.display(description="Contract", ordering="contract__reference")
    def contract_reference(self, obj):
        return obj.contract.reference

    @admin.display(description="KPI / subject", ordering="sla__kpi__name")
    def subject(self, obj):
        return obj.sla.kpi.name if obj.sla_id else "Staff replacement"

    @admin.display(description="Detected", ordering="detected_at")
    def detected_on(self, obj):
        return timezone.localtime(obj.detected_at).date()

    @admin.display(description="Severity", ordering="severity")
    def severity_display(self, obj):
        colour = "#ba2121" if obj.severity == Severity.MAJOR else "#b36b00"
        return format_html('<strong style="color:{}">{}</strong>', colour, obj.get_severity_display())

    @admin.display(description="Service credit", ordering="service_credit")
    def credit_display(self, obj):
        text = format_money(obj.service_credit, obj.contract.currency)
        if obj.credit_earned_back:
            text += f" (earned back {format_money(obj.credit_earned_back, obj.contract.currency)})"
        return text

    def _set_status(self, request, breaches, status, note):
        stamp = f"[{timezone.localtime():%Y-%m-%d %H:%M} {request.user.get_username()}] {note}"
        now = timezone.now()
        for breach in breaches:
            breach.status = status
            breach.notes = f"{breach.notes}\n{stamp}".strip()
            breach.updated_at = now
        if breaches:
            bulk_update_with_history(
                breaches,
                Breach,
                ["status", "notes", "updated_at"],
                default_user=request.user,
                default_change_reason=note[:100],
            )
            # A waiver changes the month's credits (bulk updates send no signals).
            pending.request_figure_check([(b.sla_id, b.period_start) for b in breaches if b.sla_id])

    @admin.action(description="Acknowledge selected breaches", permissions=["change"])
    def acknowledge(self, request, queryset):
        total = queryset.count()  # before the change: the changelist's own filters may depend on status
        # Locked until the action commits: the engine cannot withdraw them in between.
        breaches = list(queryset.filter(status=BreachStatus.OPEN).select_for_update(of=("self",)))
        self._set_status(request, breaches, BreachStatus.ACKNOWLEDGED, "Acknowledged.")
        skipped = total - len(breaches)
        message = f"Acknowledged {len(breaches)} breach(es)."
        if skipped:
            message += f" {skipped} not open, left as they were."
        self.message_user(request, message, messages.SUCCESS)

    @admin.action(description="Waive selected breaches (asks for a reason)…", permissions=["change"])
    def waive(self, request, queryset):
        """An intermediate page with a required reason; only open or acknowledged breaches are waived."""
        form = WaiveForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            total = queryset.count()
            breaches = list(queryset.filter(status__in=OPEN_STATUSES).select_for_update(of=("self",)))
            reason = form.cleaned_data["reason"]
            self._set_status(request, breaches, BreachStatus.WAIVED, f"Waived: {reason}")
            skipped = total - len(breaches)
            message = f"Waived {len(breaches)} breach(es)."
            if skipped:
                message += f" {skipped} already closed, left as they were."
            self.message_user(request, message, messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Waive breaches",
            "opts": self.model._meta,
            "breaches": list(queryset.select_related("contract__vendor", "sla__kpi")[:200]),
            "count": queryset.count(),
            "form": form,
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "select_across": request.POST.get("select_across", "0"),
            "query_string": request.GET.urlencode(),
        }
        return TemplateResponse(request, "admin/kpis/breach/waive_confirmation.html", context)


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(PolicyAdminMixin, BigTableAdminMixin, AdminExportMixin, admin.ModelAdmin):
    list_display = ("week", "recipient", "all_vendors", "status", "breach_count", "attempts", "sent_at")
    list_filter = ("status", "all_vendors", "week")
    list_select_related = ("recipient",)
    search_fields = ("week", "recipient__username", "recipient__email", "subject")
    autocomplete_fields = ("recipient",)
    readonly_fields = ("claimed_at", "sent_at", "attempts", "error")
