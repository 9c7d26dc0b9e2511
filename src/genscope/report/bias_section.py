"""The bias report: stacked bars of skin-tone shares per group against the reference, the ranked table and the
caveat, as one self-contained HTML page. Every text from records (group names are prompts) is escaped."""

from __future__ import annotations

import json
from collections import Counter
from html import escape
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from genscope.models.faces import RECALL
from genscope.models.faces.skintone import CATEGORY_NAMES, MONK_HEX
from genscope.report import svg
from genscope.report.columns import FACES
from genscope.report.sections import Block, Section, generic_section
from genscope.report.thumbs import image_uri, load_image, record_item
from genscope.sources.item import Item
from genscope.storage import write_text_atomic

# one swatch per ITA category, lightest first: Monk tones 1, 4, 5, 6, 7, 9 roughly span the same range
COLOURS = dict(zip(CATEGORY_NAMES, (f"#{MONK_HEX[i]}" for i in (0, 3, 4, 5, 6, 8)), strict=True))
CAVEAT = ("Skin tone here is measured from pixels (the Individual Typology Angle of the face's skin colour). It "
          "depends on lighting, white balance, make-up and image processing as much as on the person, and the face "
          "detector may miss some faces more often than others. Read the shares as a description of how people are "
          "rendered in these images, not as anyone's identity. Perceived gender, age and race are not inferred.")
BAR_W, BAR_H = 420, 18
GRID_GROUPS, GRID_FACES = 12, 12  # the most skewed groups, and faces per group spread over the tone range
LOAD_PX, CROP_PX = 768, 64
CANVAS = 640  # the scene side benchmarks/faces_recall.py pastes portraits into: sizes shown in its pixels too


def pick_faces(faces: pa.Table, group: str, count: int = GRID_FACES) -> list[dict[str, Any]]:
    """Up to ``count`` measured faces of the group spread evenly over its tone range, lightest (highest ITA) first;
    only those become Python rows, however many faces the group holds."""
    mine = faces.filter(pc.and_(pc.equal(faces.column("group"), group), pc.is_valid(faces.column("ita"))))
    mine = mine.sort_by([("ita", "descending")])
    if mine.num_rows > count:
        step = (mine.num_rows - 1) / (count - 1)
        mine = mine.take([round(i * step) for i in range(count)])
    return mine.to_pylist()


def face_crop(item: Item, width: int, face: dict[str, Any]) -> str | None:
    """The face cut from the image re-read at reduced size (the box scaled to it), as a ``data:`` URI."""
    image = load_image(item, LOAD_PX)
    if image is None or not width:
        return None
    scale = image.width / width
    box = (face["x"] * scale, face["y"] * scale, (face["x"] + face["w"]) * scale, (face["y"] + face["h"]) * scale)
    return image_uri(image.crop(tuple(round(v) for v in box)), CROP_PX)


def face_grid(summary: dict[str, Any], faces: pa.Table, located: pa.Table | None) -> str:
    """Per group (most skewed first) a row of face crops sorted by tone, each titled with its ITA and Monk tone; none
    for records that lack what locates an image (a table built by hand rather than by a scan). ``located``: path,
    shard, offset, bytes and width of the images with faces."""
    if located is None:
        return ""
    shown = {g["group"]: pick_faces(faces, g["group"]) for g in summary["per_group"][:GRID_GROUPS]}
    paths = pa.array([face["path"] for picked in shown.values() for face in picked], pa.string())
    where = {row["path"]: row for row in located.filter(pc.is_in(located.column("path"), value_set=paths)).to_pylist()}
    rows = []
    for group, picked in shown.items():
        cells = []
        for face in picked:
            record = where[face["path"]]
            uri = face_crop(record_item(record), record["width"], face)
            tip = escape(f"{face['path']}: ITA {face['ita']:.0f}°, {face['ita_category']}, Monk {face['monk']}")
            cells.append(f'<img src="{uri}" title="{tip}" alt="{tip}" height="{CROP_PX}">' if uri
                         else f'<span title="{tip}">?</span>')
        rows.append(f"<tr><td>{escape(str(group)[:120])}</td><td>{''.join(cells)}</td></tr>")
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


