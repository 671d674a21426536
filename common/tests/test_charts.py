import datetime

from common.charts import AMBER, GREEN, RED, compliance_chart


def test_compliance_bars_have_a_legend_of_their_colour_bands():
    rows = [
        {"month": datetime.date(2026, 7, 1), "total": 100, "met_total": 97},
        {"month": datetime.date(2026, 8, 1), "total": 10, "met_total": 9},
        {"month": datetime.date(2026, 9, 1), "total": 10, "met_total": 5},
    ]
    chart = compliance_chart(rows)
    datasets = chart["data"]["datasets"]
    assert [(d["label"], d["backgroundColor"]) for d in datasets] == [
        ("95% or more met", GREEN),
        ("80–95% met", AMBER),
        ("Under 80% met", RED),
    ]
    # each month's bar in the dataset of its band, full width (not grouped with the empty ones)
    assert [d["data"] for d in datasets] == [[97.0, None, None], [None, 90.0, None], [None, None, 50.0]]
    assert all(d["grouped"] is False for d in datasets)
    assert chart["options"]["plugins"]["legend"]["display"] is True
