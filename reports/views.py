"""Thin views over ``reports.queries``: parse the filters, call one function, lay out tables and charts.

Admins only (``accounts.roles.is_admin``): anonymous users go to the admin login, others get 403.
"""

import functools
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views import View

from accounts.roles import is_admin
from common.exports import csv_cell, csv_response, xlsx_response
from kpis.periods import month_start

from . import charts, queries
from .forms import ReportFilterForm
from .templatetags.report_tags import MAX_ROWS_ON_PAGE

MAX_CHART_SERIES = 8
EXPORT_FORMATS = ("csv", "xlsx")
RATE_NOTE = "Money in the reporting currency is converted at each month's exchange rate (admin: Exchange rates)."


@dataclass
class Column:
    key: str
    label: str
    kind: str = "text"  # text | int | pct | money | date | credits | bool | reporting
    currency: str = "currency"  # "money": the row key holding the amount's currency


def reporting_label(label):
    """A reporting-currency column's heading: ``Earned (USD)``."""
    return f"{label} ({settings.REPORTING_CURRENCY})"


@dataclass
class Table:
    title: str
    columns: list
    rows: list
    slug: str = "table"
    note: str = ""
    footer: list = field(default_factory=list)
    total: int | None = None  # rows in the whole table, when ``rows`` holds only the first of them

    @property
    def row_count(self):
        return len(self.rows) if self.total is None else self.total


def cell_value(row, column):
    """A cell's export value, typed for ``common.exports`` (numbers, dates, None for empty); credits in
    several currencies as one text ("USD 120.00; EUR 40.00")."""
    value = row.get(column.key)
    if value is None or value == "":
        return None
    if column.kind == "credits":
        return "; ".join(f"{currency} {csv_cell(amount)}" for currency, amount in value.items()) or None
    return value


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
        export_format = request.GET.get("format")
        self.export = export_format in EXPORT_FORMATS  # a download holds every row; the page the first ones
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
        if self.export:
            return self.export_response(report["tables"], request.GET.get("table", ""), export_format)
        params = request.GET.copy()
        params.pop("format", None)
        params.pop("table", None)
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
            **report,
        }
        return TemplateResponse(request, self.template_name, context)

    def build(self, filters):
        raise NotImplementedError

    def export_response(self, tables, slug, export_format):
        """One of the report's tables as a CSV or XLSX file: the same columns, every row."""
        table = next((t for t in tables if t.slug == slug), tables[0])
        filename = f"{self.slug}-{table.slug}-{timezone.localdate():%Y%m%d}.{export_format}"
        rows = [[c.label for c in table.columns]]
        rows += [[cell_value(row, c) for c in table.columns] for row in table.rows]
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
        rows = queries.vendor_scorecard(filters)
        drill_down = _link("reports:scorecard") + "?" + urlencode({"group": "contract", "vendor": PK_PLACEHOLDER})
        drill_down += "&" + urlencode(
            {"period": filters.period, "start": f"{filters.start:%Y-%m}", "end": f"{filters.end:%Y-%m}"}
        )
        for row in rows:
            if filters.group == "contract":
                row["_link"] = _link("admin:contracts_contract_change", row["key"])
            else:
                row["_link"] = drill_down.replace(str(PK_PLACEHOLDER), str(row["key"]))
        latest = rows[0]["period"] if rows else ""
        scored = [r for r in rows if r["period"] == latest and r["score"] is not None][:30]
        chart = charts.bar_chart(
            [r["name"] for r in scored],
            [("Score", [r["score"] for r in scored])],
            title=f"Overall score, {latest}",
            y_max=100,
        )
        policy = queries.scoring_policy()
        weights = ", ".join(f"{k} {v:g}%" for k, v in policy.weights.items())
        bands = ", ".join(f"{label} ≥ {floor:g}" for label, floor in policy.bands) + f", {policy.lowest_band} below"
        name = "Contract" if filters.group == "contract" else "Vendor"
        columns = [
            Column("rank", "Rank", "int"),
            Column("name", name),
            Column("period", "Period"),
            Column("measured", "Measured", "int"),
            Column("met", "Met", "int"),
            Column("compliance", "Compliance %", "pct"),
            Column("minor", "Minor", "int"),
            Column("major", "Major", "int"),
            Column("missing_reports", "Missing reports", "int"),
            Column("credits", "Service credits", "credits"),
            Column("credits_reporting", reporting_label("Service credits"), "reporting"),
            Column("attrition", "Attrition %", "pct"),
            Column("on_time", "Replaced on time", "int"),
            Column("late", "Late", "int"),
            Column("overdue", "Overdue", "int"),
            Column("score", "Score", "pct"),
            Column("band", "Band"),
            Column(
                "score_change", "Change since last " + ("quarter" if filters.period == "quarter" else "month"), "pct"
            ),
        ]
        note = (
            f"Score = weighted average of compliance %, reporting % (received ÷ due), replacements on time % and "
            f"retention (100 − 5 × monthly attrition %); weights {weights}, rescaled over the parts with data; "
            f"bands {bands}. "
            "Breaches count by the month their period ends; withdrawn breaches are left out, waived ones owe no "
            f"credit. {RATE_NOTE} " + ("Click a vendor to see its contracts." if filters.group != "contract" else "")
        )
        return {"charts": [chart], "tables": [Table("Scorecard", columns, rows, "scorecard", note)]}


