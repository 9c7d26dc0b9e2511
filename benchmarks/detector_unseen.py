"""The shipped detector on images from sources and generators it never saw in training.

    python benchmarks/detector_unseen.py [--model DIR]

Writes ``benchmarks/results/detector/unseen.json``.

The images are the provenance fixtures in ``../shared/data/provenance/`` that are whole photographs
or whole generator outputs, one per underlying picture (``detector_unseen.csv`` says which and
why): 2025–26 commercial generators (ChatGPT image, Gemini, DALL-E 3 through ChatGPT and Bing),
community front-ends of Stable Diffusion and NovelAI, and camera photos from collections outside
the training data (a Nikon Z 9 and a Pixel 5 at 11–12 MP, Lightroom exports, thumbnails, the
scikit-image test photos). Left out: synthetic graphics (a colour gradient, a text image, a
screenshot), the 1×1 and 64×64 metadata crops, edited variants of the same photo, and Photoshop's
generative fill (part real, part generated).

Every image is scored raw and normalised (384 px centre crop saved as JPEG q90 4:4:4, as the issue's
unseen-source evaluation does); AUC with a 95 % bootstrap interval, and the errors at the model's
threshold. It is a small set (14 generated, 12 real) and most generated images are anime
illustrations while the real ones are photographs, so read it as a check for gross failures, not
as a precise figure.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np

from genscope.models.detector import Detector, open_rgb
from genscope.models.detector.conditions import normalise
from genscope.train.eval_detector import binary_report

HERE = Path(__file__).resolve().parent
PROVENANCE = HERE.parents[1] / "shared" / "data" / "provenance"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="model directory (default: the shipped one)")
    parser.add_argument("--data", default=str(PROVENANCE), help="the shared provenance folder")
    parser.add_argument("--json", default=str(HERE / "results" / "detector" / "unseen.json"))
    parser.add_argument("--bootstrap", type=int, default=1000)
    args = parser.parse_args()
    data = Path(args.data)
    with open(HERE / "detector_unseen.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    missing = [r["file"] for r in rows if not (data / r["file"]).is_file()]
    if missing:
        raise SystemExit(f"{data}: {len(missing)} listed images are missing (first: {missing[0]})")
    detector = Detector.load(args.model)
    images = [open_rgb(data / r["file"]) for r in rows]
    y = np.array([r["label"] == "generated" for r in rows], dtype=int)
    groups = np.array([r["group"] for r in rows])
    result = {"images": len(rows), "generated": int(y.sum()), "real": int(len(y) - y.sum()), "conditions": {}}
    per_image = {r["file"]: {"label": r["label"]} for r in rows}
    for name, transform in (("raw", None), ("normalised", normalise)):
        shown = images if transform is None else [transform(im) for im in images]
        scores = np.array([p["ai_score"] for p in detector.predict(shown)])
        report = binary_report(y, scores, detector.threshold, detector.band, groups, args.bootstrap, 0)
        report["missed_generated"] = [r["file"] for r, s in zip(rows, scores, strict=True)
                                      if r["label"] == "generated" and s < detector.threshold]
        report["false_positives"] = [r["file"] for r, s in zip(rows, scores, strict=True)
                                     if r["label"] == "real" and s >= detector.threshold]
        result["conditions"][name] = report
        for r, s in zip(rows, scores, strict=True):
            per_image[r["file"]][name] = round(float(s), 4)
        print(f"{name}: AUC {report['auc']:.3f} [{report['auc_ci95'][0]:.3f}, {report['auc_ci95'][1]:.3f}]"
              f"  missed {len(report['missed_generated'])}/{int(y.sum())}"
              f"  false positives {len(report['false_positives'])}/{int(len(y) - y.sum())}", flush=True)
    result["per_image"] = per_image
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
