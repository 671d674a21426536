"""Chart.js configurations built server-side (rendered with json_script, drawn by static/js/charts.js)."""

from kpis.periods import describe_period, month_window_start

GREEN = "#198754"
RED = "#dc3545"
AMBER = "#fd7e14"
BLUE = "#0d6efd"
GREY = "#6c757d"


def compliance_trend(measurements, today, months=12):
    """``compliance_by_month()`` rows of ``measurements`` whose period ended in the last ``months``
    calendar months up to ``today``."""
    since = month_window_start(today, months)
    return list(measurements.filter(period_end__gte=since, period_end__lte=today).compliance_by_month())


def compliance_chart(rows):
    """Bar chart of monthly compliance % from ``Measurement.objects.compliance_by_month()`` rows."""
    labels, values, colours = [], [], []
    for row in rows:
        labels.append(row["month"].strftime("%b %Y"))
        pct = round(row["met_total"] * 100.0 / row["total"], 1) if row["total"] else None
        values.append(pct)
        colours.append(GREEN if pct is not None and pct >= 95 else AMBER if pct is not None and pct >= 80 else RED)
    return {
        "type": "bar",
        "data": {
            "labels": labels,
            "datasets": [{"label": "SLAs met (%)", "data": values, "backgroundColor": colours}],
        },
        "options": {
            "scales": {"y": {"min": 0, "max": 100}},
            "plugins": {"legend": {"display": False}},
        },
    }


def measurement_chart(sla, measurements):
    """Line chart of one SLA's figures with its expected and minimum levels."""
    points = sorted(measurements, key=lambda m: m.period_start)
    labels = [describe_period(sla.frequency, m.period_start) for m in points]
    colours = [
        GREEN if getattr(m, "outcome", "met") == "met" else AMBER if m.outcome == "minor" else RED for m in points
    ]
    # With a single period the level lines have no length: draw them as short dashes instead.
    level_radius = 0 if len(points) > 1 else 8
    values = [float(m.value) for m in points] + [float(sla.expected), float(sla.minimum)]
    padding = (max(values) - min(values)) * 0.1 or 1

    def level(label, value, colour, dash):
        """A flat dashed line at one of the SLA's levels."""
        return {
            "label": label,
            "data": [float(value)] * len(points),
            "borderColor": colour,
            "borderDash": dash,
            "pointRadius": level_radius,
            "pointStyle": "line",
        }

    return {
        "type": "line",
        "data": {
            "labels": labels,
            "datasets": [
                {
                    "label": "Actual",
                    "data": [float(m.value) for m in points],
                    "borderColor": BLUE,
                    "pointBackgroundColor": colours,
                    "pointRadius": 5,
                    "tension": 0.2,
                },
                level("Expected", sla.expected, GREEN, [6, 4]),
                level("Minimum", sla.minimum, RED, [2, 3]),
            ],
        },
        "options": {
            "scales": {"y": {"suggestedMin": max(0.0, min(values) - padding), "suggestedMax": max(values) + padding}},
            "plugins": {"legend": {"position": "bottom", "labels": {"boxWidth": 12}}},
        },
    }
