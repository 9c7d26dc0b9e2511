"""False positives of the face detector: every box it reports on real photos judged by eye to hold no face.

    python benchmarks/faces_false_positives.py [--list benchmarks/faces_no_face.csv] [--out RESULTS.json]

``benchmarks/faces_no_face.csv`` lists photos of ``../shared/data/detect`` (paths, source, and why each holds no
face: no person, or animals, toys and objects with face-like parts, or people with no head in the frame), chosen on
contact sheets of all its real photos; photos with any person whose face might show were left out. Every box is
therefore a false positive; the rate is given per image at several confidence thresholds (the scan keeps ≥ 0.5).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from PIL import Image
from results_io import emit

from genscope.analyses.replication import wilson
from genscope.models.faces import FaceDetector

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "shared" / "data" / "detect"
THRESHOLDS = (0.5, 0.6, 0.7, 0.8)


def false_boxes(listing: Path, data: Path = DATA) -> tuple[int, list[dict]]:
    """The photos listed and every box the detector reports on them at the lowest threshold."""
    with listing.open() as f:
        rows = list(csv.DictReader(f))
    detector = FaceDetector(min_score=min(THRESHOLDS))
    boxes = []
    for row in rows:
        for face in detector.detect(Image.open(data / row["path"])):
            boxes.append({"path": row["path"], "reason": row["reason"], "confidence": round(face.confidence, 3),
                          "side": min(face.w, face.h)})
    return len(rows), boxes


def rates(images: int, boxes: list[dict]) -> dict:
    """Per threshold: boxes, boxes per image, photos with a box and the 95 % interval of that share."""
    out = {}
    for threshold in THRESHOLDS:
        kept = [b for b in boxes if b["confidence"] >= threshold]
        hit = len({b["path"] for b in kept})
        out[str(threshold)] = {"boxes": len(kept), "per_image": round(len(kept) / images, 4),
                               "images_with_a_box": hit,
                               "images_with_a_box_95": [round(v, 4) for v in wilson(hit, images)]}
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--list", type=Path, default=HERE / "faces_no_face.csv")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    images, boxes = false_boxes(args.list, args.data)
    with args.list.open() as f:
        sources = sorted({row["source"] for row in csv.DictReader(f)})
    emit({"images": images, "sources": sources, "per_threshold": rates(images, boxes), "boxes": boxes,
          "command": "python benchmarks/faces_false_positives.py"}, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
