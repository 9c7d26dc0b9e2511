"""Small inline SVG plots drawn by hand: the report needs no JS library and no network."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from markupsafe import Markup

_BAR = "#4c78a8"
PALETTE = ("#4c78a8", "#e45756", "#54a24b", "#f58518", "#b279a2", "#9d755d", "#72b7b2")
Series = tuple[str, Sequence[float], Sequence[float]]  # legend label, x values, y values


def histogram(values: list[float], *, bins: int = 24, width: int = 360, height: int = 110,
              marker: float | None = None) -> Markup:
    """Bars of a histogram with axis-end labels; ``marker`` draws a vertical line (a threshold). The axis ends
    at Tukey's far-out fences, so one extreme value cannot squash the rest into a single bar: values beyond
    are counted in the end bins, whose labels then read ``≤``/``≥``."""
    values = [v for v in values if math.isfinite(v)]  # signals may emit NaN or inf: not plottable
    if not values:
        return Markup("")
    low, high = robust_range(values)
    span = (high - low) or 1.0
    counts = [0] * bins
    for value in values:
        counts[max(0, min(bins - 1, int((value - low) / span * bins)))] += 1
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
    left = ("≤ " if min(values) < low else "") + _fmt(low)
    right = ("≥ " if max(values) > high else "") + _fmt(high)
    labels = (f'<text x="0" y="{height - 4}" font-size="11">{escape(left)}</text>'
              f'<text x="{width}" y="{height - 4}" font-size="11" text-anchor="end">{escape(right)}</text>')
    return Markup(f'<svg class="plot" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
                  f'role="img">{bars}{line}{labels}</svg>')


def robust_range(values: list[float]) -> tuple[float, float]:
    """(min, max), each pulled in to Tukey's far-out fence (quartile ∓ 3 IQR) when it lies beyond."""
    ordered = sorted(values)
    q1, q3 = ordered[len(ordered) // 4], ordered[(3 * len(ordered)) // 4]
    iqr = q3 - q1
    if iqr <= 0:  # half the values or more are equal: no scale to call anything far out
        return ordered[0], ordered[-1]
    return max(ordered[0], q1 - 3 * iqr), min(ordered[-1], q3 + 3 * iqr)


def bars(counts: list[tuple[str, float]], *, width: int = 360, row_h: int = 18, value_format: str = "{:g}",
         scale_max: float | None = None, label_w: int = 170,
         intervals: list[tuple[float, float]] | None = None) -> Markup:
    """Horizontal labelled bars, one per (label, value); labels are escaped. ``scale_max`` fixes the full length;
    labels longer than ``label_w`` holds are cut (the full label is the tooltip). ``intervals`` (one (low, high)
    per bar) draws each bar's interval as a whisker and prints it after the value."""
    if not counts:
        return Markup("")
    top = scale_max or max(count for _, count in counts) or 1
    max_chars = label_w * 22 // 170  # ~7.7 px per character at font-size 12
    height = row_h * len(counts)
    rows = []
    value_w = 50 if intervals is None else 120  # room after the longest bar for the printed value
    length = width - label_w - value_w
    for i, (label, count) in enumerate(counts):
        y = i * row_h
        w = length * count / top
        short = label if len(label) <= max_chars else label[:max_chars - 1] + "…"
        text = value_format.format(count)
        whisker, end = "", w
        if intervals is not None:
            lo, hi = intervals[i]
            text += f" ({value_format.format(lo)}–{value_format.format(hi)})"
            x0, x1 = label_w + length * lo / top, label_w + length * hi / top
            whisker = (f'<line x1="{x0:.1f}" x2="{x1:.1f}" y1="{y + row_h / 2:.1f}" y2="{y + row_h / 2:.1f}" '
                       f'stroke="#1d2433" stroke-width="1.5"/>')
            end = max(w, length * hi / top)
        rows.append(f'<text x="{label_w - 6}" y="{y + 13}" font-size="12" text-anchor="end">'
                    f'<title>{escape(label)}</title>{escape(short)}</text>'
                    f'<rect x="{label_w}" y="{y + 3}" width="{max(w, 1):.1f}" height="{row_h - 6}" fill="{_BAR}"/>'
                    f'{whisker}<text x="{label_w + end + 4:.1f}" y="{y + 13}" font-size="12">{escape(text)}</text>')
    return Markup(f'<svg class="plot" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
                  f'role="img">{"".join(rows)}</svg>')


def curves(series: list[Series], *, x_label: str, y_label: str, size: int = 330, points: bool = False,
           guide: tuple[float, float, float, float] | None = None) -> Markup:
    """Lines in the unit square with a grid, tick labels and a legend below (labels escaped). ``points`` marks
    every value (for few, binned values); ``guide`` = (x1, y1, x2, y2) draws a dashed reference line."""
    left, top, pad = 40, 8, 12
    inner = size - left - pad
    bottom = top + inner
    legend_top = bottom + 46
    height = legend_top + 18 * len(series)

    def px(x: float) -> float:
        return left + x * inner

    def py(y: float) -> float:
        return top + (1 - y) * inner

    parts = []
    for t in (0, 0.25, 0.5, 0.75, 1):
        parts.append(f'<line x1="{px(t):.1f}" x2="{px(t):.1f}" y1="{top}" y2="{bottom}" stroke="#eceef2"/>'
                     f'<line x1="{left}" x2="{px(1):.1f}" y1="{py(t):.1f}" y2="{py(t):.1f}" stroke="#eceef2"/>'
                     f'<text x="{px(t):.1f}" y="{bottom + 14}" font-size="10" text-anchor="middle">{t:g}</text>'
                     f'<text x="{left - 5}" y="{py(t) + 3.5:.1f}" font-size="10" text-anchor="end">{t:g}</text>')
    parts.append(f'<rect x="{left}" y="{top}" width="{inner}" height="{inner}" fill="none" stroke="#aab"/>')
    if guide is not None:
        x1, y1, x2, y2 = guide
        parts.append(f'<line x1="{px(x1):.1f}" y1="{py(y1):.1f}" x2="{px(x2):.1f}" y2="{py(y2):.1f}" '
                     f'stroke="#999" stroke-dasharray="4 4"/>')
    parts.append(f'<text x="{px(0.5):.1f}" y="{bottom + 31}" font-size="11" text-anchor="middle">'
                 f'{escape(x_label)}</text><text x="11" y="{py(0.5):.1f}" font-size="11" text-anchor="middle" '
                 f'transform="rotate(-90 11 {py(0.5):.1f})">{escape(y_label)}</text>')
    for i, (label, xs, ys) in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        xy = [(px(x), py(y)) for x, y in zip(xs, ys, strict=True) if math.isfinite(x) and math.isfinite(y)]
        coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
        parts.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2">'
                     f'<title>{escape(label)}</title></polyline>')
        if points:
            parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>' for x, y in xy]
        y = legend_top + 18 * i
        parts.append(f'<line x1="{left}" x2="{left + 22}" y1="{y - 4}" y2="{y - 4}" stroke="{colour}" '
                     f'stroke-width="3"/><text x="{left + 28}" y="{y}" font-size="11">{escape(label)}</text>')
    return Markup(f'<svg class="plot" width="{size}" height="{height}" viewBox="0 0 {size} {height}" '
                  f'role="img">{"".join(parts)}</svg>')


def _fmt(value: float) -> str:
    return f"{value:.4g}"
