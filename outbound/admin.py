"""Admins register webhook endpoints here, and read every delivery with each of its tries (read-only)."""

from django import forms
from django.contrib import admin
from django.db import transaction
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone
from django.utils.html import format_html

from access.admin_mixins import PolicyAdminMixin
from common.admin_tools import BigTableAdminMixin

from .choices import DeliveryStatus, EventType
from .models import Delivery, DeliveryAttempt, WebhookEndpoint
from .tasks import deliver


class WebhookEndpointForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="The events POSTed to this URL.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("name", "url", "secret", "events", "active")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(PolicyAdminMixin, admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ("name", "url", "events_display", "active", "last_delivery", "created_at")
    list_filter = ("active",)
    search_fields = ("name", "url")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(last_delivered_at=Max("deliveries__delivered_at"))

    @admin.display(description="events")
    def events_display(self, endpoint):
        return ", ".join(endpoint.events)

    @admin.display(description="last delivered", ordering="last_delivered_at")
    def last_delivery(self, endpoint):
        return endpoint.last_delivered_at


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fields = ("number", "started_at", "succeeded", "status_code", "response_ms", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("outbound.view_delivery", obj)


@admin.register(Delivery)
class DeliveryAdmin(PolicyAdminMixin, BigTableAdminMixin, admin.ModelAdmin):
    """The delivery log: read-only; "Try again now" queues one more try of failed or pending deliveries."""

    list_display = ("id", "event_type", "target", "status", "attempts", "last_status", "created_at", "delivered_at")
    list_filter = ("status", "event__type", "endpoint")
    list_select_related = ("event", "endpoint", "subscription__user")
    search_fields = ("=id", "=event__id", "endpoint__name", "subscription__user__username")
    fields = ("event", "endpoint", "subscription", "status", "attempts", "next_attempt_at", "created_at",
              "delivered_at", "idempotency_key", "body")  # fmt: skip
    readonly_fields = fields
    inlines = [DeliveryAttemptInline]
    actions = ["try_again_now"]

    def get_queryset(self, request):
        last = DeliveryAttempt.objects.filter(delivery=OuterRef("pk")).order_by("-number").values("status_code")
        return super().get_queryset(request).annotate(last_status_code=Subquery(last[:1]))

    @admin.display(description="event", ordering="event__type")
    def event_type(self, delivery):
        return format_html("{} <small class='text-muted'>#{}</small>", delivery.event.type, delivery.event_id)

    @admin.display(description="to")
    def target(self, delivery):
        if delivery.endpoint_id:
            return delivery.endpoint.name
        return f"alert: {delivery.subscription.user.get_username()} ({delivery.subscription.get_channel_display()})"

    @admin.display(description="last answer")
    def last_status(self, delivery):
        return delivery.last_status_code

    @admin.display(description="X-SLA-Delivery")
    def idempotency_key(self, delivery):
        return delivery.idempotency_key

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # the log is what happened: nobody edits it

    def has_retry_permission(self, request):
        # The policy lets admins change deliveries; this admin offers no edit form, only this action.
        return request.user.has_perm("outbound.change_delivery")

    @admin.action(description="Try the selected failed or pending deliveries again now", permissions=["retry"])
    def try_again_now(self, request, queryset):
        retry = queryset.filter(status__in=[DeliveryStatus.FAILED, DeliveryStatus.PENDING])
        ids = list(retry.values_list("pk", flat=True))
        Delivery.objects.filter(pk__in=ids).update(status=DeliveryStatus.PENDING, next_attempt_at=timezone.now())
        for pk in ids:
            transaction.on_commit(lambda pk=pk: deliver.delay(pk))
        self.message_user(request, f"{len(ids)} deliver{'ies' if len(ids) != 1 else 'y'} queued for one more try.")
