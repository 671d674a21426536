from common.views import ObjectDetailView, ObjectEditView, ObjectListView

from .credits import credit_totals_within
from .filtersets import BreachFilterSet
from .forms import BreachEditForm
from .history import breach_history
from .models import Breach
from .tables import BreachSelectColumn, BreachTable


class BreachListView(ObjectListView):
    model = Breach
    queryset = Breach.objects.for_list()
    filterset_class = BreachFilterSet
    table_class = BreachTable
    title = "Breaches"
    template_name = "kpis/breach_list.html"
    # Millions of rows at the xl preset: counted exactly, and their credits totalled, up to this many.
    count_cap = 10_000

    def get_table_pagination(self, table):
        # Service credits of every filtered row (not just this page), per currency, and how many rows there
        # are: one query, which the paginator takes as its count.
        self.row_count, self.credit_totals = credit_totals_within(self.object_list, self.count_cap)
        return {**super().get_table_pagination(table), "known_count": self.row_count}

    def can_select(self):
        """Managers and admins choose breaches to act on (a corrective action); viewers only read."""
        return self.request.user.has_perm("kpis.change_breach")

    def get_table_kwargs(self):
        kwargs = super().get_table_kwargs()
        if self.can_select():
            kwargs["extra_columns"] = [("select", BreachSelectColumn())]
            kwargs["sequence"] = ("select", "...")
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(credit_totals=self.credit_totals, count_cap=self.count_cap, can_select=self.can_select())
        return context


class BreachDetailView(ObjectDetailView):
    model = Breach
    template_name = "kpis/breach_detail.html"

    def get_queryset(self):
        return Breach.objects.for_list().select_related("measurement", "obligation__departed")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["form"] = BreachEditForm(instance=self.object, user=self.request.user)
        context["history"] = breach_history(self.object)
        return context


class BreachEditView(ObjectEditView):
    """Status (acknowledge / waive with a reason / resolve / reopen) and notes."""

    model = Breach
    form_class = BreachEditForm
    template_name = "kpis/breach_edit.html"
    success_message = "Breach updated."

    def get_queryset(self):
        return Breach.objects.for_list()
