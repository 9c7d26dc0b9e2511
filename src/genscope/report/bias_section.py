"""The bias report: stacked bars of skin-tone shares per group against the reference, the ranked table and the
caveat, as one self-contained HTML page. Every text from records (group names are prompts) is escaped."""

from __future__ import annotations

import json
from collections import Counter
from html import escape
from pathlib import Path
from typing import Any

import pyarrow as pa

from genscope.models.faces.blazeface import WEIGHTS
from genscope.models.faces.skintone import CATEGORY_NAMES, MONK_HEX
from genscope.report import svg
from genscope.report.columns import FACES
from genscope.report.sections import Block, Section, generic_section
from genscope.report.thumbs import image_uri, load_image
from genscope.sources.item import Item

# one swatch per ITA category, lightest first: Monk tones 1, 4, 5, 6, 7, 9 roughly span the same range
COLOURS = dict(zip(CATEGORY_NAMES, (f"#{MONK_HEX[i]}" for i in (0, 3, 4, 5, 6, 8)), strict=True))
CAVEAT = ("Skin tone here is measured from pixels (the Individual Typology Angle of the face's skin colour). It "
          "depends on lighting, white balance, make-up and image processing as much as on the person, and the face "
          "detector may miss some faces more often than others. Read the shares as a description of how people are "
          "rendered in these images, not as anyone's identity. Perceived gender, age and race are not inferred.")
BAR_W, BAR_H = 420, 18
GRID_GROUPS, GRID_FACES = 12, 12  # the most skewed groups, and faces per group spread over the tone range
LOAD_PX, CROP_PX = 768, 64
RECALL = WEIGHTS.parent.parent / "recall.json"
CANVAS = 640  # the image side benchmarks/faces_recall.py shrinks portraits into


def pick_faces(faces: list[dict[str, Any]], count: int = GRID_FACES) -> list[dict[str, Any]]:
    """Up to ``count`` measured faces spread evenly over the group's tone range, lightest (highest ITA) first."""
    measured = sorted((f for f in faces if f["ita"] is not None), key=lambda f: -f["ita"])
    if len(measured) <= count:
        return measured
    step = (len(measured) - 1) / (count - 1)
    return [measured[round(i * step)] for i in range(count)]


def face_crop(item: Item, width: int, face: dict[str, Any]) -> str | None:
    """The face cut from the image re-read at reduced size (the box scaled to it), as a ``data:`` URI."""
    image = load_image(item, LOAD_PX)
    if image is None or not width:
        return None
    scale = image.width / width
    box = (face["x"] * scale, face["y"] * scale, (face["x"] + face["w"]) * scale, (face["y"] + face["h"]) * scale)
    return image_uri(image.crop(tuple(round(v) for v in box)), CROP_PX)


def face_grid(summary: dict[str, Any], faces: pa.Table, records: pa.Table) -> str:
    """Per group (most skewed first) a row of face crops sorted by tone, each titled with its ITA and Monk tone; none
    for a table that lacks what locates an image (one built by hand rather than by a scan)."""
    located = ["path", "shard", "offset", "bytes", "width"]
    if not set(located) <= set(records.column_names):
        return ""
    where = {row["path"]: row for row in records.select(located).to_pylist()}
    by_group: dict[str, list[dict[str, Any]]] = {}
    for face in faces.to_pylist():
        by_group.setdefault(face["group"], []).append(face)
    rows = []
    for group in summary["per_group"][:GRID_GROUPS]:
        cells = []
        for face in pick_faces(by_group.get(group["group"], [])):
            record = where[face["path"]]
            item = Item(path=record["path"], file=record["shard"] or record["path"], offset=record["offset"],
                        size=record["bytes"])
            uri = face_crop(item, record["width"], face)
            tip = escape(f"{face['path']}: ITA {face['ita']:.0f}°, {face['ita_category']}, Monk {face['monk']}")
            cells.append(f'<img src="{uri}" title="{tip}" alt="{tip}" height="{CROP_PX}">' if uri
                         else f'<span title="{tip}">?</span>')
        rows.append(f"<tr><td>{escape(str(group['group'])[:120])}</td><td>{''.join(cells)}</td></tr>")
    return ("<h2>Faces per group, lightest to darkest</h2><table>" + "".join(rows) + "</table>") if rows else ""


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


def recall_table() -> str:
    """The shipped detector's measured recall per tone band and face size (``models/faces/recall.json``)."""
    measured = json.loads(RECALL.read_text())
    sizes = measured["sizes"]
    head = "".join(f"<th>{f'{round(CANVAS * s)} px' if s < 1 else 'full size'}</th>" for s in sizes)
    rows = "".join(f"<tr><td>{escape(tone)}</td>" + "".join(
        f"<td>{cells[str(s)]['recall']:.2f} ({cells[str(s)]['faces']})</td>" for s in sizes) + "</tr>"
        for tone, cells in measured["per_tone"].items())
    return ("<h2>The face detector's recall per tone band</h2><p>Share of one-face portraits found (number of faces), "
            f"by the portrait's side in a {CANVAS} px image; measured on {escape(', '.join(measured['folders']))}."
            f"</p><table><tr><th>tone</th>{head}</tr>{rows}</table>")


def render(summary: dict[str, Any], grid: str = "") -> str:
    legend = " ".join(f'<span style="background:{c};padding:0 .6em;border:1px solid #999"></span> {escape(n)}'
                      for n, c in COLOURS.items())
    rows = []
    if summary["reference"]:
        rows.append(("reference (real)", summary["reference"]["faces"], summary["reference"]["shares"], ""))
    for group in summary["per_group"]:
        note = f"{group['images']} images; effective categories {group['effective_categories']:.2f}"
        if "tv" in group:
            interval = f" (95% {group['tv_low']:.2f}–{group['tv_high']:.2f})" if group["tv_low"] is not None else ""
            note += (f"; TV {group['tv']:.2f}{interval}, p = {group['p_value']} against the {group['reference']} "
                     "reference")
        rows.append((group["group"], group["faces"], group["shares"], note))
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
            f"{body}</table>{recall}<p><b>Caveat.</b> {escape(CAVEAT)}</p>{recall_table()}{grid}</body></html>")


def write(summary: dict[str, Any], faces: pa.Table, records: pa.Table, target: Path) -> Path:
    target.write_text(render(summary, face_grid(summary, faces, records)), encoding="utf-8")
    return target


def faces_section(table: pa.Table) -> Section:
    """The scan report's section for the faces signal: the generic column summaries, plus the tone categories and
    Monk tones of every face found, and the caveat. The per-group audit is ``genscope bias``."""
    section = generic_section(table, "faces")
    section.title = "Signal: faces (who appears)"
    faces = [face for image in table.column(FACES).to_pylist() for face in image or ()]
    categories = Counter(face["ita_category"] or "unmeasured" for face in faces)
    section.blocks.append(Block("skin tone (ITA category) of every face",
                                svg.bars([(name, categories[name]) for name in (*CATEGORY_NAMES, "unmeasured")
                                          if categories[name]]), f"{len(faces)} faces"))
    monks = Counter(face["monk"] for face in faces if face["monk"] is not None)
    section.blocks.append(Block("Monk skin tone", svg.bars([(f"MST {k}", monks[k]) for k in sorted(monks)])))
    section.intro += ". " + CAVEAT + " Per prompt or group, against real images: genscope bias."
    return section
