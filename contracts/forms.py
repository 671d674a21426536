from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q

from accounts import roles
from common.forms import BootstrapModelForm, DateInput
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
        # Two vendors may both have a "Cebu IT Park": without JavaScript (which keeps the list to the chosen
        # vendor) the vendor in the label is what tells them apart.
        self.fields["delivery_center"].label_from_instance = lambda dc: f"{dc.vendor.name} · {dc}"
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
        kpi_field = self.fields["kpi"]
        kpi_field.queryset = KPI.objects.order_by("name")
        kpi_field.label_from_instance = lambda k: (
            f"{k.name} ({k.get_unit_display()}, {k.get_direction_display().lower()})"
        )
        if self.instance.contract_id:
            kpi_field.choices = self.kpi_choices(kpi_field, self.instance.contract)
        if not self.instance.pk and self.instance.contract_id:
            self.fields["effective_from"].initial = self.instance.contract.start_date

    @staticmethod
    def kpi_choices(field, contract):
        """The KPIs that suit the contract's service type first, the rest under "Other KPIs"."""
        suited, others = [], []
        for kpi in field.queryset:
            choice = (kpi.pk, field.label_from_instance(kpi))
            (suited if contract.service_type in (kpi.service_types or []) else others).append(choice)
        choices = [("", field.empty_label)]
        if not suited:
            return choices + others
        choices.append((f"{contract.get_service_type_display()} KPIs", suited))
        if others:
            choices.append(("Other KPIs", others))
        return choices

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
            self.fields["contract"].queryset = Contract.objects.restrict(self.user, "change").select_related("vendor")
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
        replacement = self.fields["replacement"]
        # Any of the contract's staff is looked up (so a wrong pick gets a clear reason from
        # clean_replacement); only those who may replace are offered, plus the one already recorded.
        replacement.queryset = contract.staff.exclude(pk=self.instance.departed_id).order_by("full_name")
        offered = list(self.instance.replacement_candidates().order_by("joined_on", "full_name"))
        current = self.instance.replacement if self.instance.replacement_id else None
        if current is not None and current not in offered:
            offered.insert(0, current)
        replacement.choices = [("", "---------")] + [
            (m.pk, f"{m.full_name} ({m.employee_ref}, joined {m.joined_on:%Y-%m-%d})") for m in offered
        ]
        if self.instance.departed.left_on:
            replacement.help_text = (
                f"Staff on {contract.reference} who joined on or after "
                f"{self.instance.departed.left_on:%Y-%m-%d} and have not left."
            )
        field = contract.replacement_fulfilment_field()
        self.fields[field].help_text = "This date fulfils the obligation for a " + (
            "BPO contract (the vendor only supplies candidates)."
            if field == "candidate_provided_on"
            else f"{contract.get_engagement_model_display()} contract (the replacement must be productive)."
        )

    def clean_replacement(self):
        member = self.cleaned_data.get("replacement")
        if member is not None and member.pk != self.instance.replacement_id:
            problem = self.instance.replacement_problem(member)
            if problem:
                raise forms.ValidationError(problem)
        return member
