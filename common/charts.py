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


# Series colours of the generic charts below (the admin reports), in order.
PALETTE = ["#417690", "#e0a100", "#ba2121", "#2e7d32", "#7b1fa2", "#00838f", "#6d4c41", "#f4511e", "#c2185b", "#9e9d24"]


def _number(value):
    """A JSON number for Chart.js (``json_script`` would write a ``Decimal`` as a string); None stays a gap."""
    return None if value is None else float(value)


def _chart(kind, categories, series, title, unit, y_max, dataset_options):
    """A Chart.js config: one dataset per ``(name, values)`` of ``series``, one value (or None) per category.
    None when there is nothing to draw."""
    categories = [str(category) for category in categories]
    if not categories or not series:
        return None
    y_axis = {"beginAtZero": True, "ticks": {"precision": 0}}
    if y_max is not None:
        y_axis["max"] = y_max
    if unit:
        y_axis["title"] = {"display": True, "text": unit}
    return {
        "type": kind,
        "data": {
            "labels": categories,
            "datasets": [
                {
                    "label": str(name),
                    "data": [_number(value) for value in values],
                    "backgroundColor": PALETTE[index % len(PALETTE)],
                    "borderColor": PALETTE[index % len(PALETTE)],
                    **dataset_options,
                }
                for index, (name, values) in enumerate(series)
            ],
        },
        "options": {
            "scales": {"y": y_axis},
            "plugins": {
                "title": {"display": bool(title), "text": title, "align": "start", "font": {"size": 14}},
                "legend": {"display": len(series) > 1, "position": "top", "labels": {"boxWidth": 12}},
            },
        },
    }


def bar_chart(categories, series, title="", unit="", y_max=None):
    """Grouped bars: one group per category, one bar per series (``[(name, values)]``)."""
    return _chart("bar", categories, series, title, unit, y_max, {})


def line_chart(categories, series, title="", unit="", y_max=None):
    """One line per series; a None value leaves a gap."""
    return _chart("line", categories, series, title, unit, y_max, {"tension": 0, "spanGaps": False, "pointRadius": 3})
