from django import forms

from common.forms import BootstrapModelForm

from .models import DeliveryCenter, Vendor


class VendorForm(BootstrapModelForm):
    class Meta:
        model = Vendor
        fields = [
            "name",
            "country",
            "status",
            "risk_tier",
            "website",
            "contact_name",
            "contact_email",
            "certifications",
            "notes",
        ]
        widgets = {
            "certifications": forms.CheckboxSelectMultiple,
            "notes": forms.Textarea(attrs={"rows": 3}),
        }


class DeliveryCenterForm(BootstrapModelForm):
    class Meta:
        model = DeliveryCenter
        fields = ["name", "city", "country", "timezone", "seats", "operates_24x7"]
