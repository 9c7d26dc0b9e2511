"""``genscope eval-detector --model M --data D --out DIR``: metrics.json (raw, normalised, baselines,
robustness, leave-one-source-out)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("eval-detector", help="evaluate a detector honestly (writes metrics.json)")
    p.add_argument("--model", default=None, help="model directory (default: the shipped weights)")
    p.add_argument("--data", required=True, help="manifest CSV or folder with manifest.csv")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--split", default="val")
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for the AUC CI")
    p.add_argument("--no-loso", action="store_true", help="skip leave-one-source-out")
    p.add_argument("--threads", type=int, default=None)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from genscope.train.eval_detector import evaluate

    metrics = evaluate(args.model, args.data, split=args.split, n_boot=args.bootstrap, loso=not args.no_loso,
                       threads=args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    norm = metrics["conditions"]["normalised"]
    print(f"normalised AUC {norm['auc']:.4f} (95% CI {norm['auc_ci95'][0]:.3f}-{norm['auc_ci95'][1]:.3f}), "
          f"raw AUC {metrics['conditions']['raw']['auc']:.4f}; wrote {out / 'metrics.json'}")
    return 0
