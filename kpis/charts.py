"""Chart.js configuration of an SLA's figures (drawn by static/js/charts.js, like ``common.charts``)."""

from common.charts import AMBER, BLUE, GREEN, RED

from .periods import describe_period


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
                    "tension": 0,  # straight segments: a smoothed curve dips below the real points
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
