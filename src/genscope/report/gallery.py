"""The report's two galleries: the images most likely generated (proof first, then by score) and those the
detector leans real on but is unsure of. Each card: thumbnail, verdict, score, reasons and, for the first
``heatmaps`` cards, the detector's heat map (shown on hover or tap)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from genscope.report import DEFAULT_HEATMAPS, evidence
from genscope.report.columns import DETECTOR_VERSION, PROOF, SCORE
from genscope.report.thumbs import image_uri, load_image, record_item, thumbnails

CARD_PX = 240
GALLERY_MAX = 24  # per gallery; the table holds the rest

COLUMNS = ("path", "shard", "offset", "bytes", "error", *evidence.COLUMNS, DETECTOR_VERSION)


@dataclass
class Card:
    path: str
    verdict: evidence.Verdict
    score: float | None
    reasons: list[str]
    thumb: str | None = None
    heat: str | None = None


@dataclass
class Galleries:
    generated: list[Card]
    generated_total: int
    uncertain: list[Card]
    uncertain_total: int
    band: tuple[float, float]
    heat_method: str | None  # how the heat maps were made, None when there are none


def _score(row: dict[str, Any]) -> float:
    score = row.get(SCORE)
    return score if score is not None and math.isfinite(score) else -1.0


def pick(rows: list[dict[str, Any]], band: tuple[float, float]) -> tuple[list[dict], list[dict]]:
    """Most likely generated: proof, then every score at or above the threshold, highest first. Likely real
    but uncertain: no proof, a score in the band below the threshold, closest to the threshold first."""
    likely, unsure = [], []
    for row in rows:
        v = evidence.verdict(row)
        if v.tone in ("proof", "generated", "uncertain-generated"):
            likely.append(row)
        elif v.tone == "uncertain-real" and _score(row) >= band[0]:
            unsure.append(row)
    likely.sort(key=lambda r: (evidence.verdict(r).rank != 0, -_score(r), r["path"]))
    unsure.sort(key=lambda r: (-_score(r), r["path"]))
    return likely, unsure


def heat_maps(rows: list[dict[str, Any]]) -> tuple[list[str | None], str | None]:
    """Heat-map thumbnails by the model that scored, or none when that model is not a shipped one."""
    from genscope.models.detector import Detector
    from genscope.models.registry import ModelNotAvailable
    from genscope.report.heatmap import blend

    names = {evidence.detector_model(r.get(DETECTOR_VERSION)) for r in rows}
    if not rows or len(names) != 1 or None in names:
        return [None] * len(rows), None
    try:
        detector = Detector.load(names.pop())
    except (ModelNotAvailable, OSError, ValueError):
        return [None] * len(rows), None
    uris: list[str | None] = []
    for row in rows:
        image = load_image(record_item(row), 1024)  # the CLIP view is 224 px; the fast model's windows 192
        try:
            uris.append(None if image is None else image_uri(blend(image, detector.explain(image)), CARD_PX))
        except (OSError, ValueError):  # unreadable now, or too small to explain
            uris.append(None)
    method = ("occlusion: the parts whose greying out lowers the score most" if detector.kind == "clip"
              else "Grad-CAM: the parts that raise the score most")
    return uris, method


def galleries(table: pa.Table, heatmaps: int = DEFAULT_HEATMAPS) -> Galleries | None:
    """None when the records hold neither detector scores nor provenance."""
    if SCORE not in table.column_names and PROOF not in table.column_names:
        return None
    rows = table.select([c for c in COLUMNS if c in table.column_names]).to_pylist()
    versions = [r.get(DETECTOR_VERSION) for r in rows if r.get(DETECTOR_VERSION)]
    band = evidence.band_of(versions[0] if versions else None)
    likely, unsure = pick(rows, band)
    shown = likely[:GALLERY_MAX] + unsure[:GALLERY_MAX]
    thumbs = thumbnails([record_item(r) for r in shown], size=CARD_PX)
    scored = [r for r in likely[:heatmaps] if r.get(SCORE) is not None]
    heats, method = heat_maps(scored)
    heat_of = {r["path"]: h for r, h in zip(scored, heats, strict=True)}
    cards = [Card(r["path"], evidence.verdict(r), r.get(SCORE), evidence.reasons(r, band), thumb,
                  heat_of.get(r["path"])) for r, thumb in zip(shown, thumbs, strict=True)]
    count = len(likely[:GALLERY_MAX])
    return Galleries(cards[:count], len(likely), cards[count:], len(unsure), band,
                     method if any(heats) else None)
