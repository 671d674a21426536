"""The reports' tables are django-tables2 tables (sortable, totals rows pinned), their downloads go through
``common.exports`` (typed XLSX cells, formula-safe text) and their charts are Chart.js configs in json_script.
The fixture (conftest): Alpha BPO (contract CA, USD) and Beta Services (contract CB, EUR)."""

import csv
import datetime
import io
import json
import re
from decimal import Decimal as D

import openpyxl
import pytest
import time_machine
from django.urls import reverse
from django.utils.html import conditional_escape

from common import charts
from reports.tables import ReportTable
from tests.factories import ExchangeRateFactory, VendorFactory

FEB = datetime.date(2026, 2, 1)
REPORT_URLS = ["scorecard", "compliance_trend", "service_credits", "attrition", "sourcing_mix", "renewals"]


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(datetime.datetime(2026, 3, 31, 12, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _table(response, slug):
    return next(t for t in response.context["tables"] if t.slug == slug)


def _cells(table, *names):
    """The rendered text of ``names`` for every row the page shows (pinned rows included)."""
    return [tuple(re.sub(r"<[^>]+>", "", str(row.get_cell(name))) for name in names) for row in table.shown_rows]


def _xlsx(response):
    return openpyxl.load_workbook(io.BytesIO(response.content)).active


@pytest.mark.parametrize("name", REPORT_URLS)
def test_every_report_table_is_a_django_tables2_table(admin_client, fixture, name):
    response = admin_client.get(reverse(f"reports:{name}"), {"start": "2026-02", "end": "2026-08"})
    assert response.status_code == 200
    assert response.context["tables"] and all(isinstance(t, ReportTable) for t in response.context["tables"])
    assert "reports/table.html" in [t.name for t in response.templates]


def test_scorecard_table_columns_and_rows(admin_client, fixture):
    response = admin_client.get(reverse("reports:scorecard"), {"start": "2026-03", "end": "2026-03"})
    table = _table(response, "scorecard")
    assert [c.header for c in table.columns][:6] == ["Rank", "Vendor", "Period", "Measured", "Met", "Compliance %"]
    assert "Service credits (USD)" in [c.header for c in table.columns]
    assert _cells(table, "rank", "name", "compliance", "credits", "score") == [
        ("1", "Beta Services", "100.0", "—", "100.0"),
        ("2", "Alpha BPO", "33.3", "USD\u00a010,000.00", "42.3"),
    ]
    html = response.content.decode()
    assert "?group=contract&amp;vendor=" in html  # a vendor links to its contracts


def test_report_tables_sort_by_a_column(admin_client, fixture):
    url = reverse("reports:scorecard")
    response = admin_client.get(url, {"start": "2026-03", "end": "2026-03", "scorecard-sort": "score"})
    assert [name for (name,) in _cells(_table(response, "scorecard"), "name")] == ["Alpha BPO", "Beta Services"]
    assert 'href="?start=2026-03&amp;end=2026-03&amp;scorecard-sort=-score"' in response.content.decode()
    # the download follows the page's order
    response = admin_client.get(
        url, {"start": "2026-03", "end": "2026-03", "scorecard-sort": "score", "_export": "csv"}
    )
    assert [r["Vendor"] for r in csv.DictReader(io.StringIO(response.content.decode()))] == [
        "Alpha BPO",
        "Beta Services",
    ]


def test_service_credit_totals_keep_the_all_currencies_row_last(admin_client, fixture):
    ExchangeRateFactory(currency="EUR", month=FEB, rate=D("1.10"))
    response = admin_client.get(reverse("reports:service_credits"), {"start": "2026-02", "end": "2026-03"})
    totals = _table(response, "totals")
    assert _cells(totals, "currency", "earned", "earned_reporting") == [
        ("EUR", "EUR\u00a01,000.00", "USD\u00a01,100.00"),
        ("USD", "USD\u00a010,000.00", "USD\u00a010,000.00"),
        ("All currencies", "—", "USD\u00a011,100.00"),
    ]
    assert not totals.orderable and totals.row_count == 3
    by_contract = _table(response, "by_contract")
    assert _cells(by_contract, "contract", "earned", "capped") == [
        ("CA", "USD\u00a010,000.00", "yes"),
        ("CB", "EUR\u00a01,000.00", "no"),
    ]


def test_pinned_totals_rows_stay_in_place_whatever_the_sort(admin_client, fixture):
    response = admin_client.get(
        reverse("reports:sourcing_mix"), {"start": "2026-03", "end": "2026-03", "sourcing_model-sort": "-contracts"}
    )
    names = [name for (name,) in _cells(_table(response, "sourcing_model"), "name")]
    assert names[-1] == "All" and names.count("All") == 1
    response = admin_client.get(
        reverse("reports:attrition"), {"start": "2026-02", "end": "2026-03", "monthly-sort": "-name"}
    )
    monthly = _table(response, "monthly")
    assert _cells(monthly, "name", "m0", "m1") == [
        ("All", "0.0", "10.5"),
        ("Beta Services", "—", "—"),  # no staff: no attrition
        ("Alpha BPO", "0.0", "10.5"),
    ]
    rows = list(
        csv.reader(
            io.StringIO(
                admin_client.get(
                    reverse("reports:attrition"),
                    {"start": "2026-02", "end": "2026-03", "_export": "csv", "table": "monthly"},
                ).content.decode()
            )
        )
    )
    assert rows[0] == ["Vendor", "Feb 2026", "Mar 2026"] and rows[1] == ["All", "0.00", "10.53"]


def test_a_long_table_shows_its_first_rows_and_says_so(admin_client, fixture, monkeypatch):
    monkeypatch.setattr("reports.tables.MAX_ROWS_ON_PAGE", 1)
    response = admin_client.get(reverse("reports:scorecard"), {"start": "2026-03", "end": "2026-03"})
    assert len(_cells(_table(response, "scorecard"), "name")) == 1
    assert "Showing the first 1 of 2 rows" in response.content.decode()


PAGE_VARIANTS = [
    ("scorecard", {"start": "2026-02", "end": "2026-03"}),
    ("scorecard", {"start": "2026-01", "end": "2026-06", "period": "quarter", "scorecard-sort": "-score"}),
    ("scorecard", {"start": "2026-03", "end": "2026-03", "group": "contract"}),
    ("compliance_trend", {"start": "2026-02", "end": "2026-08", "trend-sort": "-m1"}),
    ("service_credits", {"start": "2026-02", "end": "2026-03", "by_contract-sort": "-earned"}),
    ("attrition", {"start": "2026-02", "end": "2026-03", "monthly-sort": "-name", "group": "contract"}),
    ("sourcing_mix", {"start": "2026-03", "end": "2026-03", "sourcing_model-sort": "-contracts"}),
    ("renewals", {"start": "2026-02", "end": "2026-08", "renewals-sort": "-days_left"}),
]


@pytest.mark.parametrize("name,params", PAGE_VARIANTS)
def test_page_shows_and_downloads_what_django_tables2_renders(admin_client, fixture, name, params):
    """The page renders each row's cells in one pass (``page_rows``) and the download reads each value once
    (``export_rows``): the same cells, links, classes, defaults for empty values, pinned rows and order as
    django-tables2's own per-cell rendering (``row.items()``) and ``as_values``."""
    response = admin_client.get(reverse(f"reports:{name}"), params)
    html = response.content.decode()
    for table in response.context["tables"]:
        expected = [
            "".join(
                f"<td{' ' + attrs if (attrs := column.attrs['td'].as_html()) else ''}>{conditional_escape(cell)}</td>"
                for column, cell in row.items()
            )
            for row in table.shown_rows
        ]
        assert expected and [str(cells) for cells in table.page_rows()] == expected
        assert all(f"<tr>{cells}</tr>" in html for cells in expected)
        assert list(table.export_rows()) == list(table.as_values())


def test_xlsx_download_has_typed_cells(admin_client, fixture):
    ExchangeRateFactory(currency="EUR", month=FEB, rate=D("1.10"))
    url = reverse("reports:service_credits")
    sheet = _xlsx(admin_client.get(url, {"start": "2026-02", "end": "2026-03", "_export": "xlsx", "table": "totals"}))
    rows = [[(cell.value, cell.data_type) for cell in row] for row in sheet.iter_rows()]
    assert rows[0][:3] == [("Currency", "s"), ("Earned", "s"), ("Earned (USD)", "s")]
    assert rows[1][:3] == [("EUR", "s"), (1000, "n"), (1100, "n")]  # numbers, the currency beside them
    assert rows[-1][:3] == [("All currencies", "s"), (None, "n"), (11100, "n")]
    sheet = _xlsx(
        admin_client.get(reverse("reports:renewals"), {"start": "2026-02", "end": "2026-08", "_export": "xlsx"})
    )
    header = [cell.value for cell in next(sheet.iter_rows())]
    deadline = next(sheet.iter_rows(min_row=2))[header.index("Notice deadline")]
    assert deadline.is_date and deadline.value.date() == datetime.date(2026, 4, 1)


def test_downloads_are_formula_safe(admin_client, fixture):
    fixture["a"].name = '=HYPERLINK("http://evil")'
    fixture["a"].save()
    params = {"start": "2026-03", "end": "2026-03"}
    text = admin_client.get(reverse("reports:scorecard"), {**params, "_export": "csv"}).content.decode()
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
    sheet = _xlsx(admin_client.get(reverse("reports:scorecard"), {**params, "_export": "xlsx"}))
    cell = next(c for row in sheet.iter_rows() for c in row if "HYPERLINK" in str(c.value))
    assert cell.data_type == "s" and cell.value.startswith("'=")


def test_old_format_links_still_download(admin_client, fixture):
    params = {"start": "2026-03", "end": "2026-03"}
    old = admin_client.get(reverse("reports:scorecard"), {**params, "format": "csv"})
    new = admin_client.get(reverse("reports:scorecard"), {**params, "_export": "csv"})
    assert old["Content-Type"].startswith("text/csv") and old.content == new.content
    html = admin_client.get(reverse("reports:scorecard"), params).content.decode()
    assert "_export=csv&amp;table=scorecard" in html and "format=csv" not in html


@pytest.mark.parametrize("name", REPORT_URLS)
def test_report_charts_are_chart_js_configs(admin_client, fixture, name):
    VendorFactory(name="<script>alert(1)</script>")
    response = admin_client.get(
        reverse(f"reports:{name}"), {"start": "2026-02", "end": "2026-03" if name == "scorecard" else "2026-08"}
    )
    html = response.content.decode()
    assert "<svg class=" not in html
    assert "vendor/chartjs/chart.umd.min.js" in html and "js/charts.js" in html
    configs = re.findall(r'<script id="(report-chart-\d+)" type="application/json">(.*?)</script>', html, re.S)
    assert configs
    for chart_id, text in configs:
        assert f'<canvas data-chart="{chart_id}"' in html
        config = json.loads(text)
        assert config["type"] in ("bar", "line") and config["data"]["labels"] and config["data"]["datasets"]
        for dataset in config["data"]["datasets"]:
            assert all(v is None or isinstance(v, int | float) for v in dataset["data"])


def test_chart_helpers():
    bar = charts.bar_chart(["Jan", "Feb"], [("Score", [D("90.5"), None])], title="Scores", y_max=100)
    assert bar["type"] == "bar" and bar["data"]["datasets"][0]["data"] == [90.5, None]
    assert bar["options"]["scales"]["y"]["max"] == 100 and bar["options"]["plugins"]["title"]["text"] == "Scores"
    assert not bar["options"]["plugins"]["legend"]["display"]  # one series: no legend
    line = charts.line_chart(["Jan", "Feb", "Mar"], [("A", [1, None, 3]), ("B", [2, 2, 2])], unit="%")
    assert line["type"] == "line" and line["data"]["datasets"][0]["data"] == [1.0, None, 3.0]
    assert line["options"]["plugins"]["legend"]["display"]
    assert charts.bar_chart([], []) is None and charts.line_chart(["Jan"], []) is None
