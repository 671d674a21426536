from django import forms

from common.forms import BootstrapMixin

from .channels import webhook_url_error
from .choices import AlertChannel
from .models import AlertSubscription


class AlertSubscriptionForm(BootstrapMixin, forms.ModelForm):
    """A manager's breach alerts: the channel, its webhook URL (Slack, Teams), on or off."""

    class Meta:
        model = AlertSubscription
        fields = ("channel", "webhook_url", "active")
        labels = {"active": "Send me alerts", "channel": "How"}
        help_texts = {
            "webhook_url": "For Slack or Teams: the channel's incoming-webhook URL (https).",
        }
        widgets = {"channel": forms.RadioSelect, "webhook_url": forms.URLInput(attrs={"placeholder": "https://"})}

    def clean(self):
        cleaned = super().clean()
        channel = cleaned.get("channel")
        if channel == AlertChannel.EMAIL:
            cleaned["webhook_url"] = ""
            if not self.user.email:
                self.add_error(
                    "channel", "Your account has no e-mail address: ask an admin to add one, or use Slack or Teams."
                )
        elif channel and "webhook_url" not in self.errors:
            error = webhook_url_error(channel, cleaned.get("webhook_url", ""))
            if error:
                self.add_error("webhook_url", error)
        return cleaned
