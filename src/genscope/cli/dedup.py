"""``genscope dedup PATH... --out DIR``: exact and near-duplicate groups, the judged pairs, a keep-list."""

from __future__ import annotations

import argparse
import sys

from genscope.cli.descriptor_options import (
    add_descriptor_arguments,
    add_keypoint_argument,
    descriptor_choice,
    limit_search_threads,
    progress,
)
from genscope.cli.options import (
    add_replace_argument,
    cosine,
    library_call,
    no_inputs_note,
    positive_int,
    whole_number,
)
from genscope.text import plural

HELP = "find duplicate and near-duplicate images"
# The figures below come from benchmarks/dedup_thresholds.py (docs/replication.md has the table).
RULE_NOTE = ("A pair is a duplicate when its descriptor similarity is at least --threshold, or at least --floor "
             "and confirmed by pHash (--max-phash-distance, either orientation) or ORB keypoints "
             "(--min-inliers). Groups join duplicates transitively, but two groups merge only when their "
             "sampled members are duplicates too. Defaults (lite0-fast; lite0's in brackets) chosen on the "
             "benchmark's tuning split; on its held-out split they give pair precision 0.996 (1.000) and recall "
             "0.979 (0.986) (docs/replication.md).")


def phash_bits(text: str) -> int:
    return whole_number(text, -1, 64, "a 64-bit pHash distance (or -1: never) is")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("dedup", help=HELP, description=HELP + ": groups.parquet, pairs.parquet, "
                                   "keep.txt, summary.json and report.html in --out. " + RULE_NOTE)
    parser.add_argument("paths", nargs="+", metavar="PATH")
    parser.add_argument("--out", required=True, metavar="DIR")
    parser.add_argument("--threshold", type=cosine, metavar="T",
                        help="descriptor similarity at or above which two images are duplicates without other "
                             "evidence (default 0.9, lite0 0.95; held-out benchmark with the other defaults: "
                             "0.8-0.95 → precision 0.996 recall 0.979, 1.0 → recall 0.972)")
    parser.add_argument("--floor", type=cosine, metavar="F",
                        help="similarity below which two images are never duplicates (default 0.15; held-out "
                             "benchmark: 0.1 → recall 0.983, 0.15 → 0.979, 0.3 → 0.949, 0.5 → 0.820, precision "
                             "0.996 to 1.000; lower costs more keypoint checks)")
    parser.add_argument("--max-phash-distance", type=phash_bits, metavar="BITS",
                        help="pHash Hamming distance that confirms a pair above --floor (default 10; -1: pHash "
                             "never decides). Held-out benchmark: -1 to 12 → the same pairs (precision 0.996), "
                             "lower costs more keypoint checks")
    parser.add_argument("--min-inliers", type=positive_int, metavar="N",
                        help="ORB keypoint inliers that confirm a pair above --floor (default 10). Held-out "
                             "benchmark: 6 → precision 0.996 recall 0.986, 10-15 → 0.996 / 0.979, 30 → 1.000 / "
                             "0.968; keypoints never deciding → recall 0.328")
    parser.add_argument("--exact-only", action="store_true", help="identical bytes only (no descriptors)")
    parser.add_argument("--no-report", action="store_true", help="skip report.html")
    add_descriptor_arguments(parser, default=None, default_note="default: lite0-fast, or lite0 where --out "
                             "already holds lite0 descriptors (a folder scanned with --signals descriptor)")
    add_keypoint_argument(parser)
    add_replace_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from genscope.api.copies import dedup, dedup_descriptor, dedup_rule
    from genscope.cli import UsageError

    limit_search_threads(args)
    choice = descriptor_choice(args, default=dedup_descriptor(args.out))
    try:
        rule = dedup_rule(choice, similarity=args.threshold, floor=args.floor, phash=args.max_phash_distance,
                          inliers=args.min_inliers)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    result = library_call(dedup, args.paths, args.out, rule=rule, descriptor=choice, exact_only=args.exact_only,
                          workers=args.workers, progress=progress(args), report=not args.no_report,
                          replace=args.replace)
    s = result.summary
    if not s["inputs"]:  # even with --quiet, as for scan
        print(no_inputs_note("dedup", args.paths) + f"; empty results → {args.out}", file=sys.stderr)
    elif not args.quiet:
        print(f"{plural(s['groups'], 'duplicate group')} ({plural(s['images_in_groups'], 'image')}); keep "
              f"{s['keep']} of {s['decoded']} → {args.out}", file=sys.stderr)
    return 0
