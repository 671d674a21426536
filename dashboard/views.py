import datetime

from django.db.models import Count, F, Q, Sum, Window
from django.utils import timezone
from django.views.generic import TemplateView

from accounts import roles
from common.charts import compliance_chart
from common.page_cache import CachedContentMixin
from contracts.exchange import money_total
from contracts.models import Contract, ReplacementObligation
from governance.models import CorrectiveAction
from kpis import periods
from kpis.choices import BreachKind, Severity
from kpis.figures import vendors_with_headcount
from kpis.models import SLA, Breach, Measurement
from kpis.recording import report_owed
from reports.models import ContractMonth, PortfolioMonth, SLASummary
from reports.summaries import summary_state
from vendors.models import Vendor

LIST_LIMIT = 20  # rows of each "at risk" / "missing" / vendor list; the counts cover them all


def missing_reports(slas, today):
    """SLAs with no figure for their last completed period, with the day the report is (or was) due.

    Two queries whatever the number of SLAs: the SLAs (given) and the figures of those periods.
    """
    due = []
    for sla in slas:
        start, end = periods.period_bounds(sla.frequency, periods.period_start(sla.frequency, today) - periods.ONE_DAY)
        if report_owed(sla, start, end):  # the engine's rule 3, so the list and the breaches agree
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


def live_sla_counts(contracts, today, everything=False):
    """``{"at_risk": …, "missing": …}``: live SLAs (active, of an active contract in force among
    ``contracts``) whose latest figure misses the SLA, and whose last report is missing.

    Counted from the summary rows' side (both partial indexes) with what is not live taken out by short
    lists — the inactive SLAs, and for ``everything`` (``contracts`` is every contract) the contracts not in
    force — instead of joining every SLA and every live contract (at xl 52,000 summary rows against 250,000
    SLAs and 50,000 contracts)."""
    at_risk_q = Q(latest_outcome__in=[Severity.MINOR, Severity.MAJOR])
    missing_q = Q(missing_due_on__isnull=False)
    summaries = SLASummary.objects.filter(at_risk_q | missing_q).exclude(
        sla__in=SLA.objects.filter(active=False).values("pk")
    )
    if everything:
        summaries = summaries.exclude(contract__in=Contract.objects.not_in_force(today).values("pk"))
    else:
        summaries = summaries.filter(contract__in=contracts.active().current(today).values("pk"))
    return summaries.aggregate(at_risk=Count("pk", filter=at_risk_q), missing=Count("pk", filter=missing_q))


