from django import forms

from common.forms import BootstrapModelForm, DateInput
from contracts.models import Contract
from kpis.imports import ImportFileError, read_rows
from kpis.models import Breach

from .models import CorrectiveAction


class CorrectiveActionForm(BootstrapModelForm):
    """Opening or editing an action. The contract is fixed once opened; breaches are of that contract only."""

    # What a person edits on an existing action (besides its breaches and progress notes); the vendor edits
    # only the progress notes and the status (``governance.actions``).
    EDITABLE_FIELDS = ("title", "root_cause", "action", "owner_side", "owner_name", "due_on")

    class Meta:
        model = CorrectiveAction
        fields = [
            "contract",
            "breaches",
            "title",
            "root_cause",
            "action",
            "owner_side",
            "owner_name",
            "due_on",
            "progress_notes",
        ]
        widgets = {
            "due_on": DateInput(),
            "root_cause": forms.Textarea(attrs={"rows": 3}),
            "action": forms.Textarea(attrs={"rows": 3}),
            "progress_notes": forms.Textarea(attrs={"rows": 3}),
            "breaches": forms.CheckboxSelectMultiple,
        }
        help_texts = {"breaches": "Breaches of this contract the action answers."}

    def __init__(self, *args, contract=None, **kwargs):
        super().__init__(*args, **kwargs)
        contract = contract or (self.instance.contract if self.instance.contract_id else None)
        self.contract = contract
        if contract is not None:
            self.fields["contract"].queryset = Contract.objects.filter(pk=contract.pk)
            self.fields["contract"].initial = contract.pk
            self.fields["contract"].disabled = True
            self.fields["contract"].widget = forms.HiddenInput()
            self.fields["breaches"].queryset = (
                Breach.objects.filter(contract=contract).exclude(status="withdrawn").select_related("sla__kpi")
            ) | Breach.objects.filter(pk__in=self.instance.breaches.all() if self.instance.pk else [])
        else:
            self.fields["contract"].queryset = Contract.objects.restrict(self.user, "change").select_related("vendor")
            self.fields["breaches"].queryset = Breach.objects.exclude(status="withdrawn").select_related(
                "contract", "sla__kpi"
            )
        self.fields["breaches"].label_from_instance = lambda b: (
            f"#{b.pk} {b.get_severity_display()} {b.get_kind_display().lower()} · "
            f"{b.sla.kpi.name if b.sla_id else 'replacement'} · {b.period_start:%Y-%m-%d}"
        )

    def clean(self):
        cleaned = super().clean()
        contract = cleaned.get("contract") or self.contract
        breaches = cleaned.get("breaches")
        if contract is not None and breaches:
            others = [b for b in breaches if b.contract_id != contract.pk]
            if others:
                listed = ", ".join(f"#{b.pk} ({b.contract.reference})" for b in others)
                self.add_error("breaches", f"Only breaches of contract {contract.reference} can be linked: {listed}.")
        return cleaned


class StaffFigureImportForm(forms.Form):
    file = forms.FileField(
        help_text="CSV or XLSX: employee ref., KPI code, period start (YYYY-MM-DD), value. A header row is optional."
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            self.rows = read_rows(upload)
        except ImportFileError as error:
            raise forms.ValidationError(str(error))
        return upload