def band_label(edges: list[float], j: int) -> str:
    """A size band as the face's side in % of the image's shorter side, and in pixels of a 640 px image."""
    low, high = edges[j], edges[j + 1] if j + 1 < len(edges) else None
    pixels = f"{round(CANVAS * low)}–{round(CANVAS * high)} px" if high else f"≥ {round(CANVAS * low)} px"
    return (f"{100 * low:g}–{100 * high:g} %" if high else f"≥ {100 * low:g} %") + f"<br><small>{pixels}</small>"


def recall_rows(table: dict[str, dict[str, dict[str, Any]]], edges: list[float]) -> str:
    return "".join(f"<tr><td>{escape(name.replace('_', ' '))}</td>" + "".join(
        f"<td>{cells[str(e)]['recall']:.2f} ({cells[str(e)]['faces']})</td>" if str(e) in cells else "<td></td>"
        for e in edges) + "</tr>" for name, cells in table.items())


def recall_table() -> str:
    """The shipped detector's measured recall per tone band, face size and pose (``models/faces/recall.json``)."""
    measured = json.loads(RECALL.read_text())
    edges = measured["size_bands"]
    head = "".join(f"<th>{band_label(edges, j)}</th>" for j in range(len(edges)))
    extra, no_face = measured["extra_boxes_on_scenes"], measured["no_face_photos"]
    profiles = measured["profiles_in_photos"]
    return ("<h2>The face detector's recall per tone band, face size and pose</h2><p>Share of one-face portraits "
            "found (number of faces), by the face's side over the image's shorter side, the portraits shrunk and "
            f"pasted into real photos without faces; measured on {escape(', '.join(measured['folders']))}. Pose "
            f"judged by eye. Profile faces in real photos: {sum(p['found'] for p in profiles)} of {len(profiles)} "
            f"found. False faces: {no_face['at_0.5']['boxes']} boxes on {no_face['images']} real photos judged by eye "
            f"to hold none (animals and face-like objects among them); {extra['boxes']} boxes away from the pasted "
            f"face on the {extra['scenes']} scenes.</p>"
            f"<table><tr><th>tone</th>{head}</tr>{recall_rows(measured['per_tone'], edges)}"
            f"<tr><th>pose</th>{head}</tr>{recall_rows(measured['per_pose'], edges)}</table>")


def correction_note(correction: dict[str, Any] | None) -> str:
    """Whether and how the shares were corrected for the faces the detector misses."""
    if not correction:
        return ("<p>Shares are not corrected for the face detector's recall, which is lower for small dark faces "
                "(docs/bias.md; <code>--recall shipped</code> corrects them).</p>")
    if correction["size_bands"] is None:
        given = ", ".join(f"{k} {v}" for k, v in correction["recall"].items())
        return f"<p>Shares corrected for the detector's recall per tone band (taken as exact): {escape(given)}.</p>"
    left = correction["faces_uncorrected"]
    return ("<p>Shares and intervals corrected for the face detector's recall per tone band and face size (every face "
            "found stands for 1/recall faces of its band and size), measured on "
            f"{escape(', '.join(correction['measured_on'] or ['faces like these']))}: {escape(correction['interval'])}."
            + (f" {left} faces of a tone and size the detector never found in that measurement were counted once."
               if left else "") + "</p>")


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
    recall = correction_note(summary.get("recall_correction"))
    body = "".join(f"<tr><td>{escape(str(name)[:120])}</td><td>{faces}</td><td>{stacked_bar(shares)}</td>"
                   f"<td>{escape(note)}</td></tr>" for name, faces, shares, note in rows)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>genscope bias</title></head>"
            f"<body style='font-family:sans-serif'><h1>Who appears: skin tone per {escape(summary['by'])}</h1>"
            f"<p>{summary['faces']} faces in {summary['judged']} images ({summary['not_judged']} not judged); "
            f"groups ranked by {escape(summary['ranked_by'])}.</p><p>{legend}</p>"
            f"<table><tr><th>group</th><th>faces</th><th>tone shares (hover: 95% interval)</th><th></th></tr>"
            f"{body}</table>{recall}<p><b>Caveat.</b> {escape(CAVEAT)}</p>{recall_table()}{grid}</body></html>")


def write(summary: dict[str, Any], faces: pa.Table, located: pa.Table | None, target: Path) -> Path:
    write_text_atomic(target, render(summary, face_grid(summary, faces, located)))
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
