"""``/accounts/alerts/``: a manager's breach alerts — the channel, a test alert, the last alerts sent."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views import View

from common.policy import perm_name

from . import deliveries
from .forms import AlertSubscriptionForm
from .models import AlertSubscription, Delivery

RECENT = 10


class AlertsView(View):
    template_name = "outbound/alerts.html"

    def dispatch(self, request, *args, **kwargs):
        # Whoever may manage contracts (managers, admins) may have alerts: their own, nobody else's.
        if not request.user.has_perm(perm_name(AlertSubscription, "add")):
            raise PermissionDenied
        self.subscription = AlertSubscription.objects.filter(user=request.user).first() or AlertSubscription(
            user=request.user
        )
        return super().dispatch(request, *args, **kwargs)

    def render_page(self, form):
        recent = []
        if self.subscription.pk:
            recent = list(
                Delivery.objects.filter(subscription=self.subscription).select_related("event").order_by("-id")[:RECENT]
            )
        context = {"form": form, "subscription": self.subscription, "recent": recent}
        return render(self.request, self.template_name, context)

    def get(self, request):
        return self.render_page(AlertSubscriptionForm(instance=self.subscription, user=request.user))

    def post(self, request):
        form = AlertSubscriptionForm(request.POST, instance=self.subscription, user=request.user)
        if not form.is_valid():
            return self.render_page(form)  # the errors next to their fields
        subscription = form.instance
        if not request.user.has_perm(perm_name(AlertSubscription, "change"), subscription):
            raise PermissionDenied
        if "send_test" in request.POST:  # with the settings as typed, saved or not
            outcome = deliveries.send_test_alert(subscription)
            if outcome.succeeded:
                answer = f" (HTTP {outcome.status_code}, {outcome.response_ms} ms)" if outcome.status_code else ""
                messages.success(request, f"Test alert sent by {subscription.get_channel_display()}{answer}.")
            else:
                messages.error(request, f"The test alert could not be sent: {outcome.error or outcome.status_code}")
            return self.render_page(form)
        form.save()
        messages.success(request, "Alerts saved." if subscription.active else "Alerts turned off.")
        return redirect("outbound:alerts")
