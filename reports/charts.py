"""Small server-side SVG charts (bar and line), fully offline: no JavaScript, no CDN.

``bar_chart(categories, series)`` / ``line_chart(categories, series)`` where ``series`` is a list of
``(name, values)`` with one value (number or None) per category. Returns safe SVG markup.
"""

import math
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import mark_safe

PALETTE = ["#417690", "#e0a100", "#ba2121", "#2e7d32", "#7b1fa2", "#00838f", "#6d4c41", "#f4511e", "#c2185b", "#9e9d24"]
WIDTH, PLOT_HEIGHT = 980, 300
LEFT, RIGHT, TOP = 110, 16, 16
MAX_LABEL = 24
TITLE_HEIGHT = 24


def _nice_step(value, integer=False):
    """The smallest 1/2/2.5/5 × 10^n not below ``value`` (at least 1 for whole-number data)."""
    if value <= 0:
        return 1
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        candidate = step * 10**exponent
        if candidate >= value and not (integer and candidate < 1):
            return candidate
    return max(1, 10 ** (exponent + 1))


def _fmt(value, unit=""):
    if value is None:
        return "—"
    value = float(value)
    if abs(value) >= 1_000_000:
        text = f"{value / 1_000_000:.1f}M"
    elif abs(value) >= 1_000:
        text = f"{value / 1_000:.0f}k" if abs(value) % 1000 == 0 or abs(value) >= 100_000 else f"{value / 1_000:.1f}k"
    elif value == int(value):
        text = f"{int(value)}"
    else:
        text = f"{value:.1f}"
    return f"{text}{unit}"


def _scale(series, y_max):
    """(bottom, top, step) of the value axis."""
    values = [float(v) for _, vals in series for v in vals if v is not None]
    integer = all(v == int(v) for v in values)
    if y_max is not None:
        step = _nice_step(y_max / 4, integer)
        return 0.0, float(y_max), step
    high, low = max(values, default=0), min(values, default=0)
    step = _nice_step(max(high - min(0.0, low), 1e-9) / 5, integer)
    top = step * max(1, math.ceil(high / step))
    bottom = -step * math.ceil(-low / step) if low < 0 else 0.0
    return bottom, top, step


def _layout(categories):
    """Category labels (shortened), whether to slant them, how often to print one, and the bottom margin."""
    labels = [str(c) if len(str(c)) <= MAX_LABEL else str(c)[: MAX_LABEL - 1] + "…" for c in categories]
    every = max(1, math.ceil(len(labels) / 24))
    slot = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    longest = max((len(label) for label in labels), default=0)
    rotate = longest * 6.5 > slot * every
    bottom = int(24 + longest * 6.5 * 0.6) if rotate else 32
    return labels, rotate, every, bottom


def _frame(labels, scale, unit, offset, layout):
    bottom, top, step = scale
    _, rotate, label_every, bottom_margin = layout
    plot_w, plot_h = WIDTH - LEFT - RIGHT, _height(layout) - offset - bottom_margin
    parts = []
    ticks = round((top - bottom) / step)
    for i in range(ticks + 1):
        value = bottom + step * i
        y = offset + plot_h - plot_h * i / ticks
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(_fmt(value, unit))}</text>')
    slot = plot_w / max(len(labels), 1)
    for i, label in enumerate(labels):
        if i % label_every:
            continue
        x = LEFT + slot * (i + 0.5)
        y = offset + plot_h + 16
        if rotate:
            parts.append(
                f'<text x="{x:.1f}" y="{y}" text-anchor="end" transform="rotate(-35 {x:.1f} {y})">'
                f"{escape(label)}</text>"
            )
        else:
            parts.append(f'<text x="{x:.1f}" y="{y}" text-anchor="middle">{escape(label)}</text>')
    return parts, plot_w, plot_h, slot


def _height(layout):
    return PLOT_HEIGHT + layout[3]


def _legend(series):
    """Legend entries across the top, wrapping; returns (svg parts, height used)."""
    if len(series) < 2:
        return [], 0
    parts, x, line = [], LEFT, 0
    for index, (name, _) in enumerate(series):
        name = str(name) if len(str(name)) <= MAX_LABEL else str(name)[: MAX_LABEL - 1] + "…"
        width = 24 + 7 * len(name)
        if x + width > WIDTH - RIGHT and x > LEFT:
            x, line = LEFT, line + 1
        y = TITLE_HEIGHT + 14 + 18 * line
        colour = PALETTE[index % len(PALETTE)]
        parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="{y}">{escape(name)}</text>')
        x += width
    return parts, 18 * (line + 1) + 6


