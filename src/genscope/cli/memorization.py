"""``genscope memorization --generated G --group-by prompt --out DIR``: near-identical generations per prompt."""

from __future__ import annotations

import argparse
import sys

from genscope.cli.descriptor_options import (
    add_descriptor_arguments,
    descriptor_choice,
    limit_search_threads,
    progress,
)
from genscope.cli.options import add_replace_argument, cosine, library_call, positive_int
from genscope.text import plural

HELP = "find prompts whose generations come out near-identical (memorization)"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("memorization", help=HELP, description=HELP + ": groups.json, summary.json "
                                   "(with caption key phrases) and report.html in --out.")
    parser.add_argument("--generated", nargs="+", required=True, metavar="PATH",
                        help="generated images with metadata (a manifest with a prompt column, or WebDataset shards)")
    parser.add_argument("--group-by", default="prompt", metavar="KEY", help="metadata key that groups generations")
    parser.add_argument("--out", required=True, metavar="DIR")
    parser.add_argument("--threshold", type=cosine, metavar="T",
                        help="similarity for near-identical (default 0.95)")
    parser.add_argument("--min-size", type=positive_int, default=4, help="smallest group scored (default 4)")
    parser.add_argument("--no-report", action="store_true", help="skip report.html")
    add_descriptor_arguments(parser)
    add_replace_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from genscope.api.copies import memorization

    limit_search_threads(args)
    result = library_call(memorization, args.generated, args.out, group_by=args.group_by, threshold=args.threshold,
                          min_size=args.min_size, descriptor=descriptor_choice(args), workers=args.workers,
                          progress=progress(args), report=not args.no_report, replace=args.replace)
    s = result.summary
    if not args.quiet:
        have = "has" if s["images_with_group"] == 1 else "have"
        print(f"{s['groups_flagged']} of {plural(s['groups_scored'], 'group')} flagged as memorized "
              f"({plural(s['groups'], 'group')} by {args.group_by!r}, {s['groups_scored']} with at least "
              f"{plural(args.min_size, 'image')}; {s['images_with_group']} of {plural(s['images'], 'image')} {have} "
              f"a {args.group_by!r}) → {args.out}", file=sys.stderr)
    if not s["images_with_group"] and s["images"]:  # even with --quiet: the run measured nothing
        print(f"note: no image has a {args.group_by!r} value; groups come from a manifest column, a WebDataset "
              ".json field, or the .txt caption for 'prompt'/'caption'", file=sys.stderr)
    return 0
