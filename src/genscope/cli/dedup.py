"""``genscope dedup PATH... --out DIR``: exact and near-duplicate groups, near-copy counts, a keep-list."""

from __future__ import annotations

import argparse
import sys

from genscope.cli.descriptor_options import (
    add_descriptor_arguments,
    descriptor_choice,
    limit_search_threads,
    progress,
)
from genscope.cli.options import add_replace_argument, cosine, library_call, no_inputs_note
from genscope.text import plural

HELP = "find duplicate and near-duplicate images"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("dedup", help=HELP, description=HELP + ": groups.parquet, keep.txt, "
                                   "summary.json and report.html in --out.")
    parser.add_argument("paths", nargs="+", metavar="PATH")
    parser.add_argument("--out", required=True, metavar="DIR")
    parser.add_argument("--threshold", type=cosine, metavar="T",
                        help="similarity at or above which two images are duplicates "
                             "(default 0.95)")
    parser.add_argument("--exact-only", action="store_true", help="identical bytes only (no descriptors)")
    parser.add_argument("--no-report", action="store_true", help="skip report.html")
    add_descriptor_arguments(parser)
    add_replace_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from genscope.api.copies import dedup

    limit_search_threads(args)
    result = library_call(dedup, args.paths, args.out, threshold=args.threshold, descriptor=descriptor_choice(args),
                   exact_only=args.exact_only, workers=args.workers, progress=progress(args),
                   report=not args.no_report, replace=args.replace)
    s = result.summary
    if not s["inputs"]:  # even with --quiet, as for scan
        print(no_inputs_note("dedup", args.paths) + f"; empty results → {args.out}", file=sys.stderr)
    elif not args.quiet:
        print(f"{plural(s['groups'], 'duplicate group')} ({plural(s['images_in_groups'], 'image')}); keep "
              f"{s['keep']} of {s['decoded']} → {args.out}", file=sys.stderr)
    return 0