def _svg(parts, title, height):
    body = "\n".join(parts)
    return mark_safe(  # nosec B308 B703  # every value in this markup is escaped first (escape / html.escape above)
        f'<svg class="report-chart" viewBox="0 0 {WIDTH} {height}" width="100%" style="max-width:1100px" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>"
        f'<text x="{LEFT - 40}" y="16" class="chart-title">{escape(title)}</text>'
        "<style>text{font:11px sans-serif;fill:#555}.grid{stroke:#e5e5e5}.axis{stroke:#999}"
        ".chart-title{font-size:14px;font-weight:bold;fill:#333}</style>"
        f"{body}</svg>"
    )


def _plot(categories, series, unit, y_max):
    """What both charts start from: (grid and label parts, legend parts, layout, slot width, value → y,
    y of the plot's bottom edge)."""
    scale = _scale(series, y_max)
    bottom, top, _ = scale
    layout = _layout(categories)
    legend, legend_height = _legend(series)
    offset = TOP + TITLE_HEIGHT + legend_height
    parts, _, plot_h, slot = _frame(layout[0], scale, unit, offset, layout)

    def y_of(value):
        return offset + plot_h - plot_h * (float(value) - bottom) / (top - bottom)

    return parts, legend, layout, slot, y_of, offset + plot_h


def bar_chart(categories, series, title="", unit="", y_max=None):
    """Grouped bars: one group per category, one bar per series."""
    categories = list(categories)
    if not categories or not series:
        return ""
    parts, legend, layout, slot, y_of, _ = _plot(categories, series, unit, y_max)
    bar_w = slot * 0.8 / len(series)
    zero_y = y_of(0)
    for s_index, (name, values) in enumerate(series):
        colour = PALETTE[s_index % len(PALETTE)]
        for c_index, value in enumerate(values):
            if value is None:
                continue
            y = y_of(value)
            x = LEFT + slot * c_index + slot * 0.1 + bar_w * s_index
            y0, height = min(y, zero_y), abs(zero_y - y)
            tip = escape(f"{name} · {categories[c_index]}: {_fmt(value, unit)}")
            parts.append(
                f'<rect x="{x:.1f}" y="{y0:.1f}" width="{max(bar_w - 1, 1):.1f}" height="{height:.1f}" '
                f'fill="{colour}"><title>{tip}</title></rect>'
            )
            if len(series) * len(categories) <= 16:
                parts.append(
                    f'<text x="{x + bar_w / 2:.1f}" y="{y0 - 3:.1f}" text-anchor="middle">'
                    f"{escape(_fmt(value, unit))}</text>"
                )
    parts.append(f'<line x1="{LEFT}" y1="{zero_y:.1f}" x2="{WIDTH - RIGHT}" y2="{zero_y:.1f}" class="axis"/>')
    return _svg(parts + legend, title, _height(layout))


def line_chart(categories, series, title="", unit="", y_max=None):
    """One line per series; None values leave a gap."""
    categories = list(categories)
    if not categories or not series:
        return ""
    parts, legend, layout, slot, y_of, floor_y = _plot(categories, series, unit, y_max)
    for s_index, (name, values) in enumerate(series):
        colour = PALETTE[s_index % len(PALETTE)]
        segments, current = [], []
        for c_index, value in enumerate(values):
            if value is None:
                if current:
                    segments.append(current)
                current = []
                continue
            x = LEFT + slot * (c_index + 0.5)
            y = y_of(value)
            current.append((x, y, value, categories[c_index]))
        if current:
            segments.append(current)
        for segment in segments:
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in segment)
            parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
            for x, y, value, category in segment:
                tip = escape(f"{name} · {category}: {_fmt(value, unit)}")
                parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{tip}</title></circle>')
    parts.append(f'<line x1="{LEFT}" y1="{floor_y}" x2="{WIDTH - RIGHT}" y2="{floor_y}" class="axis"/>')
    return _svg(parts + legend, title, _height(layout))


def as_number(value):
    return float(value) if isinstance(value, Decimal) else value
