"""Small inline SVG plots drawn by hand: the report needs no JS library and no network."""

from __future__ import annotations

import math
from html import escape

from markupsafe import Markup

_BAR = "#4c78a8"


def histogram(values: list[float], *, bins: int = 24, width: int = 360, height: int = 110,
              marker: float | None = None) -> Markup:
    """Bars of a histogram with min/max labels; ``marker`` draws a vertical line (a threshold)."""
    values = [v for v in values if math.isfinite(v)]  # signals may emit NaN or inf: not plottable
    if not values:
        return Markup("")
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    counts = [0] * bins
    for value in values:
        counts[min(bins - 1, int((value - low) / span * bins))] += 1
    top = max(counts)
    bar_w = width / bins
    plot_h = height - 18
    bars = "".join(
        f'<rect x="{i * bar_w + 1:.1f}" y="{plot_h - c / top * plot_h:.1f}" width="{bar_w - 2:.1f}" '
        f'height="{c / top * plot_h:.1f}" fill="{_BAR}"><title>{c}</title></rect>'
        for i, c in enumerate(counts) if c)
    line = ""
    if marker is not None and low <= marker <= high:
        x = (marker - low) / span * width
        line = f'<line x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{plot_h}" stroke="#e45756" stroke-width="2"/>'
    labels = (f'<text x="0" y="{height - 4}" font-size="11">{escape(_fmt(low))}</text>'
              f'<text x="{width}" y="{height - 4}" font-size="11" text-anchor="end">{escape(_fmt(high))}</text>')
    return Markup(f'<svg class="plot" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
                  f'role="img">{bars}{line}{labels}</svg>')


def bars(counts: list[tuple[str, float]], *, width: int = 360, row_h: int = 18, value_format: str = "{:g}",
         scale_max: float | None = None) -> Markup:
    """Horizontal labelled bars, one per (label, value); labels are escaped. ``scale_max`` fixes the full length."""
    if not counts:
        return Markup("")
    top = scale_max or max(count for _, count in counts) or 1
    label_w = 170
    height = row_h * len(counts)
    rows = []
    for i, (label, count) in enumerate(counts):
        y = i * row_h
        w = (width - label_w - 50) * count / top
        short = label if len(label) <= 22 else label[:21] + "…"
        rows.append(f'<text x="{label_w - 6}" y="{y + 13}" font-size="12" text-anchor="end">'
                    f'<title>{escape(label)}</title>{escape(short)}</text>'
                    f'<rect x="{label_w}" y="{y + 3}" width="{max(w, 1):.1f}" height="{row_h - 6}" fill="{_BAR}"/>'
                    f'<text x="{label_w + w + 4:.1f}" y="{y + 13}" font-size="12">'
                    f'{escape(value_format.format(count))}</text>')
    return Markup(f'<svg class="plot" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
                  f'role="img">{"".join(rows)}</svg>')


def _fmt(value: float) -> str:
    return f"{value:.4g}"
