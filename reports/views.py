"""Thin views over ``reports.queries``: parse the filters, call one function, lay out tables and charts.

Admins only (``accounts.roles.is_admin``): anonymous users go to the admin login, others get 403.
"""

import functools
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django_tables2 import RequestConfig

from accounts.roles import is_admin
from common import charts
from common.exports import csv_response, xlsx_response
from kpis.periods import month_start

from . import queries, tables
from .forms import ReportFilterForm
from .tables import MAX_ROWS_ON_PAGE

MAX_CHART_SERIES = 8
EXPORT_FORMATS = ("csv", "xlsx")
# ``?_export=csv`` as the app's lists (django-tables2's trigger); ``?format=csv``, the reports' old links, too.
EXPORT_PARAMETERS = ("_export", "format")
RATE_NOTE = "Money in the reporting currency is converted at each month's exchange rate (admin: Exchange rates)."


REPORTS = [
    (
        "scorecard",
        "Vendor scorecard",
        "Compliance, breaches, missing reports, service credits, attrition and replacements per vendor and "
        "month or quarter, with a weighted score and rank.",
    ),
    (
        "compliance_trend",
        "Compliance trend",
        "SLA compliance % (met ÷ measured) per month, per vendor or service type.",
    ),
    (
        "service_credits",
        "Service credits",
        "Credits earned per contract and month against the monthly cap; what each vendor owes this quarter.",
    ),
    (
        "attrition",
        "Attrition & replacements",
        "Headcount against contract, monthly and annualised attrition, replacement obligations by state.",
    ),
    (
        "sourcing_mix",
        "Sourcing mix & cost",
        "Spend, headcount and savings against the in-house baseline by sourcing model, service type and country.",
    ),
    (
        "renewals",
        "Renewals",
        "Active contracts by notice deadline: the last day to give notice before the contract ends or renews.",
    ),
]


class ReportView(View):
    slug = ""
    title = ""
    template_name = "reports/report.html"
    group_choices = None
    show_period = False
    default_months = (-11, 0)

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if not is_admin(request.user):
            raise PermissionDenied("Reports are for admins.")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        export_format = next(
            (request.GET[key] for key in EXPORT_PARAMETERS if request.GET.get(key) in EXPORT_FORMATS), None
        )
        self.export = export_format is not None  # a download holds every row; the page the first ones
        today = timezone.localdate()
        this_month = month_start(today)
        data = {  # the default range, shown in the form, unless the request says otherwise
            "start": f"{month_start(this_month, self.default_months[0]):%Y-%m}",
            "end": f"{month_start(this_month, self.default_months[1]):%Y-%m}",
        }
        data.update({key: value for key, value in request.GET.items() if value})
        form = ReportFilterForm(
            data,
            group_choices=self.group_choices,
            show_period=self.show_period,
            default_months=self.default_months,
            today=today,
        )
        filters = form.filters(today)
        report = self.build(filters)
        for table in report["tables"]:
            RequestConfig(request, paginate=False).configure(table)  # ``?<slug>-sort=``
        if self.export:
            return self.export_response(report["tables"], request.GET.get("table", ""), export_format)
        params = request.GET.copy()
        for key in (*EXPORT_PARAMETERS, "table"):
            params.pop(key, None)
        context = {
            **admin.site.each_context(request),
            "is_nav_sidebar_enabled": False,  # the reports need the full width
            "title": self.title,
            "slug": self.slug,
            "reports": REPORTS,
            "form": form,
            "filters": filters,
            "query": params.urlencode(),
            "summary_state": filters.state if filters.from_summary else None,
            "charts": [
                {"id": f"report-chart-{index}", "config": chart, "label": chart["options"]["plugins"]["title"]["text"]}
                for index, chart in enumerate(filter(None, report["charts"]), start=1)
            ],
            "tables": report["tables"],
        }
        return TemplateResponse(request, self.template_name, context)

    def build(self, filters):
        """``{"charts": [Chart.js config or None, …], "tables": [reports.tables.ReportTable, …]}``."""
        raise NotImplementedError

    def sort_keys(self, table_class, slug):
        """The row keys the request sorts ``table_class`` by (``?<slug>-sort=``, read as django-tables2 reads
        it), for a query that sorts in SQL."""
        return self.table_sort_keys(table_class([], slug=slug, title=""))

    def table_sort_keys(self, probe):
        """``sort_keys`` of an empty table of the report's columns."""
        RequestConfig(self.request, paginate=False).configure(probe)
        return probe.sort_keys()

    def export_response(self, report_tables, slug, export_format):
        """One of the report's tables as a CSV or XLSX file (``common.exports``, as the app's lists): the same
        columns, every row, in the page's order."""
        table = next((t for t in report_tables if t.slug == slug), report_tables[0])
        filename = f"{self.slug}-{table.slug}-{timezone.localdate():%Y%m%d}.{export_format}"
        rows = table.export_rows()
        if export_format == "xlsx":
            return xlsx_response(rows, filename, title=table.title)
        return csv_response(rows, filename, stream=False)