class ComplianceTrendView(ReportView):
    slug = "compliance_trend"
    title = "Compliance trend"
    group_choices = [("vendor", "Vendor"), ("service_type", "Service type")]
    default_months = (-11, 0)

    def build(self, filters):
        data = queries.compliance_trend(filters)
        months = data["months"]
        labels = [label for _, label in months]
        shown = _top_series(data["series"], lambda s: sum(s["measured"]))
        chart = charts.line_chart(
            labels,
            [(s["name"], s["compliance"]) for s in shown],
            title="SLA compliance % per month",
            unit="%",
            y_max=100,
        )
        columns = [Column("name", "Vendor" if filters.group != "service_type" else "Service type")]
        columns += [Column(f"m{i}", label, "pct") for i, label in enumerate(labels)]
        columns += [Column("total_compliance", "Whole range", "pct"), Column("measured_total", "Measured", "int")]
        rows = []
        for s in data["series"]:
            row = {"name": s["name"], "total_compliance": s["total_compliance"], "measured_total": sum(s["measured"])}
            row.update({f"m{i}": value for i, value in enumerate(s["compliance"])})
            rows.append(row)
        note = "Compliance % = measurements meeting the expected level ÷ measurements, by the month the period ends."
        if len(data["series"]) > len(shown):
            note += f" The chart shows the {len(shown)} with the most measurements; the table shows all."
        return {"charts": [chart], "tables": [Table("Compliance % per month", columns, rows, "trend", note)]}


class ServiceCreditsView(ReportView):
    slug = "service_credits"
    title = "Service credits"
    default_months = (-5, 0)

    def build(self, filters):
        data = queries.service_credits(filters, limit=None if self.export else MAX_ROWS_ON_PAGE)
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
        tables = [
            Table(
                "Per contract and month",
                [
                    Column("month_label", "Month"),
                    Column("vendor", "Vendor"),
                    Column("contract", "Contract"),
                    Column("currency", "Currency"),
                    Column("breaches", "Major breaches", "int"),
                    Column("earned", "Earned", "money"),
                    Column("earned_reporting", reporting_label("Earned"), "reporting"),
                    Column("cap", "Cap", "money"),
                    Column("percent_of_cap", "% of cap", "pct"),
                    Column("capped", "Capped", "bool"),
                    Column("earned_back", "Earned back", "money"),
                ],
                data["rows"],
                "by_contract",
                f"Cap = monthly fee × at-risk % ÷ 100. Waived and withdrawn breaches owe nothing. {RATE_NOTE}",
                total=data["row_count"],
            ),
            Table(
                "Totals per currency",
                [
                    Column("currency", "Currency"),
                    Column("earned", "Earned", "money"),
                    Column("earned_reporting", reporting_label("Earned"), "reporting"),
                    Column("cap", "Sum of caps", "money"),
                    Column("earned_back", "Earned back", "money"),
                ],
                data["totals"] + [{"currency": "All currencies", "earned_reporting": data["total_reporting"]}],
                "totals",
                "Currencies are never added together: the last row is their sum in the reporting currency.",
            ),
            Table(
                f"Owed by each vendor this quarter ({data['quarter']})",
                [
                    Column("vendor", "Vendor"),
                    Column("currency", "Currency"),
                    Column("breaches", "Breaches with credit", "int"),
                    Column("owed", "Owed", "money"),
                    Column("owed_reporting", reporting_label("Owed"), "reporting"),
                ],
                data["owed_this_quarter"],
                "owed",
                "This quarter, whatever the date range above.",
            ),
        ]
        return {"charts": [chart], "tables": tables}