class DashboardView(CachedContentMixin, TemplateView):
    """The manager's home page. Figures that add up every contract (open-breach counts, SLAs at risk,
    missing reports, the quarter's credits, compliance) come from the summary tables of ``reports`` when
    they are built (the page says as of when); lists of individual rows are read live. The rendered content is
    kept until the data changes (``common.page_cache``)."""

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
        state = summary_state()
        if state is None:
            figures = self.live_figures(contracts, today)
        else:
            figures = self.summary_figures(contracts, scope, today)
        open_breaches = (
            Breach.objects.open() if scope == "all" else Breach.objects.open().filter(contract__in=contracts)
        )
        vendors_in_scope = Vendor.objects.filter(pk__in=contracts.values("vendor"))
        vendors = list(vendors_with_headcount(vendors_in_scope, today).order_by("name")[:LIST_LIMIT])
        for vendor in vendors:
            vendor.gap = vendor.headcount - vendor.contracted_headcount
        q_start, _ = periods.period_bounds("quarterly", today)
        renewal_rows = list(  # the first rows, each carrying the count of them all
            contracts.notice_due_within(30, today)
            .select_related("vendor")
            .annotate(total=Window(Count("pk")))
            .order_by("notice_deadline", "reference")[:LIST_LIMIT]
        )
        context.update(
            scope=scope,
            today=today,
            summary_state=state,
            open_breaches=open_breaches.major_first_top(self.limit),
            overdue=list(
                ReplacementObligation.objects.overdue(today)
                .filter(departed__contract__in=contracts)
                .select_related("departed__contract__vendor")
                .order_by("due_on")[:20]
            ),
            renewals=renewal_rows,
            renewal_count=renewal_rows[0].total if renewal_rows else 0,
            quarter_label=periods.describe_period("quarterly", q_start),
            vendors=vendors,
            vendor_count=contracts.order_by().values("vendor").distinct().count(),
            **figures,
        )
        overdue_actions = CorrectiveAction.objects.overdue(today).filter(contract__in=contracts)
        context["overdue_actions"] = list(
            overdue_actions.select_related("contract__vendor")
            .annotate(total=Window(Count("pk")))
            .order_by("due_on", "pk")[: self.limit]
        )
        context["overdue_action_count"] = context["overdue_actions"][0].total if context["overdue_actions"] else 0
        # The quarter's credits per currency and in the reporting currency, each month at its rate.
        context["credits"] = money_total(context["credits"])
        trend = context.pop("trend")
        total = sum(r["total"] for r in trend)
        met = sum(r["met_total"] for r in trend)
        context.update(
            compliance_chart=compliance_chart(trend), compliance_percent=(met * 100.0 / total) if total else None
        )
        return context

    def live_figures(self, contracts, today):
        """Every figure from the live tables (before the summaries are first built)."""
        live = contracts.active().current(today)
        breach_counts = (
            Breach.objects.open()
            .filter(contract__in=contracts)
            .aggregate(total=Count("pk"), missing_report=Count("pk", filter=Q(kind=BreachKind.MISSING_REPORT)))
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
        credits = (
            Breach.objects.filter(contract__in=contracts, period_end__gte=q_start, period_end__lte=q_end)
            .exclude(status="withdrawn")
            .credit_by_month()
        )
        return {
            "open_breach_count": breach_counts["total"],
            "missing_report_breach_count": breach_counts["missing_report"],
            "at_risk": at_risk[:LIST_LIMIT],
            "at_risk_count": len(at_risk),
            "missing": missing[:LIST_LIMIT],
            "missing_count": len(missing),
            "credits": credits,
            "trend": Measurement.objects.filter(sla__contract__in=contracts).recent_compliance_by_month(today),
        }

    def summary_figures(self, contracts, scope, today):
        """The same figures from the summary tables: a few small queries whatever the number of contracts.

        Month figures of the whole portfolio come from ``PortfolioMonth``, of one manager's contracts from
        ``ContractMonth``; SLAs at risk and missing reports from ``SLASummary`` joined to the live SLA and
        contract rows (so an SLA or contract switched off since the refresh drops out at once)."""
        months = (
            PortfolioMonth.objects.all() if scope == "all" else ContractMonth.objects.filter(contract__in=contracts)
        )
        currency = "currency" if scope == "all" else "contract__currency"
        # One pass over the months (a few rows per month once grouped): open breaches of every month, the
        # quarter's credits, and compliance over figures whose period had ended on the refresh day.
        q_start, q_end = periods.period_bounds("quarterly", today)
        since, this_month = periods.month_window_start(today, 12), periods.month_start(today)
        open_count = open_missing = 0
        credits, trend_sums = [], {}
        for row in (
            months.values("month", currency)
            .annotate(
                n_open=Sum("open_breaches"),
                n_open_missing=Sum("open_missing_reports"),
                n_breaches=Sum("breaches"),
                n_credit=Sum("credit_all"),
                n_measured=Sum(F("measured") - F("measured_pending")),
                n_met=Sum(F("met") - F("met_pending")),
            )
            .order_by()
        ):
            open_count += row["n_open"]
            open_missing += row["n_open_missing"]
            if q_start <= row["month"] <= q_end and row["n_breaches"]:
                credits.append((row[currency], row["month"], row["n_credit"]))
            if since <= row["month"] <= this_month:
                total = trend_sums.setdefault(row["month"], [0, 0])
                total[0] += row["n_measured"]
                total[1] += row["n_met"]
        trend = [
            {"month": month, "total": total, "met_total": met}
            for month, (total, met) in sorted(trend_sums.items())
            if total > 0
        ]

        live_slas = SLA.objects.active().filter(contract__in=contracts.active().current(today))
        latest = live_slas.filter(summary__latest_outcome__in=[Severity.MINOR, Severity.MAJOR]).annotate(
            latest_value=F("summary__latest_value"),
            latest_period_start=F("summary__latest_period_start"),
            latest_outcome=F("summary__latest_outcome"),
        )
        # Majors, then minors, each by contract and KPI: two queries that walk the contract reference index
        # and stop after a page, instead of one sort of every SLA at risk by a CASE expression.
        by_contract = ("contract__reference", "kpi__name")
        at_risk = []
        for outcome in (Severity.MAJOR, Severity.MINOR):
            at_risk += (
                latest.filter(summary__latest_outcome=outcome)
                .select_related("contract__vendor", "kpi")
                .order_by(*by_contract)[:LIST_LIMIT]
            )
        at_risk = at_risk[:LIST_LIMIT]

        missing_slas = live_slas.filter(summary__missing_due_on__isnull=False).annotate(
            missing_start=F("summary__missing_period_start"),
            missing_end=F("summary__missing_period_end"),
            missing_due_on=F("summary__missing_due_on"),
        )
        missing = [
            {
                "sla": sla,
                "period_start": sla.missing_start,
                "period_end": sla.missing_end,
                "due_on": sla.missing_due_on,
                "late": sla.missing_due_on < today,
            }
            for sla in missing_slas.select_related("contract__vendor", "kpi").order_by(
                "missing_due_on", "contract__reference", "kpi__name"
            )[:LIST_LIMIT]
        ]
        sla_counts = live_sla_counts(contracts, today, everything=scope == "all")
        return {
            "open_breach_count": open_count,
            "missing_report_breach_count": open_missing,
            "at_risk": at_risk,
            "at_risk_count": sla_counts["at_risk"],
            "missing": missing,
            "missing_count": sla_counts["missing"],
            "credits": credits,
            "trend": trend,
        }
