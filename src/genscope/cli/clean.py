"""``genscope clean RECORDS --max-generated 1% --out keep.csv``: a keep-list with a stated residual."""

from __future__ import annotations

import argparse
import json
import sys

from genscope.text import plural

HELP = "write a keep-list whose estimated generated share is at most a target"


def fraction(text: str) -> float:
    """``1%`` or ``0.01``; a bare ``1`` (one percent or all of it?) is refused with a hint."""
    percent = text.endswith("%")
    try:
        value = float(text[:-1]) / 100 if percent else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a share like 1% or 0.01: {text!r}") from None
    if not percent and value >= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is ambiguous: write {text}% for {text} percent, or a fraction "
                                         f"below 1 such as {float(text) / 100:g}")
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 0% and below 100%: {text!r}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("clean", help=HELP, description=HELP + ". Images proven generated and images "
                                   "that could not be assessed are always dropped. Exit status 1 when no cut "
                                   "that keeps an image meets the target (the list then holds the cut with "
                                   "the smallest estimated residual).")
    parser.add_argument("records", metavar="RECORDS_OR_SCAN_DIR")
    parser.add_argument("--max-generated", type=fraction, required=True, metavar="SHARE",
                        help="target for the kept set: a percentage (1%%) or a fraction (0.01)")
    parser.add_argument("--out", required=True, metavar="KEEP.csv|KEEP.parquet",
                        help="the kept rows with the records' columns (CSV leaves out nested and binary columns: "
                             "vectors, maps, keypoint codes; Parquet keeps them all)")
    parser.add_argument("--calibration", metavar="NPZ", help="labelled held-out detector scores (default: shipped)")
    parser.add_argument("--drop-duplicates", metavar="DEDUP_DIR",
                        help="also drop every copy but the representative, as `genscope dedup` found them")
    parser.add_argument("--threshold", type=float, help="detector operating threshold (default: the model's)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from genscope.api.clean import clean
    from genscope.cli.options import library_call

    result = library_call(clean, args.records, args.max_generated, calibration=args.calibration,
                          threshold=args.threshold, drop_duplicates=args.drop_duplicates)
    out = result.write_keep_list(args.out)
    plan, duplicates = result.plan, result.dropped_as_duplicates
    print(json.dumps(result.summary))
    dropped_copies = (f", {plural(duplicates, 'duplicate copy', 'duplicate copies')} dropped first"
                      if args.drop_duplicates else "")
    real = round(plan.real_dropped)
    print(f"kept {plan.kept} of {result.inputs}{dropped_copies}: estimated generated share "
          f"{100 * plan.residual_share:.2f}% "
          f"(95% interval {100 * plan.residual_low:.2f}–{100 * plan.residual_high:.2f}%), {_verdict(plan)}; about "
          f"{plural(real, 'real image')} dropped ({plan.real_dropped_low:.0f}–{plan.real_dropped_high:.0f}) "
          f"→ {out}", file=sys.stderr)
    return 0 if plan.reachable else 1


def _verdict(plan) -> str:
    """Meeting a target is a claim about the interval, not only the estimate."""
    target = f"{100 * plan.target:g}% target"
    if plan.promised:
        return f"meets the {target}"
    if plan.reachable:
        return (f"the estimate is within the {target} but the interval is not: it can promise at most "
                f"{100 * plan.residual_high:.2f}%")
    return f"CANNOT meet the {target}"