class AttritionView(ReportView):
    slug = "attrition"
    title = "Attrition & replacements"
    group_choices = [("vendor", "Vendor"), ("contract", "Contract")]
    default_months = (-11, 0)

    def build(self, filters):
        data = queries.attrition(filters)
        states = data["states"]
        labels = [label for _, label in data["months"]]
        shown = _top_series(data["rows"], lambda r: r["headcount"], MAX_CHART_SERIES - 1)
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
        for r in data["rows"]:
            if filters.group == "contract":
                r["_link"] = _link("admin:contracts_contract_change", r["key"])
            for i, value in enumerate(r["monthly"]):
                r[f"m{i}"] = value
        name = "Contract" if filters.group == "contract" else "Vendor"
        summary = [
            Column("name", name),
            Column("contracted", "Contracted", "int"),
            Column("headcount", "Headcount now", "int"),
            Column("gap", "Gap", "int"),
            Column("departures", "Leavers", "int"),
            Column("latest_month", f"{labels[-1]} %", "pct"),
            Column("average_monthly", "Avg / month %", "pct"),
            Column("annualised", "Annualised %", "pct"),
            Column("pending", "Repl. pending", "int"),
            Column("overdue", "Overdue", "int"),
            Column("on_time", "On time", "int"),
            Column("late", "Late", "int"),
        ]
        monthly = [Column("name", name)] + [Column(f"m{i}", label, "pct") for i, label in enumerate(labels)]
        overall = {"name": "All", **{f"m{i}": v for i, v in enumerate(data["overall"])}}
        tables = [
            Table(
                "Headcount, attrition and replacements",
                summary,
                data["rows"],
                "summary",
                "Monthly attrition % = departures ÷ average of the headcount at the month's start and end × 100; "
                "annualised = average monthly × 12. Leavers: departures in the range. Contracted headcount: active "
                "contracts. Replacements: every obligation of these contracts, by state today.",
            ),
            Table("Monthly attrition %", monthly, [overall] + data["rows"], "monthly"),
        ]
        return {"charts": [chart, state_chart], "tables": tables}


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
            else ""
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
        columns = lambda title: [  # noqa: E731
            Column("name", title),
            Column("currency", "Currency"),
            Column("contracts", "Contracts", "int"),
            Column("monthly_fee", "Monthly fee", "money"),
            Column("baseline", "In-house baseline", "money"),
            Column("savings", "Savings / month", "money"),
            Column("savings_percent", "Savings %", "pct"),
            Column("monthly_fee_reporting", reporting_label("Monthly fee"), "reporting"),
            Column("baseline_reporting", reporting_label("Baseline"), "reporting"),
            Column("savings_reporting", reporting_label("Savings / month"), "reporting"),
            Column("contracted", "Contracted headcount", "int"),
            Column("headcount", "Actual headcount", "int"),
        ]
        tables = [
            Table(
                f"By {d['title'].lower()}",
                columns(d["title"]),
                d["rows"] + ([d["total"]] if d["total"] else []),
                slug,
                "Active contracts overlapping the range; money per currency, and in the reporting currency at the "
                f"rate of {d['rate_month']:%Y-%m} (the row All adds up every currency only there). "
                "Actual headcount: staff on the roster at the end of the range (or today)."
                if slug == "sourcing_model"
                else "",
            )
            for slug, d in data.items()
        ]
        return {"charts": [spend_chart, headcount_chart], "tables": tables}


class RenewalsView(ReportView):
    slug = "renewals"
    title = "Renewals"
    default_months = (-1, 11)

    def build(self, filters):
        rows = queries.renewals(filters)
        for r in rows:
            r["_link"], r["_link_column"] = _link("admin:contracts_contract_change", r["contract_id"]), "contract"
        counts = {label: 0 for _, _, label in queries.RENEWAL_BUCKETS}
        for r in rows:
            counts[r["bucket"]] += 1
        chart = charts.bar_chart(
            list(counts), [("Contracts", list(counts.values()))], title="Contracts by notice deadline"
        )
        columns = [
            Column("notice_deadline", "Notice deadline", "date"),
            Column("days_left", "Days left", "int"),
            Column("bucket", "When"),
            Column("contract", "Contract"),
            Column("title", "Title"),
            Column("vendor", "Vendor"),
            Column("owner", "Owner"),
            Column("end_date", "Ends", "date"),
            Column("auto_renew", "Auto-renews", "bool"),
            Column("currency", "Currency"),
            Column("monthly_fee", "Monthly fee", "money"),
            Column("monthly_fee_reporting", reporting_label("Monthly fee"), "reporting"),
        ]
        note = (
            "Active contracts not yet ended whose notice deadline (end date − notice days) falls in the range. "
            "Fees in the reporting currency at this month's rate."
        )
        return {"charts": [chart], "tables": [Table("Contracts by notice deadline", columns, rows, "renewals", note)]}


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
