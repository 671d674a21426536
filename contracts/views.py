from django.contrib import messages
from django.db import transaction
from django.db.models import Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator

from common.lookups import LookupView
from common.views import ObjectDetailView, ObjectEditView, ObjectListView, WriteFormView
from kpis import entry, imports, pending, periods
from kpis.charts import measurement_chart
from kpis.choices import OPEN_STATUSES, BreachKind
from kpis.figures import contracts_with_counts
from kpis.forms import KPIEntryForm, MeasurementImportForm
from kpis.models import SLA, Measurement

from . import replacements
from .filtersets import CONTRACT_OWNERS, ContractFilterSet, StaffMemberFilterSet
from .forms import ContractForm, DepartureForm, ObligationForm, SLAForm, StaffMemberForm
from .models import Contract, ReplacementObligation, StaffMember
from .tables import ContractTable, StaffMemberTable

# --- contracts ----------------------------------------------------------------------------


class ContractListView(ObjectListView):
    model = Contract
    queryset = contracts_with_counts(Contract.objects.for_list())
    filterset_class = ContractFilterSet
    table_class = ContractTable
    add_url_name = "contracts:contract_add"


class ContractDetailView(ObjectDetailView):
    model = Contract
    template_name = "contracts/contract_detail.html"

    def get_queryset(self):
        return contracts_with_counts(Contract.objects.for_list())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        contract = self.object
        today = timezone.localdate()
        slas = list(contract.slas.select_related("kpi").with_latest().order_by("-active", "kpi__name"))
        history = {}
        for m in (
            Measurement.objects.filter(sla__contract=contract, period_end__gte=periods.month_window_start(today, 12))
            .with_outcome()
            .order_by("period_start")
        ):
            history.setdefault(m.sla_id, []).append(m)
        for sla in slas:
            sla.history = history.get(sla.pk, [])
            sla.chart = measurement_chart(sla, sla.history) if sla.history else None
            sla.chart_id = f"sla-chart-{sla.pk}"
        staff = list(contract.staff.select_related("replacement_obligation").order_by("left_on", "full_name"))
        # The roster already holds every obligation of the contract (joined above): no second query.
        obligations = []
        for member in staff:
            member.obligation_info = getattr(member, "replacement_obligation", None)
            if member.obligation_info is not None:
                member.obligation_info.current_state = member.obligation_info.state(today)
                obligations.append(member.obligation_info)
        obligations.sort(key=lambda o: o.due_on, reverse=True)
        breaches = list(contract.breaches.select_related("sla__kpi").major_first()[:100])
        credits = contract.breaches.exclude(status="withdrawn").aggregate(
            total=Sum("service_credit"), earned_back=Sum("credit_earned_back")
        )
        months = (
            max(0, (min(today, contract.end_date) - contract.start_date).days // 30)
            if contract.start_date <= today
            else 0
        )
        context.update(
            slas=slas,
            has_charts=any(sla.chart for sla in slas),
            staff=staff,
            active_staff=[s for s in staff if s.left_on is None],
            obligations=obligations,
            breaches=breaches,
            credits_total=credits["total"] or 0,
            credits_earned_back=credits["earned_back"] or 0,
            annual_saving=contract.monthly_saving * 12,
            saving_to_date=contract.monthly_saving * months,
            months_running=months,
        )
        return context


class ContractEditView(ObjectEditView):
    model = Contract
    form_class = ContractForm
    template_name = "contracts/contract_edit.html"

    def new_instance(self):
        return Contract(owner=self.request.user)

    def get_initial(self):
        initial = super().get_initial()
        if self.object is None and self.request.GET.get("vendor", "").isdigit():
            initial["vendor"] = self.request.GET["vendor"]
        return initial

    def get_cancel_url(self):
        return self.object.get_absolute_url() if self.object else reverse("contracts:contract_list")


# --- SLAs ---------------------------------------------------------------------------------


class SLADetailView(ObjectDetailView):
    model = SLA
    template_name = "contracts/sla_detail.html"

    def get_queryset(self):
        return SLA.objects.select_related("contract__vendor", "contract__owner", "kpi").with_latest()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        measurements = list(
            self.object.measurements.with_outcome().select_related("recorded_by").order_by("-period_start")[:120]
        )
        breaches = list(self.object.breaches.major_first()[:50])
        context.update(
            contract=self.object.contract,
            measurements=measurements,
            chart=measurement_chart(self.object, measurements[:24]) if measurements else None,
            breaches=breaches,
            entry_url=entry.sla_entry_url(self.object, owed_period_start(self.object, breaches, timezone.localdate())),
        )
        return context


def owed_period_start(sla, breaches, today):
    """The period "Enter figures" opens for ``sla``: the oldest of its open missing reports among
    ``breaches``, else its last complete period (the next report owed)."""
    missing = [b.period_start for b in breaches if b.kind == BreachKind.MISSING_REPORT and b.status in OPEN_STATUSES]
    return min(missing) if missing else periods.previous_period_start(sla.frequency, today)


class SLAEditView(ObjectEditView):
    model = SLA
    form_class = SLAForm
    parent_model = Contract
    parent_kwarg = "contract_pk"

    def get_queryset(self):
        return SLA.objects.filter(contract_id=self.kwargs["contract_pk"]).select_related("contract", "kpi")

    def new_instance(self):
        return SLA(contract=self.parent)


# --- KPI figures --------------------------------------------------------------------------


# Not in the request's transaction: the save commits inside the view, so the page can tell whether its
# breach check was queued (``kpis.pending``).
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class KPIEntryView(WriteFormView):
    """One contract, one period (``?period=`` a month, ISO week, day or quarter; ``&frequency=`` a finer
    one inside it): every SLA of that frequency with expected / minimum, all figures in one form.
    A bad period or frequency answers 400 with the reason on the page, and saves nothing."""

    model = Measurement
    parent_model = Contract
    parent_kwarg = "contract_pk"
    template_name = "contracts/kpi_entry.html"

    def get_page(self):
        source = self.request.POST if self.request.method == "POST" else self.request.GET
        return entry.resolve_page(self.parent, source.get("period"), source.get("frequency"), timezone.localdate())

    def render_page(self, page, form=None):
        return render(
            self.request,
            self.template_name,
            {
                "contract": self.parent,
                "page": page,
                "form": form,
                "groups": form.bound_groups() if form is not None else [],
                "rows": list(form.bound_rows()) if form is not None else [],
                "nav": entry.navigation(page, timezone.localdate()),
                "switch": page.switch_links(),
            },
            status=400 if page.error else 200,
        )

    def get(self, request, *args, **kwargs):
        page = self.get_page()
        if page.error:
            return self.render_page(page)
        return self.render_page(page, KPIEntryForm(contract=self.parent, page=page))

    def post(self, request, *args, **kwargs):
        page = self.get_page()
        if page.error:
            return self.render_page(page)
        form = KPIEntryForm(request.POST, contract=self.parent, page=page)
        if not form.is_valid():
            return self.render_page(page, form)
        with transaction.atomic():  # committed here, so the message can say whether the check was queued
            changed = form.save(request.user)
        saved = f"Saved {len(changed)} figure{'s' if len(changed) != 1 else ''}."
        messages.success(request, pending.queued_message(saved) if changed else "Nothing changed.")
        return redirect(self.parent.get_absolute_url())


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class MeasurementImportView(WriteFormView):
    """Upload a CSV / XLSX of figures: all rows checked, all written in one transaction or none."""

    model = Measurement
    template_name = "contracts/measurement_import.html"

    def get(self, request, *args, **kwargs):
        return render(request, self.template_name, {"form": MeasurementImportForm()})

    def post(self, request, *args, **kwargs):
        form = MeasurementImportForm(request.POST, request.FILES)
        result = None
        if form.is_valid():
            try:
                rows = imports.read_rows(form.cleaned_data["file"])
            except imports.ImportFileError as exc:
                form.add_error("file", str(exc))
            else:
                with transaction.atomic():
                    result = imports.import_measurements(rows, request.user)
                    if result.ok:
                        pending.request_figure_check(result.figures)
                if result.ok:
                    saved = f"Imported: {result.created} new, {result.updated} corrected, {result.unchanged} unchanged."
                    messages.success(request, pending.queued_message(saved) if result.figures else saved)
                    return redirect("contracts:measurement_import")
        status = 400  # the file, or a row of it, is refused: the page says why, next to the file or the row
        return render(request, self.template_name, {"form": form, "result": result}, status=status)


# --- staffing -----------------------------------------------------------------------------


class StaffListView(ObjectListView):
    model = StaffMember
    queryset = StaffMember.objects.select_related("contract__vendor", "replacement_obligation")
    filterset_class = StaffMemberFilterSet
    table_class = StaffMemberTable
    add_url_name = "staff:staff_add"
    title = "Staff"
    count_cap = 10_000  # hundreds of thousands of people at the xl preset (common.pagination)

    @property
    def export_name(self):
        return "staff"


class StaffDetailView(ObjectDetailView):
    model = StaffMember
    template_name = "staff/staff_detail.html"

    def get_queryset(self):
        return StaffMember.objects.select_related("contract__vendor", "contract__owner")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        obligation = (
            ReplacementObligation.objects.select_related("departed__contract", "replacement")
            .filter(departed=self.object)
            .first()
        )
        context.update(
            obligation=obligation,
            obligation_state=obligation.state() if obligation else None,
            replaces=list(self.object.replaces.select_related("departed")),
            fulfilment_field=self.object.contract.replacement_fulfilment_field(),
        )
        return context


class StaffEditView(ObjectEditView):
    model = StaffMember
    form_class = StaffMemberForm

    def get_queryset(self):
        return StaffMember.objects.select_related("contract")

    def get_parent(self):
        """Adding staff to a chosen contract is a write on that contract: checked like any other."""
        if self.pk_url_kwarg in self.kwargs:
            return None
        pk = self.request.POST.get("contract") or self.request.GET.get("contract")
        return Contract.objects.filter(pk=pk).first() if pk and str(pk).isdigit() else None

    def get_initial(self):
        initial = super().get_initial()
        if self.object is None and self.request.GET.get("contract", "").isdigit():
            initial["contract"] = self.request.GET["contract"]
        return initial

    def get_cancel_url(self):
        return self.object.get_absolute_url() if self.object else reverse("staff:staff_list")

    def save_form(self, form):
        staff_member = form.save()
        replacements.ensure_obligation(staff_member)
        return staff_member


class DepartureView(StaffEditView):
    form_class = DepartureForm
    template_name = "staff/departure.html"
    success_message = "Departure recorded; the replacement obligation is open."


class ObligationEditView(ObjectEditView):
    model = ReplacementObligation
    form_class = ObligationForm
    template_name = "staff/obligation_edit.html"
    success_message = "Replacement updated."

    def get_object(self, queryset=None):
        return get_object_or_404(
            ReplacementObligation.objects.select_related("departed__contract"), departed_id=self.kwargs["pk"]
        )

    def get_success_url(self):
        return self.object.departed.get_absolute_url()

    def get_cancel_url(self):
        return self.object.departed.get_absolute_url()


class ContractLookupView(LookupView):
    queryset = Contract.objects.order_by("reference")
    search_fields = ("reference", "title")


class OwnerLookupView(LookupView):
    queryset = CONTRACT_OWNERS
    search_fields = ("username", "first_name", "last_name")
