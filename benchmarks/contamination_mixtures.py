"""Does the generated-share estimate hold up? Mixtures with a known share, drawn from the val splits.

    python benchmarks/contamination_mixtures.py --data ../shared/data/detect/manifest.csv \
        --data WEB/manifest.csv --size 1000 [--draws 500]

``WEB`` is the output of ``genscope data build-detect``; without ``--data`` the shared set alone is used.

Writes the table to ``benchmarks/results/detector/mixtures.json``.

The detector and provenance signals score every val image once (a normal scan, resumable). For
each target share (0, 1, 5, 10, 30, 50 %) the script draws ``--draws`` mixtures of ``--size`` images
(generated and real val images drawn with replacement), estimates the share exactly as ``genscope
audit`` does (adjusted count with the calibration shipped with the detector — held-out scores from
the train split — plus provenance as hard evidence), and reports bias and 95 % interval coverage
next to the naive count above the threshold.

It also reports the benchmark's own resolution: how far the bias of an *unbiased* adjusted count
would stray by chance, with calibration and val as finite samples (200/203 and 65/90 images) of one
distribution — both pools resampled from their union, the bias at each share recomputed. A bias within
that spread cannot be told apart from noise of the data, whatever the estimator.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

import genscope
from genscope.analyses.audit import default_calibration, detector_scores, meta_values, model_threshold
from genscope.analyses.quantify import estimate_share

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "detect"
SHARES = (0.0, 0.01, 0.05, 0.10, 0.30, 0.50)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--data", action="append", help="manifest CSVs with label and split columns (repeatable; "
                                                        "default: the shared set)")
    parser.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "genscope-val-scan"))
    parser.add_argument("--json", default="benchmarks/results/detector/mixtures.json", help="where to save the table")
    args = parser.parse_args()
    calibration = default_calibration()
    if calibration is None:
        raise SystemExit("the detector's calibration.npz is missing")
    result = genscope.scan(args.data or [str(SHARED / "manifest.csv")], args.out, signals=["detector", "provenance"],
                           report=False, progress=True)
    table = result.records
    val = np.array([s == "val" for s in meta_values(table, "split")])
    labels = np.array([v == "generated" for v in meta_values(table, "label")])[val]
    scores = detector_scores(table)[val]
    proven = np.array([p == "yes" for p in table.column("provenance.ai").to_pylist()])[val]
    threshold = model_threshold(table)
    generated, real = np.flatnonzero(labels), np.flatnonzero(~labels)
    rng = np.random.default_rng(0)
    rows = []
    for share in SHARES:
        estimates, naive, covered, truth, widths = [], [], 0, [], []
        for draw in range(args.draws):
            n_generated = rng.binomial(args.size, share)
            chosen = np.concatenate([rng.choice(generated, n_generated), rng.choice(real, args.size - n_generated)])
            estimate = estimate_share(scores[chosen], calibration, threshold, known_generated=proven[chosen],
                                      draws=1000, seed=draw)
            actual = n_generated / args.size
            estimates.append(estimate.share)
            naive.append(estimate.naive)
            truth.append(actual)
            widths.append(estimate.high - estimate.low)
            covered += estimate.low <= actual <= estimate.high
        rows.append({"share": share, "bias_points": round(100 * (np.mean(estimates) - np.mean(truth)), 2),
                     "naive_bias_points": round(100 * (np.mean(naive) - np.mean(truth)), 2),
                     "coverage": round(covered / args.draws, 3),
                     "mean_interval_width_points": round(100 * float(np.mean(widths)), 1)})
        print(json.dumps(rows[-1]), flush=True)
    resolution = benchmark_resolution(scores[generated] >= threshold, scores[real] >= threshold,
                                      calibration.scores[calibration.labels] >= threshold,
                                      calibration.scores[~calibration.labels] >= threshold, rng)
    summary = {"resolution": resolution, "val_images": int(val.sum()), "generated": len(generated), "real": len(real),
               "proven_by_provenance": int(proven.sum()), "threshold": threshold,
               "calibration": {"images": len(calibration.labels), "generated": calibration.positives},
               "tpr_fpr_calibration": calibration.rates(threshold),
               "tpr_fpr_val": (float((scores[generated] >= threshold).mean()),
                               float((scores[real] >= threshold).mean()))}
    print(json.dumps(summary))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    saved = {"draws": args.draws, "size": args.size, "rows": rows, **summary}
    Path(args.json).write_text(json.dumps(saved, indent=2) + "\n")
    return 0


def benchmark_resolution(val_generated: np.ndarray, val_real: np.ndarray, cal_generated: np.ndarray,
                         cal_real: np.ndarray, rng: np.random.Generator, draws: int = 5000) -> dict:
    """Spread of the adjusted count's bias from sample size alone: flags above the threshold of val and
    calibration images, each pool redrawn (its own size) from the union of both, per share."""
    generated, real = np.r_[val_generated, cal_generated], np.r_[val_real, cal_real]

    def rate(pool: np.ndarray, n: int) -> np.ndarray:
        return rng.choice(pool, (draws, n)).mean(axis=1)

    tpr_val, fpr_val = rate(generated, len(val_generated)), rate(real, len(val_real))
    tpr_cal, fpr_cal = rate(generated, len(cal_generated)), rate(real, len(cal_real))
    out = {}
    for share in (0.10, 0.30):
        bias = 100 * ((share * tpr_val + (1 - share) * fpr_val - fpr_cal) / (tpr_cal - fpr_cal) - share)
        out[f"{share:.2f}"] = {"bias_sd_points": round(float(bias.std()), 2),
                               "p_abs_bias_within_2_points": round(float((np.abs(bias) <= 2).mean()), 3)}
    return out


if __name__ == "__main__":
    raise SystemExit(main())
