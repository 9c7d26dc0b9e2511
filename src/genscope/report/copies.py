"""HTML reports of the copy analyses (replication, duplicates): cards, plots, tables, a gallery of image sets.

Every string reaches the page through Jinja autoescape; thumbnails are data URIs; no script runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import pyarrow as pa
from markupsafe import Markup

from genscope.report.thumbs import record_item, thumbnails
from genscope.sources.item import Item
from genscope.storage import write_text_atomic

FRAME = 100.0  # the gallery draws thumbnails letterboxed into a square; boxes are percentages of it
Box = tuple[float, float, float, float]
LOOKUP_COLUMNS = ("path", "shard", "offset", "bytes", "width", "height", "error")


@dataclass
class Side:
    path: str
    box: Box | None = None  # fractions of the image (x0, y0, x1, y1) to outline


@dataclass
class Pair:
    label: str
    sides: list[Side]
    hit: bool = False


@dataclass
class Page:
    title: str
    subtitle: str
    cards: list[tuple[str, Any]]
    summary: dict[str, Any]
    plots: list[tuple[str, Markup]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tables: list[dict[str, Any]] = field(default_factory=list)  # {"title", "header", "rows"}
    gallery_title: str = "Gallery"
    gallery_note: str = ""
    pairs: list[Pair] = field(default_factory=list)


class ImageLookup:
    """Where to re-read each path for its thumbnail, and its size (from records of one or more scans)."""

    def __init__(self, *tables: pa.Table) -> None:
        self.rows: dict[str, dict[str, Any]] = {}
        for table in tables:
            cols = [c for c in LOOKUP_COLUMNS if c in table.column_names]
            for row in table.select(cols).to_pylist():
                self.rows[row["path"]] = row

    def item(self, path: str) -> Item | None:
        row = self.rows.get(path)
        if row is None or row.get("error"):
            return None
        return record_item(row)

    def frame_box(self, path: str, box: Box | None) -> tuple[float, float, float, float] | None:
        """``box`` as (left, top, width, height) percentages of the square frame the thumbnail sits in."""
        row = self.rows.get(path)
        if box is None or not row or not row.get("width") or not row.get("height"):
            return None
        w, h = row["width"], row["height"]
        dw, dh = (FRAME, FRAME * h / w) if w >= h else (FRAME * w / h, FRAME)
        ox, oy = (FRAME - dw) / 2, (FRAME - dh) / 2
        x0, y0, x1, y1 = box
        return (round(ox + x0 * dw, 2), round(oy + y0 * dh, 2), round((x1 - x0) * dw, 2), round((y1 - y0) * dh, 2))


def render(page: Page, lookup: ImageLookup) -> str:
    paths = list(dict.fromkeys(side.path for pair in page.pairs for side in pair.sides))
    items = {p: lookup.item(p) for p in paths}
    wanted = [p for p in paths if items[p] is not None]
    uris = dict(zip(wanted, thumbnails([items[p] for p in wanted]), strict=True))
    pairs = [{"label": pair.label, "hit": pair.hit,
              "sides": [{"path": s.path, "thumb": uris.get(s.path), "box": lookup.frame_box(s.path, s.box)}
                        for s in pair.sides]} for pair in page.pairs]
    env = jinja2.Environment(loader=jinja2.PackageLoader("genscope.report", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    return env.get_template("copies.html.j2").render(
        title=page.title, subtitle=page.subtitle, generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        cards=page.cards, plots=page.plots, notes=page.notes, tables=page.tables,
        gallery_title=page.gallery_title, gallery_note=page.gallery_note, pairs=pairs,
        summary_json=json.dumps(page.summary, indent=2, ensure_ascii=False))


def write(page: Page, lookup: ImageLookup, target: Path) -> Path:
    return write_text_atomic(target, render(page, lookup))
