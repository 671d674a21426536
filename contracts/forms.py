from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q

from accounts import roles
from common.forms import BootstrapModelForm, DateInput
from common.permissions import editable_contracts
from kpis.models import KPI, SLA
from vendors.geography import suggest_sourcing_model
from vendors.models import DeliveryCenter, Vendor

from .models import Contract, ReplacementObligation, StaffMember


class ContractForm(BootstrapModelForm):
    class Meta:
        model = Contract
        fields = [
            "vendor",
            "reference",
            "title",
            "owner",
            "status",
            "engagement_model",
            "service_type",
            "service_line",
            "delivery_center",
            "sourcing_model",
            "start_date",
            "end_date",
            "notice_days",
            "auto_renew",
            "currency",
            "monthly_fee",
            "baseline_monthly_cost",
            "at_risk_percent",
            "contracted_headcount",
            "replacement_days",
            "reporting_grace_days",
            "missing_report_is_breach",
            "earn_back_periods",
            "notes",
        ]
        widgets = {
            "start_date": DateInput(),
            "end_date": DateInput(),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["vendor"].queryset = Vendor.objects.order_by("name")
        self.fields["delivery_center"].queryset = DeliveryCenter.objects.select_related("vendor").order_by(
            "vendor__name", "name"
        )
        self.fields["sourcing_model"].required = False
        self.fields["sourcing_model"].help_text = (
            "Pre-filled from the delivery centre's country against the home country "
            f"({settings.HOME_COUNTRY}); left blank, it is derived when saved."
        )
        if roles.is_admin(self.user):
            User = get_user_model()
            self.fields["owner"].queryset = (
                User.objects.filter(
                    Q(is_superuser=True) | Q(groups__name__in=[roles.MANAGERS_GROUP, roles.ADMINS_GROUP])
                )
                .distinct()
                .order_by("username")
            )
            if not self.instance.pk:
                self.fields["owner"].initial = self.user.pk
        else:
            # A manager creates contracts for themselves and cannot hand them to someone else.
            del self.fields["owner"]

    def sourcing_suggestions(self):
        """{centre id: suggestion} and {vendor id: suggestion} for the small pre-fill script."""
        home = settings.HOME_COUNTRY
        centres = {
            str(dc.pk): {"vendor": str(dc.vendor_id), "sourcing": suggest_sourcing_model(dc.country.code, home)}
            for dc in self.fields["delivery_center"].queryset
        }
        return {"centres": centres}


class SLAForm(BootstrapModelForm):
    class Meta:
        model = SLA
        fields = [
            "kpi",
            "expected",
            "minimum",
            "frequency",
            "credit_allocation_percent",
            "effective_from",
            "effective_to",
            "active",
        ]
        widgets = {"effective_from": DateInput(), "effective_to": DateInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kpi"].queryset = KPI.objects.order_by("name")
        self.fields["kpi"].label_from_instance = lambda k: (
            f"{k.name} ({k.get_unit_display()}, {k.get_direction_display().lower()})"
        )
        if not self.instance.pk and self.instance.contract_id:
            self.fields["effective_from"].initial = self.instance.contract.start_date

    def clean(self):
        cleaned = super().clean()
        kpi, effective_from = cleaned.get("kpi"), cleaned.get("effective_from")
        if kpi and effective_from and self.instance.contract_id:
            clash = SLA.objects.filter(contract_id=self.instance.contract_id, kpi=kpi, effective_from=effective_from)
            if self.instance.pk:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error("kpi", "This contract already has an SLA for this KPI starting on that date.")
        return cleaned


class StaffMemberForm(BootstrapModelForm):
    class Meta:
        model = StaffMember
        fields = ["contract", "employee_ref", "full_name", "role", "joined_on", "left_on", "leave_reason"]
        widgets = {"joined_on": DateInput(), "left_on": DateInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["contract"]
        else:
            self.fields["contract"].queryset = editable_contracts(self.user).select_related("vendor")
            for name in ("left_on", "leave_reason"):
                del self.fields[name]

    def clean(self):
        cleaned = super().clean()
        contract = cleaned.get("contract") or (self.instance.contract if self.instance.contract_id else None)
        ref = cleaned.get("employee_ref")
        if contract and ref:
            clash = StaffMember.objects.filter(contract=contract, employee_ref=ref)
            if self.instance.pk:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error("employee_ref", "This employee reference is already on the contract's roster.")
        return cleaned


class DepartureForm(BootstrapModelForm):
    class Meta:
        model = StaffMember
        fields = ["left_on", "leave_reason"]
        widgets = {"left_on": DateInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["left_on"].required = True
        self.fields["left_on"].label = "Left on"
        # The reason is required by StaffMember.clean(), which words it better than "This field is required."


class ObligationForm(BootstrapModelForm):
    class Meta:
        model = ReplacementObligation
        fields = ["candidate_provided_on", "replacement_productive_on", "replacement"]
        widgets = {"candidate_provided_on": DateInput(), "replacement_productive_on": DateInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        contract = self.instance.departed.contract
        self.fields["replacement"].queryset = contract.staff.exclude(pk=self.instance.departed_id).order_by("full_name")
        field = contract.replacement_fulfilment_field()
        self.fields[field].help_text = "This date fulfils the obligation for a " + (
            "BPO contract (the vendor only supplies candidates)."
            if field == "candidate_provided_on"
            else f"{contract.get_engagement_model_display()} contract (the replacement must be productive)."
        )
