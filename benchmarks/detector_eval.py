"""Detector accuracy figures for the model card: writes metrics.json.

    python benchmarks/detector_eval.py --data ../shared/data/detect --data WEB/manifest.csv \
        --out benchmarks/results/detector

``WEB`` is the output of ``genscope data build-detect`` (the pinned web sources). The test split is
every manifest's ``val`` split; leave-one-source-out holds out each generated source of all manifests.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from genscope.train.eval_detector import evaluate


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=None, help="model name or directory (default: the shipped default)")
    p.add_argument("--data", action="append", help="manifest or folder; repeatable (default: ../shared/data/detect)")
    p.add_argument("--out", default="benchmarks/results/detector")
    p.add_argument("--bootstrap", type=int, default=1000)
    p.add_argument("--no-loso", action="store_true", help="skip leave-one-source-out")
    args = p.parse_args()
    metrics = evaluate(args.model, args.data or ["../shared/data/detect"], n_boot=args.bootstrap, loso=not args.no_loso)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(out / "metrics.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
