from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views import View

from access import permissions
from common.exports import xlsx_response
from common.policy import perm_name
from common.views import ObjectDetailView, ObjectEditView, ObjectListView, WriteAccessMixin, WriteFormView
from contracts.models import Contract
from kpis import periods
from vendors.models import Vendor

from . import actions, qbr, raci, scorecards, selection
from .choices import TRANSITIONS, ActionStatus, OwnerSide, RaciAssignment
from .filtersets import CorrectiveActionFilterSet
from .forms import CorrectiveActionForm, StaffFigureImportForm
from .models import CorrectiveAction, RaciEntry, StaffMeasurement
from .pdf import PdfError, html_to_pdf, inline_css
from .tables import CorrectiveActionTable


# --- corrective actions ------------------------------------------------------------------------------------
class ActionListView(ObjectListView):
    model = CorrectiveAction
    queryset = CorrectiveAction.objects.for_list().with_effectiveness()
    filterset_class = CorrectiveActionFilterSet
    table_class = CorrectiveActionTable
    title = "Corrective actions"
    add_url_name = "governance:action_add"
    export_name = "corrective-actions"


class ActionDetailView(ObjectDetailView):
    model = CorrectiveAction
    template_name = "governance/action_detail.html"

    def get_queryset(self):
        return CorrectiveAction.objects.for_list().with_effectiveness()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        action = self.object
        context.update(
            breaches=list(action.breaches.select_related("sla__kpi").order_by("period_start")),
            history=_history_entries(action),
            transitions=[ActionStatus(s) for s in TRANSITIONS[ActionStatus(action.status)]],
            self_verification=action.status == ActionStatus.DONE and action.done_by_id == self.request.user.pk,
        )
        return context


def _history_entries(action):
    """The action's last 50 changes: when, who (a person, the vendor through its key, or the system), what."""
    entries = []
    for h in action.history.select_related("history_user").order_by("-history_date", "-history_id")[:50]:
        reason = h.history_change_reason or ""
        if h.history_user is not None:
            who = h.history_user.get_full_name() or h.history_user.username
        elif reason.startswith(actions.VENDOR_REASON_PREFIX):
            who, reason = action.contract.vendor.name, reason.removeprefix(actions.VENDOR_REASON_PREFIX)
        else:
            who = "system"
        what = "opened" if h.history_type == "+" else (reason or "edited")
        entries.append({"date": h.history_date, "who": who, "what": what, "status": h.get_status_display()})
    return entries


