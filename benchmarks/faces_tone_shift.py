"""ITA under controlled darkening and lightening of real face photos, and the detector's recall as light changes.

    python benchmarks/faces_tone_shift.py FOLDER [FOLDER …] [--gains 0.5,0.7,0.85,1.0,1.15] [--out RESULTS.json]

Each image's face is found once at its own exposure; every pixel is then multiplied by each gain (8-bit, clipped).
ITA is measured in the same box at every gain, so only the light changes. Reports how many faces keep a strictly
monotone ITA and a monotone ITA category across the gains, the median ITA per gain, and the detector's recall at
each gain (it runs again on every darkened or lightened copy).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image
from results_io import emit

from genscope.models.faces import FaceDetector
from genscope.models.faces.skintone import CATEGORY_NAMES
from genscope.signals.faces import face_row


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--gains", default="0.5,0.7,0.85,1.0,1.15")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    gains = sorted(float(g) for g in args.gains.split(","))
    detector = FaceDetector()
    angles, ranks, found = [], [], np.zeros(len(gains))
    faces = 0
    for folder in args.folders:
        for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png")):
            image = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64)
            detected = detector.detect(Image.fromarray(image.astype(np.uint8)))
            if not detected:
                continue
            faces += 1
            row_angles, row_ranks = [], []
            for i, gain in enumerate(gains):
                pixels = np.clip(image * gain, 0, 255).astype(np.uint8)
                found[i] += bool(detector.detect(Image.fromarray(pixels)))
                row = face_row(detected[0], pixels)
                row_angles.append(row["ita"] if row["ita"] is not None else np.nan)
                row_ranks.append(CATEGORY_NAMES.index(row["ita_category"]) if row["ita_category"] else -1)
            angles.append(row_angles)
            ranks.append(row_ranks)
    a, r = np.array(angles), np.array(ranks)
    measured = ~np.isnan(a).any(axis=1)
    result = {
        "folders": [str(f) for f in args.folders], "gains": gains, "faces": faces, "measured_at_every_gain":
        int(measured.sum()),
        "ita_strictly_increasing_with_gain": int((np.diff(a[measured], axis=1) > 0).all(axis=1).sum()),
        # a darker copy never lands in a lighter category (rank 0 = very light)
        "category_monotone": int((np.diff(r[measured], axis=1) <= 0).all(axis=1).sum()),
        "median_ita_per_gain": {str(g): round(float(np.median(a[measured, i])), 1) for i, g in enumerate(gains)},
        "detector_recall_per_gain": {str(g): round(float(found[i] / max(faces, 1)), 3) for i, g in enumerate(gains)},
    }
    emit(result, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
