import datetime

from django.db.models import Count, Q
from django.utils import timezone
from django.views.generic import TemplateView

from accounts import roles
from common.charts import compliance_chart, compliance_trend
from contracts.models import Contract, ReplacementObligation
from kpis import periods
from kpis.choices import BreachKind
from kpis.credits import credit_totals
from kpis.forms import figure_due
from kpis.models import SLA, Breach, Measurement
from vendors.models import Vendor


def missing_reports(slas, today):
    """SLAs with no figure for their last completed period, with the day the report is (or was) due.

    Two queries whatever the number of SLAs: the SLAs (given) and the figures of those periods.
    """
    due = []
    for sla in slas:
        start, end = periods.period_bounds(sla.frequency, periods.period_start(sla.frequency, today) - periods.ONE_DAY)
        if figure_due(sla, start, end):
            due.append((sla, start, end, end + datetime.timedelta(days=sla.contract.reporting_grace_days)))
    if not due:
        return []
    reported = set(
        Measurement.objects.filter(sla__in=[d[0] for d in due], period_start__gte=min(d[1] for d in due)).values_list(
            "sla_id", "period_start"
        )
    )
    rows = [
        {"sla": sla, "period_start": start, "period_end": end, "due_on": due_on, "late": due_on < today}
        for sla, start, end, due_on in due
        if (sla.pk, start) not in reported
    ]
    rows.sort(key=lambda r: (not r["late"], r["due_on"], r["sla"].contract.reference))
    return rows


class DashboardView(TemplateView):
    template_name = "dashboard/home.html"
    limit = 10

    def get_scope(self):
        requested = self.request.GET.get("scope")
        if requested in ("mine", "all"):
            return requested
        return "mine" if roles.is_manager(self.request.user) and not roles.is_admin(self.request.user) else "all"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        today = timezone.localdate()
        scope = self.get_scope()
        contracts = Contract.objects.all() if scope == "all" else Contract.objects.owned_by(user)
        live = contracts.active().current(today)

        open_breaches = Breach.objects.open().filter(contract__in=contracts)
        breach_counts = open_breaches.aggregate(
            total=Count("pk"), missing_report=Count("pk", filter=Q(kind=BreachKind.MISSING_REPORT))
        )
        slas = list(
            SLA.objects.active()
            .filter(contract__in=live)
            .select_related("contract__vendor", "kpi")
            .with_latest()
            .order_by("contract__reference", "kpi__name")
        )
        at_risk = [s for s in slas if s.latest_outcome in ("minor", "major")]
        at_risk.sort(key=lambda s: (s.latest_outcome != "major", s.contract.reference))
        missing = missing_reports([s for s in slas if not s.kpi.is_computed], today)

        q_start, q_end = periods.period_bounds("quarterly", today)
        credits = credit_totals(
            Breach.objects.filter(contract__in=contracts, period_end__gte=q_start, period_end__lte=q_end).exclude(
                status="withdrawn"
            )
        )
        trend = compliance_trend(Measurement.objects.filter(sla__contract__in=contracts), today)
        total = sum(r["total"] for r in trend)
        met = sum(r["met_total"] for r in trend)
        vendors = list(Vendor.objects.filter(pk__in=contracts.values("vendor")).with_scorecard(today).order_by("name"))
        for vendor in vendors:
            vendor.gap = vendor.headcount - vendor.contracted_headcount
        context.update(
            scope=scope,
            today=today,
            open_breach_count=breach_counts["total"],
            open_breaches=list(open_breaches.for_list().major_first()[: self.limit]),
            missing_report_breach_count=breach_counts["missing_report"],
            at_risk=at_risk[:20],
            at_risk_count=len(at_risk),
            missing=missing[:20],
            missing_count=len(missing),
            overdue=list(
                ReplacementObligation.objects.overdue(today)
                .filter(departed__contract__in=contracts)
                .select_related("departed__contract__vendor")
                .order_by("due_on")[:20]
            ),
            renewals=list(contracts.notice_due_within(30, today).select_related("vendor").order_by("notice_deadline")),
            credits=credits,
            quarter_label=periods.describe_period("quarterly", q_start),
            compliance_chart=compliance_chart(trend),
            compliance_percent=(met * 100.0 / total) if total else None,
            vendors=vendors,
        )
        return context