class ActionEditView(ObjectEditView):
    """Open an action (``?breaches=`` chosen on the breach list or a breach page, or ``?contract=``) or edit
    one. Breaches of several contracts: a page offering one action per contract (an action answers the
    breaches of one contract); withdrawn breaches are never linked, and the page says so."""

    model = CorrectiveAction
    form_class = CorrectiveActionForm
    template_name = "governance/action_edit.html"
    success_message = "Corrective action saved."

    def dispatch(self, request, *args, **kwargs):
        self.selection = None
        if "pk" not in kwargs and not request.GET.get("contract"):
            ids = selection.breach_ids(request.GET)
            if ids:
                self.selection = selection.select_breaches(ids)
                if self.selection.spans_contracts:
                    return self.choose_contract()
        return super().dispatch(request, *args, **kwargs)

    def choose_contract(self):
        user = self.request.user
        if not user.has_perm(perm_name(CorrectiveAction, "add")):
            raise PermissionDenied("You may not open corrective actions.")
        groups = [
            {"group": g, "allowed": user.has_perm(perm_name(CorrectiveAction, "add"), g.contract)}
            for g in self.selection.groups
        ]
        return render(
            self.request,
            "governance/action_choose_contract.html",
            {
                "groups": groups,
                "selection": self.selection,
                "count": sum(len(g.breaches) for g in self.selection.groups),
            },
        )

    def get_queryset(self):
        return CorrectiveAction.objects.select_related("contract")

    def get_parent(self):
        """Creating: the contract named in ``?contract=`` or of the breaches in ``?breaches=`` — the write
        check is then on that contract (a manager opens actions on their own contracts only)."""
        if "pk" in self.kwargs:
            return None
        contract_id = self.request.GET.get("contract")
        if contract_id and contract_id.isdigit():
            return get_object_or_404(Contract, pk=contract_id)
        if self.selection is not None:
            if self.selection.contract is None:
                raise Http404("None of the chosen breaches exists.")
            return self.selection.contract
        return None

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["contract"] = self.parent if self.object is None else self.object.contract
        return kwargs

    def get_initial(self):
        initial = super().get_initial()
        if self.object is None:
            initial["due_on"] = timezone.localdate() + timezone.timedelta(days=30)
            initial["owner_side"] = OwnerSide.VENDOR
            if self.parent is not None:
                initial["contract"] = self.parent.pk
            if self.selection is not None and self.selection.groups:
                breaches = self.selection.groups[0].breaches
                initial["breaches"] = [b.pk for b in breaches]
                subjects = sorted({b.sla.kpi.name if b.sla_id else "replacement" for b in breaches})
                initial["title"] = "Fix " + ", ".join(subjects) + " breach" + ("es" if len(breaches) > 1 else "")
        return initial

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["selection"] = self.selection
        return context

    def save_form(self, form):
        if self.object is not None:
            data = form.cleaned_data
            return actions.update_action(
                self.object.pk,
                actions.Actor.person(self.request.user),
                fields={name: data[name] for name in form.EDITABLE_FIELDS},
                progress_notes=data["progress_notes"],
                breaches=list(data["breaches"]),
            )
        with transaction.atomic():
            action = form.save(commit=False)
            action.opened_by = self.request.user
            action.save()
            form.save_m2m()
        return action

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except actions.TransitionError as error:
            form.add_error(None, str(error))
            return self.form_invalid(form)


