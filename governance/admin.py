from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from access.admin_mixins import PolicyAdminMixin

from .models import CorrectiveAction, RaciEntry, ScorecardPolicy, StaffMeasurement


@admin.register(ScorecardPolicy)
class ScorecardPolicyAdmin(PolicyAdminMixin, SimpleHistoryAdmin):
    list_display = (
        "name",
        "active",
        "compliance_weight",
        "reporting_weight",
        "replacements_weight",
        "retention_weight",
        "strategic_from",
        "performing_from",
        "watch_from",
    )
    fieldsets = (
        (None, {"fields": ("name", "active")}),
        ("Weights (add up to 100)", {"fields": ScorecardPolicy.WEIGHT_FIELDS}),
        ("Bands (below Watch: At risk)", {"fields": ("strategic_from", "performing_from", "watch_from")}),
    )


@admin.register(CorrectiveAction)
class CorrectiveActionAdmin(PolicyAdminMixin, SimpleHistoryAdmin):
    list_display = ("title", "contract", "owner_side", "owner_name", "due_on", "status")
    list_filter = ("status", "owner_side")
    list_select_related = ("contract",)
    search_fields = ("title", "owner_name", "contract__reference")
    raw_id_fields = ("contract", "breaches", "opened_by", "done_by", "verified_by")
    readonly_fields = ("watch_until", "closed_on")


@admin.register(RaciEntry)
class RaciEntryAdmin(PolicyAdminMixin, admin.ModelAdmin):
    list_display = ("contract", "activity", "side", "party", "assignment")
    list_select_related = ("contract",)
    list_filter = ("assignment", "side")
    raw_id_fields = ("contract",)


@admin.register(StaffMeasurement)
class StaffMeasurementAdmin(PolicyAdminMixin, SimpleHistoryAdmin):
    list_display = ("staff_member", "kpi", "period_start", "value", "source")
    list_select_related = ("staff_member", "kpi")
    raw_id_fields = ("staff_member", "recorded_by")
