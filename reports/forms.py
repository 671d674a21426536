import datetime

from django import forms

from common.lookups import LookupSelect
from contracts.choices import ServiceType
from kpis.periods import month_end, month_start
from vendors.choices import SourcingModel
from vendors.models import Vendor

from .queries import ReportFilters


class MonthField(forms.DateField):
    """A calendar month, entered as YYYY-MM (``<input type="month">``)."""

    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")
    input_formats = ["%Y-%m", "%Y-%m-%d"]


class ReportFilterForm(forms.Form):
    start = MonthField(label="From", required=False)
    end = MonthField(label="To", required=False)
    # A type-ahead: the form renders only the chosen vendor, not thousands of <option>s.
    vendor = forms.ModelChoiceField(
        Vendor.objects.order_by("name"),
        required=False,
        empty_label="All vendors",
        widget=LookupSelect("vendors:vendor_lookup"),
    )
    service_type = forms.ChoiceField(choices=[("", "All service types"), *ServiceType.choices], required=False)
    sourcing_model = forms.ChoiceField(choices=[("", "All sourcing models"), *SourcingModel.choices], required=False)
    period = forms.ChoiceField(label="Per", choices=[("month", "Month"), ("quarter", "Quarter")], required=False)
    group = forms.ChoiceField(label="By", required=False)

    def __init__(self, *args, group_choices=None, show_period=False, default_months=(-11, 0), today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today or datetime.date.today()
        self.default_months = default_months
        if group_choices:
            self.fields["group"].choices = group_choices
        else:
            del self.fields["group"]
        if not show_period:
            del self.fields["period"]

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", "The end month cannot be before the start month.")
        if start and end and (end.year * 12 + end.month) - (start.year * 12 + start.month) >= 36:
            self.add_error("start", "Choose at most 36 months.")
        return data

    def filters(self, today):
        """The ReportFilters for valid input; defaults for anything missing or invalid."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        this_month = month_start(today)
        start = month_start(data.get("start") or month_start(this_month, self.default_months[0]))
        end = month_end(data.get("end") or month_start(this_month, self.default_months[1]))
        vendor = data.get("vendor")
        default_group = self.fields["group"].choices[0][0] if "group" in self.fields else "vendor"
        return ReportFilters(
            start=start,
            end=end,
            vendor_id=vendor.pk if vendor else None,
            service_type=data.get("service_type") or "",
            sourcing_model=data.get("sourcing_model") or "",
            period=data.get("period") or "month",
            group=data.get("group") or default_group,
            today=today,
        )