def _top_series(series, weight, limit=MAX_CHART_SERIES):
    return sorted(series, key=weight, reverse=True)[:limit]


PK_PLACEHOLDER = 987654321


@functools.lru_cache(maxsize=64)
def _reverse(url_name, with_id):
    return reverse(url_name, args=[PK_PLACEHOLDER] if with_id else [])


def _link(url_name, *args, query=None):
    """A row's link. Pages link thousands of rows: ``reverse`` runs once per URL name (the id is put into
    a cached URL); for a query string, build it once with ``PK_PLACEHOLDER`` and replace that per row."""
    if len(args) > 1:
        url = reverse(url_name, args=args)
    else:
        url = _reverse(url_name, bool(args))
        if args:
            url = url.replace(str(PK_PLACEHOLDER), str(args[0]))
    return f"{url}?{urlencode(query)}" if query else url


class ScorecardView(ReportView):
    slug = "scorecard"
    title = "Vendor scorecard"
    show_period = True
    group_choices = [("vendor", "Vendor"), ("contract", "Contract")]
    default_months = (-1, -1)  # the last full month

    def build(self, filters):
        policy = queries.scoring_policy()  # read once: the rows' scores and the note
        # scored, ranked, sorted and cut to the page's rows in SQL (a download: every row)
        data = queries.scorecard_page(
            filters,
            policy,
            limit=None if self.export else MAX_ROWS_ON_PAGE,
            order_by=self.sort_keys(tables.ScorecardTable, "scorecard"),
        )
        rows = data["rows"]
        drill_down = _link("reports:scorecard") + "?" + urlencode({"group": "contract", "vendor": PK_PLACEHOLDER})
        drill_down += "&" + urlencode(
            {"period": filters.period, "start": f"{filters.start:%Y-%m}", "end": f"{filters.end:%Y-%m}"}
        )
        for row in rows:
            if filters.group == "contract":
                row["_link"] = _link("admin:contracts_contract_change", row["key"])
            else:
                row["_link"] = drill_down.replace(str(PK_PLACEHOLDER), str(row["key"]))
        scored, latest = data["chart_rows"], data["latest_period"]
        chart = charts.bar_chart(
            [r["name"] for r in scored],
            [("Score", [r["score"] for r in scored])],
            title=f"Overall score, {latest}",
            y_max=100,
        )
        weights = ", ".join(f"{k} {v:g}%" for k, v in policy.weights.items())
        bands = ", ".join(f"{label} ≥ {floor:g}" for label, floor in policy.bands) + f", {policy.lowest_band} below"
        note = (
            f"Score = weighted average of compliance %, reporting % (received ÷ due), replacements on time % and "
            f"retention (100 − 5 × monthly attrition %); weights {weights}, rescaled over the parts with data; "
            f"bands {bands}. "
            "Breaches count by the month their period ends; withdrawn breaches are left out, waived ones owe no "
            f"credit. {RATE_NOTE} " + ("Click a vendor to see its contracts." if filters.group != "contract" else "")
        )
        table = tables.ScorecardTable(
            rows,
            name_label="Contract" if filters.group == "contract" else "Vendor",
            slug="scorecard",
            title="Scorecard",
            note=note,
            change_label="Change since last " + ("quarter" if filters.period == "quarter" else "month"),
            total=data["row_count"],
            query_ordered=data["query_ordered"],
        )
        return {"charts": [chart], "tables": [table]}


class ComplianceTrendView(ReportView):
    slug = "compliance_trend"
    title = "Compliance trend"
    group_choices = [("vendor", "Vendor"), ("service_type", "Service type")]
    default_months = (-11, 0)

    def build(self, filters):
        if self.export:  # every series
            data = queries.compliance_trend(filters)
            chart = _top_series(data["series"], lambda s: sum(s["measured"]))
            data.update(chart_series=chart, series_count=len(data["series"]), query_ordered=False)
        else:  # the page's series and the chart's, picked (and sorted) in SQL when it can
            month_labels = [label for _, _, label in queries.buckets(filters.start, filters.end)]
            probe = tables.compliance_trend_table([], month_labels, "", "")
            data = queries.compliance_trend_page(filters, MAX_ROWS_ON_PAGE, self.table_sort_keys(probe))
        months = data["months"]
        labels = [label for _, label in months]
        shown = data["chart_series"]
        chart = charts.line_chart(
            labels,
            [(s["name"], s["compliance"]) for s in shown],
            title="SLA compliance % per month",
            unit="%",
            y_max=100,
        )
        rows = []
        for s in data["series"]:
            row = {"name": s["name"], "total_compliance": s["total_compliance"], "measured_total": sum(s["measured"])}
            row.update({f"m{i}": value for i, value in enumerate(s["compliance"])})
            rows.append(row)
        note = "Compliance % = measurements meeting the expected level ÷ measurements, by the month the period ends."
        if data["series_count"] > len(shown):
            note += f" The chart shows the {len(shown)} with the most measurements; the table shows all."
        name_label = "Service type" if filters.group == "service_type" else "Vendor"
        table = tables.compliance_trend_table(
            rows, labels, name_label, note, total=data["series_count"], query_ordered=data["query_ordered"]
        )
        return {"charts": [chart], "tables": [table]}


