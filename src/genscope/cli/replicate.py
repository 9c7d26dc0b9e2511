"""``genscope replicate --generated G --reference R --out DIR``: nearest training images of generated ones."""

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
from genscope.cli.options import add_replace_argument, cosine, engine_options, library_call, positive_int
from genscope.text import plural

HELP = "find generated images that copy reference (training) images"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("replicate", help=HELP, description=HELP + ": matches.parquet, summary.json "
                                   "(replication rate with a 95% CI) and report.html in --out.")
    parser.add_argument("--generated", nargs="+", required=True, metavar="PATH", help="generated images")
    parser.add_argument("--reference", nargs="+", metavar="PATH", help="reference images (or use --index)")
    parser.add_argument("--index", metavar="IDX", help="a folder made by `genscope index`")
    parser.add_argument("--out", required=True, metavar="DIR")
    parser.add_argument("--threshold", type=cosine, metavar="T",
                        help="top-1 similarity above which an image counts as a replication "
                             "(default: 0.6 for lite0, 0.5 for SSCD as in Somepalli et al.)")
    parser.add_argument("--k", type=positive_int, default=5, help="matches kept per generated image (default 5)")
    parser.add_argument("--group-by", metavar="KEY", help="metadata key for per-group rates (e.g. prompt)")
    parser.add_argument("--no-report", action="store_true", help="skip report.html")
    add_descriptor_arguments(parser, engine=True)
    add_keypoint_argument(parser)
    add_replace_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from genscope.api.copies import replicate
    from genscope.cli import UsageError
    from genscope.report.copies_pages import evidence_counts

    if bool(args.reference) == bool(args.index):
        raise UsageError("give --reference PATH... or --index IDX (one of them)")
    limit_search_threads(args)
    result = library_call(replicate, args.generated, args.out, reference=args.reference, index=args.index,
                   threshold=args.threshold, k=args.k, group_by=args.group_by, descriptor=descriptor_choice(args),
                   engine=engine_options(args), progress=progress(args), report=not args.no_report,
                   replace=args.replace)
    if not args.quiet:
        s = result.summary
        rate = s["replication_rate"]
        verb = "replicates" if s["replicated"] == 1 else "replicate"
        how = f": {evidence_counts(s)}" if s["replicated"] else ""
        print(f"{s['replicated']} of {plural(s['generated_with_descriptor'], 'generated image')} {verb} a reference "
              f"({'–' if rate is None else f'{100 * rate:.2f}%'}{how}) → {args.out}", file=sys.stderr)
    return 0
