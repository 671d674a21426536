from decimal import Decimal

from django import forms
from django.db import transaction
from django.utils import timezone

from common.forms import BootstrapForm, BootstrapModelForm
from common.validators import LONG_TEXT_MAX_LENGTH, SHORT_TEXT_MAX_LENGTH

from . import periods, recording
from .choices import BreachStatus, Frequency, MeasurementSource, Unit
from .models import Breach, Measurement


class KPIEntryForm(BootstrapForm):
    """The figures of one KPI entry page (``kpis.entry.EntryPage``): every SLA of the page's frequency,
    one figure (and note) for each of its periods within the page's period that is due.

    When the page shows one period per SLA the fields are ``value_<sla id>`` / ``note_<sla id>``; when it
    shows several (the days of a week) ``value_<sla id>_<YYYY-MM-DD>`` / ``note_…``.

    Which periods take a figure is ``kpis.recording``'s rule, shared with the import: an SLA not in
    force in its period is left out; one whose period has not ended is listed with the day its figure
    can be recorded, and no field to type it in.
    """

    def __init__(self, *args, contract, page, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.contract = contract
        self.page = page
        self.today = today or timezone.localdate()
        self.rows = []
        self.groups = []
        slas = page.shown_slas
        windows = list(periods.periods_between(page.frequency, page.start, page.end))
        existing = (
            {
                (m.sla_id, m.period_start): m
                for m in Measurement.objects.filter(
                    sla__in=slas, period_start__gte=windows[0][0], period_start__lte=windows[-1][0]
                )
            }
            if slas
            else {}
        )
        for sla in slas:
            group = {"sla": sla, "rows": []}
            for start, end in windows:
                if not recording.figure_due(sla, start, end):
                    continue
                suffix = f"{sla.pk}" if page.one_period_per_sla else f"{sla.pk}_{start.isoformat()}"
                row = self._add_row(sla, start, end, existing.get((sla.pk, start)), suffix)
                group["rows"].append(row)
                self.rows.append(row)
            if group["rows"]:
                self.groups.append(group)
        for name, field in self.fields.items():
            css = "form-control form-control-sm"
            field.widget.attrs["class"] = css
            field.widget.attrs["aria-label"] = field.widget.attrs.get("aria-label", name)

    def _add_row(self, sla, start, end, current, suffix):
        value_name, note_name = f"value_{suffix}", f"note_{suffix}"
        error = recording.figure_period_error(sla, start, self.today)
        label = periods.describe_period(sla.frequency, start)
        row = {
            "sla": sla,
            "start": start,
            "end": end,
            "label": label,
            "day_label": start.strftime("%a %-d %b") if sla.frequency == Frequency.DAILY else label,
            "current": current,
            "computed": sla.kpi.is_computed,
            "blocked": recording.as_sentence(error) if error else "",
            "value_name": value_name,
            "note_name": note_name,
        }
        if sla.kpi.is_computed or error:
            return row  # attrition is computed from the roster, never typed in; a running period waits
        is_percent = sla.kpi.unit == Unit.PERCENT
        self.fields[value_name] = forms.DecimalField(
            required=False,
            min_value=Decimal("0"),
            max_value=Decimal("100") if is_percent else None,
            max_digits=14,
            decimal_places=2,
            label=sla.kpi.name,
            initial=current.value if current else None,
            widget=forms.NumberInput(
                attrs={"step": "any", "inputmode": "decimal", "aria-label": f"{sla.kpi.name}, {label}"}
            ),
            error_messages={
                "max_value": f"{sla.kpi.name} is a percentage: give a value between 0 and 100.",
                "min_value": "A KPI figure cannot be negative.",
            },
        )
        self.fields[note_name] = forms.CharField(
            required=False,
            max_length=SHORT_TEXT_MAX_LENGTH,
            label="Note",
            initial=current.note if current else "",
            widget=forms.TextInput(attrs={"aria-label": f"Note, {sla.kpi.name}, {label}"}),
        )
        return row

    def bound_row(self, row):
        if row["computed"] or row["blocked"]:
            return row
        return {**row, "value": self[row["value_name"]], "note": self[row["note_name"]]}

    @property
    def has_inputs(self):
        return any(not (row["computed"] or row["blocked"]) for row in self.rows)

    def bound_rows(self):
        for row in self.rows:
            yield self.bound_row(row)

    def bound_groups(self):
        """``[{"sla", "rows"}]``: the rows of each SLA, bound to their fields, for the template."""
        return [{"sla": g["sla"], "rows": [self.bound_row(r) for r in g["rows"]]} for g in self.groups]

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not any(cleaned.get(r["value_name"]) is not None for r in self.rows):
            raise forms.ValidationError("Enter at least one figure.")
        return cleaned

    @transaction.atomic
    def save(self, user):
        """Create or correct one measurement per filled-in SLA; returns ``(sla_id, period_start)`` of
        each figure that changed."""
        changed = []
        for row in self.rows:
            if row["computed"] or row["blocked"]:
                continue
            value = self.cleaned_data.get(row["value_name"])
            if value is None:
                continue
            note = self.cleaned_data.get(row["note_name"], "")
            current = row["current"]
            if current is not None:
                if current.value == value and current.note == note:
                    continue
                current.value, current.note = value, note
                current.source, current.recorded_by, current.recorded_at = (
                    MeasurementSource.MANUAL,
                    user,
                    timezone.now(),
                )
                current.save()
            else:
                Measurement.objects.create(
                    sla=row["sla"],
                    period_start=row["start"],
                    period_end=row["end"],
                    value=value,
                    note=note,
                    source=MeasurementSource.MANUAL,
                    recorded_by=user,
                )
            changed.append((row["sla"].pk, row["start"]))
        return changed


class MeasurementImportForm(BootstrapForm):
    file = forms.FileField(
        label="CSV or XLSX file",
        help_text=(
            "Columns: contract reference, KPI code, period start (YYYY-MM-DD), value. A header row is optional. "
            "CSV in UTF-8, UTF-16 or Windows-1252 / Latin-1; up to 50,000 rows."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        name = upload.name.lower()
        if not name.endswith((".csv", ".xlsx", ".txt")):
            raise forms.ValidationError("Upload a .csv or .xlsx file.")
        if upload.size > 20 * 1024 * 1024:
            raise forms.ValidationError("The file is larger than 20 MB; split it.")
        return upload


WITHDRAWN_HELP = (
    "Withdrawn by the SLA engine: it no longer holds (the figure meets the SLA, or the report arrived). "
    "If it holds again it comes back with the status it had."
)


class BreachEditForm(BootstrapModelForm):
    """Status and notes. Waiving needs a reason; the reason is appended to the notes with who and when."""

    reason = forms.CharField(
        required=False,
        max_length=SHORT_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required to waive a breach; added to the notes.",
    )

    class Meta:
        model = Breach
        fields = ["status", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 4})}

    ALLOWED = [BreachStatus.OPEN, BreachStatus.ACKNOWLEDGED, BreachStatus.WAIVED, BreachStatus.RESOLVED]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(v, label) for v, label in self.fields["status"].choices if v in self.ALLOWED]
        if self.instance.status not in self.ALLOWED:
            choices.append((self.instance.status, self.instance.get_status_display()))
        self.fields["status"].choices = choices
        if self.instance.status == BreachStatus.WITHDRAWN:
            # It does not hold: nobody can act on it. It comes back with its last status if it holds again.
            self.fields["status"].disabled = True
            self.fields["status"].help_text = WITHDRAWN_HELP
        if self.is_bound and "notes" not in self.data:
            # The quick buttons (acknowledge / resolve / waive) post only the status and a reason.
            del self.fields["notes"]

    def clean(self):
        cleaned = super().clean()
        status, reason = cleaned.get("status"), (cleaned.get("reason") or "").strip()
        if status == BreachStatus.WAIVED and self.instance.status != BreachStatus.WAIVED and not reason:
            self.add_error("reason", "Give a reason to waive this breach.")
        if reason:
            notes = cleaned.get("notes", self.instance.notes) or ""
            # The reason is appended with a stamp of about 60 characters: the notes must still fit.
            if len(notes) + len(reason) + 80 > LONG_TEXT_MAX_LENGTH:
                self.add_error(
                    "reason",
                    f"With this reason the notes would pass {LONG_TEXT_MAX_LENGTH:,} characters: "
                    "shorten the reason or the notes.",
                )
        return cleaned

    def save(self, commit=True):
        breach = super().save(commit=False)
        reason = (self.cleaned_data.get("reason") or "").strip()
        if reason:
            who = self.user.get_full_name() or self.user.username if self.user else "someone"
            stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
            line = f"[{stamp} {who} → {breach.get_status_display().lower()}] {reason}"
            breach.notes = f"{breach.notes.rstrip()}\n{line}".strip()
        status_label = breach.get_status_display().lower()
        breach._change_reason = (f"{status_label}: {reason}" if reason else status_label)[:100]
        if commit:
            breach.save_workflow()  # only what a person owns, decided from the row as it is now
        return breach
