"""Face detector recall per skin-tone band and per face size, on folders of one-face portraits.

    python benchmarks/faces_recall.py FOLDER [FOLDER …] [--sizes 1.0,0.25,0.1,0.05] [--out RESULTS.json]

The shipped figures (``src/genscope/models/faces/recall.json``, shown in every bias report) are this script's output on
the ``ffhq_faces`` and ``gan_tpdne_faces`` sources of ``../shared/data/detect-web/sources.csv``.

Every image holds exactly one face, centred (FFHQ-aligned portraits and thispersondoesnotexist faces are). The
tone band of each face is measured on a fixed central box, *independently of the detector*, so a face the detector
misses still counts in its band. Each portrait is also shrunk to a share of a 640 px grey canvas (``--sizes``) to
measure recall on small faces. A face counts as found when a detected box contains the portrait's centre.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image
from results_io import emit

from genscope.models.faces import FaceDetector
from genscope.models.faces.skintone import CATEGORY_NAMES, skin_tone

CANVAS = 640
CENTRAL = (0.35, 0.45, 0.65, 0.75)  # cheeks and nose of an aligned portrait


def band(image: Image.Image) -> str:
    w, h = image.size
    crop = np.asarray(image.crop((int(CENTRAL[0] * w), int(CENTRAL[1] * h), int(CENTRAL[2] * w),
                                  int(CENTRAL[3] * h))).convert("RGB"))
    tone = skin_tone(crop)
    return tone.category if tone else "unmeasured"


def placed(image: Image.Image, share: float) -> tuple[Image.Image, tuple[int, int]]:
    if share >= 1.0:
        return image, (image.width // 2, image.height // 2)
    side = max(8, round(CANVAS * share))
    canvas = Image.new("RGB", (CANVAS, CANVAS), (128, 128, 128))
    at = ((CANVAS - side) // 3, (CANVAS - side) // 2)  # off-centre, so the letterbox grid is not favoured
    canvas.paste(image.resize((side, side), Image.Resampling.LANCZOS), at)
    return canvas, (at[0] + side // 2, at[1] + side // 2)


def found(faces: list, centre: tuple[int, int]) -> bool:
    return any(f.x <= centre[0] <= f.x + f.w and f.y <= centre[1] <= f.y + f.h for f in faces)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--sizes", default="1.0,0.25,0.1,0.05")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    sizes = [float(s) for s in args.sizes.split(",")]
    detector = FaceDetector()
    hits: dict[tuple[str, float], list[bool]] = defaultdict(list)
    extra = 0  # boxes beyond the one face: false positives (a second real face is rare in these sets)
    started, images = time.perf_counter(), 0
    for folder in args.folders:
        for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png")):
            image = Image.open(path).convert("RGB")
            tone = band(image)
            for share in sizes:
                canvas, centre = placed(image, share)
                faces = detector.detect(canvas)
                hits[tone, share].append(found(faces, centre))
                extra += max(0, len(faces) - 1)
                images += 1
    seconds = time.perf_counter() - started
    table = {tone: {str(share): {"faces": len(hits[tone, share]), "recall": round(float(np.mean(hits[tone, share])), 3)}
                    for share in sizes if hits[tone, share]}
             for tone in (*CATEGORY_NAMES, "unmeasured") if any(hits[tone, s] for s in sizes)}
    result = {"folders": [str(f) for f in args.folders], "sizes": sizes, "per_tone": table,
              "extra_boxes": extra, "detections": images, "detections_per_second": round(images / seconds, 1)}
    emit(result, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
