"""Small server-side SVG charts (bar and line), fully offline: no JavaScript, no CDN.

``bar_chart(categories, series)`` / ``line_chart(categories, series)`` where ``series`` is a list of
``(name, values)`` with one value (number or None) per category. Returns safe SVG markup.
"""

import math
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import mark_safe

PALETTE = ["#417690", "#e0a100", "#ba2121", "#2e7d32", "#7b1fa2", "#00838f", "#6d4c41", "#546e7a", "#c2185b",
           "#9e9d24"]
WIDTH, HEIGHT = 920, 320
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 64


def _nice_ceiling(value):
    """The smallest 1/2/2.5/5 × 10^n not below ``value``."""
    if value <= 0:
        return 1
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        candidate = step * 10**exponent
        if candidate >= value:
            return candidate
    return 10 ** (exponent + 1)


def _fmt(value, unit=""):
    if value is None:
        return "—"
    value = float(value)
    if abs(value) >= 1_000_000:
        text = f"{value / 1_000_000:.1f}M"
    elif abs(value) >= 10_000:
        text = f"{value / 1_000:.0f}k"
    elif value == int(value):
        text = f"{int(value)}"
    else:
        text = f"{value:.1f}"
    return f"{text}{unit}"


def _scale(series, y_max):
    values = [float(v) for _, vals in series for v in vals if v is not None]
    top = y_max if y_max is not None else _nice_ceiling(max(values, default=0))
    bottom = min(0.0, min(values, default=0))
    return bottom, top if top > bottom else bottom + 1


def _frame(categories, bottom, top, unit, label_every):
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = []
    for i in range(5):
        value = bottom + (top - bottom) * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(_fmt(value, unit))}</text>')
    slot = plot_w / max(len(categories), 1)
    for i, category in enumerate(categories):
        if i % label_every:
            continue
        x = LEFT + slot * (i + 0.5)
        label = escape(str(category))
        parts.append(
            f'<text x="{x:.1f}" y="{TOP + plot_h + 14}" text-anchor="end" '
            f'transform="rotate(-35 {x:.1f} {TOP + plot_h + 14})">{label}</text>'
        )
    return parts, plot_w, plot_h, slot


def _legend(series):
    if len(series) < 2:
        return []
    parts, x = [], LEFT
    y = HEIGHT - 8
    for index, (name, _) in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="{y}">{escape(str(name))}</text>')
        x += 24 + 7 * len(str(name))
    return parts


def _svg(parts, title):
    body = "\n".join(parts)
    return mark_safe(
        f'<svg class="report-chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>"
        "<style>text{font:11px sans-serif;fill:#555}.grid{stroke:#e5e5e5}.axis{stroke:#999}</style>"
        f"{body}</svg>"
    )


def _label_every(categories):
    return max(1, math.ceil(len(categories) / 24))


def bar_chart(categories, series, title="", unit="", y_max=None):
    """Grouped bars: one group per category, one bar per series."""
    categories = list(categories)
    if not categories or not series:
        return ""
    bottom, top = _scale(series, y_max)
    parts, plot_w, plot_h, slot = _frame(categories, bottom, top, unit, _label_every(categories))
    bar_w = slot * 0.8 / len(series)
    zero_y = TOP + plot_h - plot_h * (0 - bottom) / (top - bottom)
    for s_index, (name, values) in enumerate(series):
        colour = PALETTE[s_index % len(PALETTE)]
        for c_index, value in enumerate(values):
            if value is None:
                continue
            y = TOP + plot_h - plot_h * (float(value) - bottom) / (top - bottom)
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
    return _svg(parts + _legend(series), title)


def line_chart(categories, series, title="", unit="", y_max=None):
    """One line per series; None values leave a gap."""
    categories = list(categories)
    if not categories or not series:
        return ""
    bottom, top = _scale(series, y_max)
    parts, plot_w, plot_h, slot = _frame(categories, bottom, top, unit, _label_every(categories))
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
            y = TOP + plot_h - plot_h * (float(value) - bottom) / (top - bottom)
            current.append((x, y, value, categories[c_index]))
        if current:
            segments.append(current)
        for segment in segments:
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in segment)
            parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
            for x, y, value, category in segment:
                tip = escape(f"{name} · {category}: {_fmt(value, unit)}")
                parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{tip}</title></circle>')
    parts.append(
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" class="axis"/>'
    )
    return _svg(parts + _legend(series), title)


def as_number(value):
    return float(value) if isinstance(value, Decimal) else value