class ServiceCreditsView(ReportView):
    slug = "service_credits"
    title = "Service credits"
    default_months = (-5, 0)

    def build(self, filters):
        data = queries.service_credits(
            filters,
            limit=None if self.export else MAX_ROWS_ON_PAGE,
            owed_order=self.sort_keys(tables.CreditsOwedTable, "owed"),
        )
        months = queries.buckets(filters.start, filters.end)
        by_month = data["by_month"]
        currencies = sorted({currency for _, currency in by_month})
        for r in data["rows"]:
            r["_link"], r["_link_column"] = _link("admin:contracts_contract_change", r["contract_id"]), "contract"
        chart = charts.bar_chart(
            [label for _, _, label in months],
            [(c, [by_month.get((first, c)) for first, _, _ in months]) for c in currencies],
            title="Service credits earned per month",
        )
        owed_link = _link(
            "admin:kpis_breach_changelist",
            query={"contract__vendor__id__exact": PK_PLACEHOLDER, "period": "this_quarter", "credit": "yes"},
        )
        for o in data["owed_this_quarter"]:
            o["_link"] = owed_link.replace(str(PK_PLACEHOLDER), str(o["vendor_id"]))
            o["_link_column"] = "vendor"
        report_tables = [
            tables.CreditsByContractTable(
                data["rows"],
                slug="by_contract",
                title="Per contract and month",
                note=f"Cap = monthly fee × at-risk % ÷ 100. Waived and withdrawn breaches owe nothing. {RATE_NOTE}",
                total=data["row_count"],
            ),
            tables.CreditTotalsTable(
                data["totals"],
                total_rows=[{"currency": "All currencies", "earned_reporting": data["total_reporting"]}],
                slug="totals",
                title="Totals per currency",
                note="Currencies are never added together: the last row is their sum in the reporting currency.",
            ),
            tables.CreditsOwedTable(
                data["owed_this_quarter"],
                slug="owed",
                title=f"Owed by each vendor this quarter ({data['quarter']})",
                note="This quarter, whatever the date range above.",
                # the first rows, in the order asked, when the database sorted them
                total=data.get("owed_count"),
                query_ordered=data.get("owed_count") is not None,
            ),
        ]
        return {"charts": [chart], "tables": report_tables}


class AttritionView(ReportView):
    slug = "attrition"
    title = "Attrition & replacements"
    group_choices = [("vendor", "Vendor"), ("contract", "Contract")]
    default_months = (-11, 0)

    def build(self, filters):
        if self.export:  # every row
            data = queries.attrition(filters)
            chart = _top_series(data["rows"], lambda r: r["headcount"], MAX_CHART_SERIES - 1)
            data.update(summary_rows=data["rows"], monthly_rows=data["rows"], chart_rows=chart, row_count=None)
        else:  # the rows each table shows (and the chart's) only, when both tables are in name order
            month_labels = [label for _, _, label in queries.buckets(filters.start, filters.end)]
            data = queries.attrition_page(
                filters,
                MAX_ROWS_ON_PAGE,
                summary_order=self.sort_keys(tables.AttritionTable, "summary"),
                monthly_order=self.table_sort_keys(
                    tables.MonthlyTable([], month_labels=month_labels, slug="monthly", title="")
                ),
            )
        states = data["states"]
        labels = [label for _, label in data["months"]]
        shown = data["chart_rows"]
        chart = charts.line_chart(
            labels,
            [("All", data["overall"])] + [(r["name"], r["monthly"]) for r in shown],
            title="Monthly attrition %",
            unit="%",
        )
        state_chart = charts.bar_chart(
            [label for label, _ in states],
            [("Obligations", [n for _, n in states])],
            title="Replacement obligations by state",
        )
        for r in {id(r): r for r in (*data["summary_rows"], *data["monthly_rows"], *shown)}.values():
            if filters.group == "contract":
                r["_link"] = _link("admin:contracts_contract_change", r["key"])
            for i, value in enumerate(r["monthly"]):
                r[f"m{i}"] = value
        query_ordered = data["row_count"] is not None
        name = "Contract" if filters.group == "contract" else "Vendor"
        summary = tables.AttritionTable(
            data["summary_rows"],
            total=data["row_count"],
            query_ordered=query_ordered,
            name_label=name,
            extra_columns=[("latest_month", tables.PercentColumn(f"{labels[-1]} %"))],
            slug="summary",
            title="Headcount, attrition and replacements",
            note="Monthly attrition % = departures ÷ average of the headcount at the month's start and end × 100; "
            "annualised = average monthly × 12. Leavers: departures in the range. Contracted headcount: active "
            "contracts. Replacements: every obligation of these contracts, by state today.",
        )
        overall = {"name": "All", **{f"m{i}": v for i, v in enumerate(data["overall"])}}
        monthly = tables.MonthlyTable(
            data["monthly_rows"],
            total=data["row_count"],
            query_ordered=query_ordered,
            month_labels=labels,
            name_label=name,
            top_rows=[overall],
            slug="monthly",
            title="Monthly attrition %",
        )
        return {"charts": [chart, state_chart], "tables": [summary, monthly]}