class ActionStatusView(WriteAccessMixin, View):
    """POST ``status=``: one step of the workflow. A refused step (self-verification…) says why; nothing changes."""

    model = CorrectiveAction
    http_method_names = ["post"]

    def dispatch(self, request, *args, **kwargs):
        self.parent = None
        self.object = get_object_or_404(CorrectiveAction.objects.select_related("contract"), pk=kwargs["pk"])
        self.check_write_access()
        return super().dispatch(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        try:
            action = actions.change_status(self.object.pk, request.POST.get("status", ""), request.user)
        except actions.TransitionError as error:
            messages.error(request, str(error))
            return redirect(self.object.get_absolute_url())
        messages.success(request, f"Corrective action is now {action.get_status_display().lower()}.")
        return redirect(action.get_absolute_url())


# --- RACI ----------------------------------------------------------------------------------------------------
EXTRA_ROWS = 2
EXTRA_COLUMNS = 1


def _grid_from_post(data):
    """(Grid, row errors {index: msg}, column errors {index: msg}, general errors) from the grid form."""
    grid = raci.Grid()
    row_errors, column_errors, general = {}, {}, []
    try:
        n_rows, n_cols = min(int(data.get("rows", 0)), 200), min(int(data.get("columns", 0)), 30)
    except ValueError:
        return grid, {}, {}, ["The grid could not be read: reload the page."]
    parties, party_index = [], {}
    for j in range(n_cols):
        side, party = data.get(f"side-{j}", ""), data.get(f"party-{j}", "").strip()[:100]
        used = any(data.get(f"cell-{i}-{j}") for i in range(n_rows))
        if not party:
            if used:
                column_errors[j] = "Name this party."
            continue
        if side not in OwnerSide.values:
            column_errors[j] = "Choose the client or vendor side."
            continue
        if (side, party) in party_index:
            column_errors[j] = f"{OwnerSide(side).label} {party} is already a column."
            continue
        party_index[(side, party)] = j
        parties.append((side, party))
    grid.parties = parties
    column_of = {j: p for p, j in enumerate(party_index.values())}
    seen = {}
    for i in range(n_rows):
        activity = data.get(f"activity-{i}", "").strip()[:150]
        letters = {j: data.get(f"cell-{i}-{j}", "") for j in range(n_cols)}
        if not activity:
            if any(letters.values()):
                row_errors[i] = "Name this activity."
            continue
        if activity in seen:
            row_errors[i] = f"“{activity}” is already row {seen[activity] + 1}."
            continue
        seen[activity] = i
        a = len(grid.activities)
        grid.activities.append(activity)
        for j, letter in letters.items():
            if not letter or j not in column_of:
                continue
            if letter not in RaciAssignment.values:
                row_errors[i] = f"“{letter[:3]}” is not R, A, C or I."
                continue
            grid.cells[(a, column_of[j])] = letter
    # exactly one A per activity, reported on the row it was typed in
    row_of = {a: seen[activity] for a, activity in enumerate(grid.activities)}
    for a, message in raci.accountability_errors(grid).items():
        row_errors.setdefault(row_of[a], message)
    if not grid.activities and not general:
        general.append("The chart has no activities: add at least one row, or apply the default template.")
    return grid, row_errors, column_errors, general


class RaciView(WriteFormView):
    """``/contracts/<id>/raci/``: the contract's RACI chart as one grid (GET reads: anyone; POST writes)."""

    model = RaciEntry
    parent_model = Contract
    parent_kwarg = "contract_pk"
    template_name = "governance/raci.html"

    def dispatch(self, request, *args, **kwargs):
        if request.method in ("GET", "HEAD"):
            self.parent = self.get_parent()
            return View.dispatch(self, request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    def render_grid(self, grid, row_errors=None, column_errors=None, general=None, status=200):
        parties = list(grid.parties) + [("", "")] * EXTRA_COLUMNS
        rows = grid.rows()
        table = []
        for i, (activity, letters) in enumerate(rows + [("", [])] * EXTRA_ROWS):
            letters = list(letters) + [""] * (len(parties) - len(letters))
            table.append(
                {
                    "index": i,
                    "activity": activity,
                    "cells": list(enumerate(letters)),
                    "error": (row_errors or {}).get(i),
                }
            )
        context = {
            "contract": self.parent,
            "parties": [
                {"index": j, "side": side, "party": party, "error": (column_errors or {}).get(j)}
                for j, (side, party) in enumerate(parties)
            ],
            "table": table,
            "rows": len(table),
            "columns": len(parties),
            "general_errors": general or [],
            "has_errors": bool(row_errors or column_errors or general),
            "can_edit": permissions.can_change(self.request.user, self.parent),
            "sides": OwnerSide.choices,
            "letters": RaciAssignment.choices,
            "template_model": self.parent.get_engagement_model_display(),
        }
        return render(self.request, self.template_name, context, status=status)

    def get(self, request, *args, **kwargs):
        grid = raci.grid_of(self.parent)
        if request.GET.get("_export") == "xlsx":
            header = ["Activity"] + [f"{OwnerSide(s).label}: {p}" for s, p in grid.parties]
            return xlsx_response(
                [header] + [[activity, *letters] for activity, letters in grid.rows()],
                f"raci-{self.parent.reference}.xlsx",
                title="RACI",
            )
        return self.render_grid(grid)

    def post(self, request, *args, **kwargs):
        if "apply_template" in request.POST:
            raci.apply_template(self.parent)
            messages.success(request, f"Default {self.parent.get_engagement_model_display()} RACI chart applied.")
            return redirect("governance:raci", contract_pk=self.parent.pk)
        grid, row_errors, column_errors, general = _grid_from_post(request.POST)
        if row_errors or column_errors or general:
            # Show what was typed (rows as entered), with the errors next to the rows and columns.
            typed = raci.Grid()
            n_rows, n_cols = int(request.POST.get("rows", 0)), int(request.POST.get("columns", 0))
            typed.parties = [
                (request.POST.get(f"side-{j}", ""), request.POST.get(f"party-{j}", "")) for j in range(n_cols)
            ]
            typed.activities = [request.POST.get(f"activity-{i}", "") for i in range(n_rows)]
            typed.cells = {(i, j): request.POST.get(f"cell-{i}-{j}", "") for i in range(n_rows) for j in range(n_cols)}
            return self.render_typed(typed, row_errors, column_errors, general)
        raci.save_grid(self.parent, grid)
        messages.success(request, "RACI chart saved.")
        return redirect("governance:raci", contract_pk=self.parent.pk)

    def render_typed(self, typed, row_errors, column_errors, general):
        return self._render_exact(typed, row_errors, column_errors, general)

    def _render_exact(self, grid, row_errors, column_errors, general):
        table = [
            {
                "index": i,
                "activity": activity,
                "cells": [(j, grid.cells.get((i, j), "")) for j in range(len(grid.parties))],
                "error": row_errors.get(i),
            }
            for i, activity in enumerate(grid.activities)
        ]
        context = {
            "contract": self.parent,
            "parties": [
                {"index": j, "side": side, "party": party, "error": column_errors.get(j)}
                for j, (side, party) in enumerate(grid.parties)
            ],
            "table": table,
            "rows": len(table),
            "columns": len(grid.parties),
            "general_errors": general,
            "has_errors": True,
            "can_edit": True,
            "sides": OwnerSide.choices,
            "letters": RaciAssignment.choices,
            "template_model": self.parent.get_engagement_model_display(),
        }
        return render(self.request, self.template_name, context)  # a form with errors: 200, as every edit page


# --- individual figures ----------------------------------------------------------------------------------------
class StaffFiguresView(WriteFormView):
    """``/contracts/<id>/staff-figures/?kpi=<code>&period=2026-11``: one KPI, one period, the whole roster."""

    model = StaffMeasurement
    parent_model = Contract
    parent_kwarg = "contract_pk"
    template_name = "governance/staff_figures.html"

    def resolve(self):
        source = self.request.POST if self.request.method == "POST" else self.request.GET
        today = timezone.localdate()
        slas = scorecards.contract_slas(self.parent)
        by_code = {sla.kpi.code: sla for sla in slas.values()}
        if not by_code:
            return None, None, None, "This contract has no active SLA on a reported KPI: add one first.", by_code
        sla = by_code.get(source.get("kpi") or next(iter(sorted(by_code))))
        if sla is None:
            return None, None, None, f"Contract {self.parent.reference} has no active SLA for that KPI.", by_code
        period_text = source.get("period")
        if period_text:
            try:
                frequency, start = periods.parse_period_param(period_text, today)
            except ValueError as error:
                return sla, None, None, str(error), by_code
            if frequency != sla.frequency:
                return (
                    sla,
                    None,
                    None,
                    (
                        f"{sla.kpi.name} is reported {sla.get_frequency_display().lower()}: "
                        f"choose a period like {periods.period_param(sla.frequency, today)}."
                    ),
                    by_code,
                )
        else:
            start = periods.previous_period_start(sla.frequency, today)
        problem = scorecards.recording.figure_period_error(sla, start, today)
        end = periods.period_end(sla.frequency, start)
        return sla, start, end, (scorecards.recording.as_sentence(problem) if problem else None), by_code

    def render_page(self, sla, start, end, error, by_code, rows=(), status=200):
        today = timezone.localdate()
        return render(
            self.request,
            self.template_name,
            {
                "contract": self.parent,
                "sla": sla,
                "start": start,
                "end": end,
                "period": periods.period_param(sla.frequency, start) if sla and start else "",
                "period_label": periods.describe_period(sla.frequency, start) if sla and start else "",
                "period_choices": scorecards.period_choices(sla, today) if sla else [],
                "kpis": sorted(by_code.values(), key=lambda s: s.kpi.name),
                "error": error,
                "rows": rows,
            },
            status=status,
        )

    def roster(self, start, end):
        return list(self.parent.staff.filter(joined_on__lte=end).exclude(left_on__lt=start).order_by("full_name"))

    def get(self, request, *args, **kwargs):
        sla, start, end, error, by_code = self.resolve()
        if error:
            return self.render_page(sla, start, end, error, by_code, status=400 if request.GET else 200)
        members = self.roster(start, end)
        existing = dict(
            StaffMeasurement.objects.filter(staff_member__in=members, kpi=sla.kpi, period_start=start).values_list(
                "staff_member_id", "value"
            )
        )
        rows = [{"member": m, "value": existing.get(m.pk, ""), "error": None} for m in members]
        return self.render_page(sla, start, end, None, by_code, rows)

    def post(self, request, *args, **kwargs):
        sla, start, end, error, by_code = self.resolve()
        if error:
            return self.render_page(sla, start, end, error, by_code, status=400)
        today = timezone.localdate()
        members = self.roster(start, end)
        rows, figures, delete = [], [], []
        for member in members:
            text = request.POST.get(f"value-{member.pk}", "").strip()
            row = {"member": member, "value": text, "error": None}
            rows.append(row)
            if not text:
                delete.append((member, sla.kpi, start))
                continue
            value, problem = scorecards.parse_value(text)
            problems = [problem] if problem else scorecards.figure_problems(sla, member, start, value, today)
            if problems:
                row["error"] = scorecards.recording.as_sentence("; ".join(problems))
            else:
                figures.append((member, sla.kpi, start, end, value))
        if any(r["error"] for r in rows):
            return self.render_page(sla, start, end, None, by_code, rows)
        result = scorecards.write_figures(figures, request.user, delete=delete)
        messages.success(
            request,
            f"Saved: {result.created} new, {result.updated} corrected, {result.deleted} removed, "
            f"{result.unchanged} unchanged.",
        )
        return redirect(self.parent.get_absolute_url())


class StaffFigureImportView(WriteFormView):
    model = StaffMeasurement
    parent_model = Contract
    parent_kwarg = "contract_pk"
    template_name = "governance/staff_figure_import.html"

    def get(self, request, *args, **kwargs):
        return render(request, self.template_name, {"contract": self.parent, "form": StaffFigureImportForm()})

    def post(self, request, *args, **kwargs):
        form = StaffFigureImportForm(request.POST, request.FILES)
        result = None
        if form.is_valid():
            result = scorecards.import_staff_figures(self.parent, form.rows, request.user)
            if result.ok:
                messages.success(
                    request,
                    f"Imported: {result.created} new, {result.updated} corrected, {result.unchanged} unchanged.",
                )
                return redirect(self.parent.get_absolute_url())
        return render(
            request, self.template_name, {"contract": self.parent, "form": form, "result": result}, status=400
        )


# --- quarterly business review ------------------------------------------------------------------------------
class QBRView(View):
    """``/vendors/<id>/qbr/?quarter=2026-Q3``: the printable review; ``/pdf/`` the same page as a PDF."""

    pdf = False

    def get(self, request, pk):
        vendor = get_object_or_404(Vendor, pk=pk)
        today = timezone.localdate()
        try:
            start, end = qbr.parse_quarter(request.GET.get("quarter", ""), today)
        except ValueError as error:
            return render(request, "governance/qbr.html", {"vendor": vendor, "error": str(error)}, status=400)
        context = qbr.build_qbr(vendor, start, end, today)
        if not self.pdf:
            return render(request, "governance/qbr.html", context)
        context.update(
            standalone=True,
            inline_css=inline_css("vendor/bootstrap/css/bootstrap.min.css", "css/app.css", "governance/qbr.css"),
        )
        html = render_to_string("governance/qbr_document.html", context, request=request)
        try:
            pdf = html_to_pdf(html)
        except PdfError as error:
            context.update(standalone=False, pdf_error=str(error))
            return render(request, "governance/qbr.html", context, status=503)
        response = HttpResponse(pdf, content_type="application/pdf")
        filename = f"qbr-{vendor.pk}-{context['quarter']}.pdf"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
