"""``genscope eval-detector --model M --data D --out DIR``: metrics.json (raw, normalised, baselines,
robustness, leave-one-source-out) and report.html (curves, breakdowns, worst mistakes with Grad-CAM)."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("eval-detector", help="evaluate a detector honestly (writes metrics.json and "
                                                    "report.html)")
    p.add_argument("--model", default=None, help="model directory (default: the shipped weights)")
    p.add_argument("--data", required=True, action="append",
                   help="manifest CSV or folder with manifest.csv; repeat to evaluate on several together")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--split", default="val")
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for the AUC CI")
    p.add_argument("--no-loso", action="store_true", help="skip leave-one-source-out")
    p.add_argument("--mistakes", type=int, default=6, help="worst mistakes shown each way, with Grad-CAM")
    p.add_argument("--cache", default=None, help="the training feature cache to reuse for leave-one-source-out "
                                                 "(default: train-detector's, work-tmp/clip-cache or "
                                                 "work-tmp/detector-cache)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bars and no per-step lines")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from genscope.cli import UsageError
    from genscope.cli.options import library_call
    from genscope.models.detector import Detector
    from genscope.report.eval_page import write_eval_report
    from genscope.train.eval_detector import evaluate

    start = time.time()
    try:
        metrics = library_call(evaluate, args.model, args.data, split=args.split, n_boot=args.bootstrap,
                               loso=not args.no_loso, threads=args.threads, cache_dir=args.cache,
                               progress=False if args.quiet else None,
                               log=(lambda _: None) if args.quiet else None)
    except ValueError as exc:  # labels, splits, a model trained for another window size
        raise UsageError(str(exc)) from None
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    report = write_eval_report(metrics, out / "report.html", Detector.load(args.model, args.threads), args.mistakes)
    norm = metrics["conditions"]["normalised"]
    print(f"normalised AUC {norm['auc']:.4f} (95% CI {norm['auc_ci95'][0]:.3f}-{norm['auc_ci95'][1]:.3f}), "
          f"raw AUC {metrics['conditions']['raw']['auc']:.4f}; wrote {out / 'metrics.json'} and {report} "
          f"in {time.time() - start:.0f} s")
    return 0
