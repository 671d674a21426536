"""Chart.js configurations built server-side (rendered with json_script, drawn by static/js/charts.js): the
colours and the generic builders. A chart of one app's objects lives with that app (``kpis/charts.py``)."""

GREEN = "#198754"
RED = "#dc3545"
AMBER = "#fd7e14"
BLUE = "#0d6efd"
GREY = "#6c757d"


# The colour bands of the compliance bars, best first: (lowest % in the band, colour, legend label).
COMPLIANCE_BANDS = (
    (95, GREEN, "95% or more met"),
    (80, AMBER, "80–95% met"),
    (0, RED, "Under 80% met"),
)


def compliance_band(pct):
    """The index in ``COMPLIANCE_BANDS`` of a compliance %."""
    return next(i for i, (floor, _, _) in enumerate(COMPLIANCE_BANDS) if pct >= floor)


def compliance_chart(rows):
    """Bar chart of monthly compliance % from ``Measurement.objects.compliance_by_month()`` rows.

    One dataset per colour band (a month's bar sits in the dataset of its band, the others hold null for
    it), so Chart.js's own legend explains the colours; ``grouped: false`` keeps each bar full width."""
    labels = []
    series = [[] for _ in COMPLIANCE_BANDS]
    for row in rows:
        labels.append(row["month"].strftime("%b %Y"))
        pct = round(row["met_total"] * 100.0 / row["total"], 1) if row["total"] else None
        band = None if pct is None else compliance_band(pct)
        for index, values in enumerate(series):
            values.append(pct if index == band else None)
    return {
        "type": "bar",
        "data": {
            "labels": labels,
            "datasets": [
                {"label": label, "data": values, "backgroundColor": colour, "grouped": False}
                for (_, colour, label), values in zip(COMPLIANCE_BANDS, series, strict=True)
            ],
        },
        "options": {
            "scales": {"y": {"min": 0, "max": 100, "title": {"display": True, "text": "SLAs met (%)"}}},
            "plugins": {"legend": {"display": True, "position": "bottom", "labels": {"boxWidth": 12}}},
        },
    }