class SourcingMixView(ReportView):
    slug = "sourcing_mix"
    title = "Sourcing mix & cost"
    default_months = (0, 0)

    def build(self, filters):
        data = queries.sourcing_mix(filters)
        by_model = data["sourcing_model"]["rows"]
        fee_by_currency = {}
        for r in by_model:
            fee_by_currency[r["currency"]] = fee_by_currency.get(r["currency"], 0) + r["monthly_fee"]
        main = max(fee_by_currency, key=fee_by_currency.get) if fee_by_currency else None
        main_rows = [r for r in by_model if r["currency"] == main]
        spend_chart = (
            charts.bar_chart(
                [r["name"] for r in main_rows],
                [
                    ("Monthly fee", [r["monthly_fee"] for r in main_rows]),
                    ("In-house baseline", [r["baseline"] for r in main_rows]),
                ],
                title=f"Monthly fee vs in-house baseline by sourcing model ({main})",
            )
            if main
            else None
        )
        heads = {}
        for r in by_model:
            heads.setdefault(r["name"], [0, 0])
            heads[r["name"]][0] += r["contracted"]
            heads[r["name"]][1] += r["headcount"]
        headcount_chart = charts.bar_chart(
            list(heads),
            [("Contracted", [v[0] for v in heads.values()]), ("Actual", [v[1] for v in heads.values()])],
            title="Headcount by sourcing model",
        )
        report_tables = [
            tables.SourcingMixTable(
                d["rows"],
                name_label=d["title"],
                total_rows=[d["total"]] if d["total"] else [],
                slug=slug,
                title=f"By {d['title'].lower()}",
                note="Active contracts overlapping the range; money per currency, and in the reporting currency at "
                f"the rate of {d['rate_month']:%Y-%m} (the row All adds up every currency only there). "
                "Actual headcount: staff on the roster at the end of the range (or today)."
                if slug == "sourcing_model"
                else "",
            )
            for slug, d in data.items()
        ]
        return {"charts": [spend_chart, headcount_chart], "tables": report_tables}


class RenewalsView(ReportView):
    slug = "renewals"
    title = "Renewals"
    default_months = (-1, 11)

    def build(self, filters):
        # sorted and cut to the page's rows in SQL; counted per bucket there too
        data = queries.renewals(
            filters,
            limit=None if self.export else MAX_ROWS_ON_PAGE,
            order_by=self.sort_keys(tables.RenewalsTable, "renewals"),
        )
        rows, counts = data["rows"], data["counts"]
        for r in rows:
            r["_link"], r["_link_column"] = _link("admin:contracts_contract_change", r["contract_id"]), "contract"
        chart = charts.bar_chart(
            list(counts), [("Contracts", list(counts.values()))], title="Contracts by notice deadline"
        )
        note = (
            "Active contracts not yet ended whose notice deadline (end date − notice days) falls in the range. "
            "Fees in the reporting currency at this month's rate."
        )
        table = tables.RenewalsTable(
            rows,
            slug="renewals",
            title="Contracts by notice deadline",
            note=note,
            total=data["row_count"],
            query_ordered=True,
        )
        return {"charts": [chart], "tables": [table]}


class ReportIndexView(ReportView):
    template_name = "reports/index.html"

    def get(self, request):
        context = {
            **admin.site.each_context(request),
            "is_nav_sidebar_enabled": False,
            "title": "Reports",
            "reports": REPORTS,
        }
        return TemplateResponse(request, self.template_name, context)
