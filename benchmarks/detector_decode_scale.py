"""How much a reduced-scale JPEG decode (Pillow ``draft``) moves the default detector's scores.

    python benchmarks/detector_decode_scale.py --data ../shared/data/detect --data WEB/manifest.csv \\
        --out benchmarks/results/detector/decode_scale.json

``detect`` and ``scan`` decode a JPEG at the smallest DCT scale that keeps ``min_side`` pixels on its shorter
side, because the CLIP view is 224 px; training and ``eval-detector`` decode the full image. For every JPEG
of the val split this scores the full decode and each ``--side``, and reports the mean and largest score
change, the verdicts that flip, the AUC of each, and the decode time per image.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from results_io import emit

from genscope.decode import decode
from genscope.metrics import auc
from genscope.models.detector import Detector
from genscope.train.data import read_rows


def scores(det: Detector, blobs: list[bytes], min_side: int | None) -> tuple[np.ndarray, float]:
    """The images' scores when decoded with ``min_side``, and the mean decode time in ms."""
    out, decode_s = [], 0.0
    for data in blobs:
        started = time.perf_counter()
        image = decode(data, min_side=min_side).image
        decode_s += time.perf_counter() - started
        out.append(det.score_windows([det.windows(image, "crop", None)])[0]["ai_score"])
    return np.array(out), 1000 * decode_s / max(len(blobs), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", action="append", required=True)
    parser.add_argument("--side", type=int, action="append", help="draft sides to try (default 224 and 448)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    rows = [r for d in args.data for r in read_rows(d) if r.split == "val"]
    blobs, labels = [], []
    for r in rows:
        data = Path(r.path).read_bytes()
        if data[:3] == b"\xff\xd8\xff":  # JPEG: the only format draft applies to
            blobs.append(data)
            labels.append(r.label)
    y = np.array(labels)
    det = Detector.load()
    full, full_ms = scores(det, blobs, None)
    result = {"jpegs": len(blobs), "generated": int(y.sum()), "full": {"auc": auc(y, full), "decode_ms": full_ms}}
    threshold = det.config["threshold"]
    for side in args.side or [224, 448]:
        drafted, ms = scores(det, blobs, side)
        diff = np.abs(drafted - full)
        result[f"draft_{side}"] = {"auc": auc(y, drafted), "decode_ms": ms, "mean_abs_diff": float(diff.mean()),
                                   "max_abs_diff": float(diff.max()),
                                   "verdict_flips": int(((drafted >= threshold) != (full >= threshold)).sum())}
    emit(result, args.out)


if __name__ == "__main__":
    main()
