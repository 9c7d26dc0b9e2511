"""The bias report: stacked bars of skin-tone shares per group against the reference, the ranked table and the
caveat, as one self-contained HTML page. Every text from records (group names are prompts) is escaped."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from genscope.skintone import CATEGORY_NAMES, MONK_HEX

# one swatch per ITA category, lightest first: Monk tones 1, 4, 5, 6, 7, 9 roughly span the same range
COLOURS = dict(zip(CATEGORY_NAMES, (f"#{MONK_HEX[i]}" for i in (0, 3, 4, 5, 6, 8)), strict=True))
CAVEAT = ("Skin tone here is measured from pixels (the Individual Typology Angle of the face's skin colour). It "
          "depends on lighting, white balance, make-up and image processing as much as on the person, and the face "
          "detector may miss some faces more often than others. Read the shares as a description of how people are "
          "rendered in these images, not as anyone's identity. Perceived gender, age and race are not inferred.")
BAR_W, BAR_H = 420, 18


def stacked_bar(shares: dict[str, dict[str, float]]) -> str:
    """One horizontal bar split by category share, with a tooltip per segment."""
    x, parts = 0.0, []
    for name in CATEGORY_NAMES:
        width = shares[name]["share"] * BAR_W
        tip = f"{name}: {100 * shares[name]['share']:.1f}% ({100 * shares[name]['low']:.1f}–" \
              f"{100 * shares[name]['high']:.1f}%)"
        parts.append(f'<rect x="{x:.1f}" width="{width:.1f}" height="{BAR_H}" fill="{COLOURS[name]}" '
                     f'stroke="#999" stroke-width="0.3"><title>{escape(tip)}</title></rect>')
        x += width
    return f'<svg width="{BAR_W}" height="{BAR_H}" role="img">{"".join(parts)}</svg>'


def render(summary: dict[str, Any]) -> str:
    legend = " ".join(f'<span style="background:{c};padding:0 .6em;border:1px solid #999"></span> {escape(n)}'
                      for n, c in COLOURS.items())
    rows = []
    if summary["reference"]:
        rows.append(("reference (real)", summary["reference"]["faces"], summary["reference"]["shares"], ""))
    for group in summary["per_group"]:
        extra = (f"TV {group['tv']:.2f} (95% {group['tv_low']}–{group['tv_high']}), p = {group['p_value']}"
                 if "tv" in group else "")
        rows.append((group["group"], group["faces"], group["shares"],
                     f"{group['images']} images; effective categories {group['effective_categories']:.2f}; {extra}"))
    correction = summary.get("recall_correction")
    recall = ("<p>Shares corrected for the face detector's recall per tone band: "
              + ", ".join(f"{escape(str(k))} {escape(str(v))}" for k, v in correction.items()) + ".</p>"
              if correction else "<p>Shares are not corrected for the face detector's recall, which is lower for "
              "small dark faces (docs/bias.md).</p>")
    body = "".join(f"<tr><td>{escape(str(name)[:120])}</td><td>{faces}</td><td>{stacked_bar(shares)}</td>"
                   f"<td>{escape(note)}</td></tr>" for name, faces, shares, note in rows)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>genscope bias</title></head>"
            f"<body style='font-family:sans-serif'><h1>Who appears: skin tone per {escape(summary['by'])}</h1>"
            f"<p>{summary['faces']} faces in {summary['judged']} images ({summary['not_judged']} not judged); "
            f"groups ranked by {escape(summary['ranked_by'])}.</p><p>{legend}</p>"
            f"<table><tr><th>group</th><th>faces</th><th>tone shares (hover: 95% interval)</th><th></th></tr>"
            f"{body}</table>{recall}<p><b>Caveat.</b> {escape(CAVEAT)}</p></body></html>")


def write(summary: dict[str, Any], target: Path) -> Path:
    target.write_text(render(summary), encoding="utf-8")
    return target
