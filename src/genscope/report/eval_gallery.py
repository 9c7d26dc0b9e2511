"""The worst mistakes each way, with the detector's Grad-CAM over the image it scored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from genscope.models.detector import Detector, open_rgb
from genscope.models.detector.conditions import normalise
from genscope.report.heatmap import blend
from genscope.report.thumbs import image_uri

GALLERY_PX = 200


@dataclass
class Mistake:
    path: str
    source: str
    generator: str
    score: float  # normalised: the condition the report ranks by
    raw_score: float
    wrong: bool  # on the wrong side of the threshold (else the closest call of its class)
    thumb: str | None  # the file as stored
    heat: str | None  # Grad-CAM over the normalised crop that was scored


def worst(images: list[dict[str, Any]], label: int, k: int) -> list[dict[str, Any]]:
    """The ``k`` images of class ``label`` whose normalised score points most the other way."""
    members = [im for im in images if im["label"] == label]
    return sorted(members, key=lambda im: im["scores"]["normalised"], reverse=not label)[:k]


def _card(det: Detector, image: dict[str, Any]) -> Mistake:
    score = image["scores"]["normalised"]
    wrong = (score >= det.threshold) != bool(image["label"])
    try:
        original = open_rgb(image["path"])
        scored = normalise(original)
        thumb, heat = image_uri(original, GALLERY_PX), image_uri(blend(scored, det.explain(scored)), GALLERY_PX)
    except OSError:  # the file changed or vanished since it was evaluated: show the figures only
        thumb = heat = None
    return Mistake(image["path"], image["source"], image["generator"], score, image["scores"]["raw"], wrong,
                   thumb, heat)


def mistakes(det: Detector, images: list[dict[str, Any]], k: int = 6) -> dict[str, list[Mistake]]:
    """``false_positives``: real images scored most generated; ``false_negatives``: the reverse."""
    return {"false_positives": [_card(det, im) for im in worst(images, 0, k)],
            "false_negatives": [_card(det, im) for im in worst(images, 1, k)]}
