"""``genscope index PATH... --out IDX``: descriptors + a FAISS index, reusable by ``replicate --index``."""

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
from genscope.cli.options import add_replace_argument, earlier_rows_note, engine_options, library_call
from genscope.text import plural

HELP = "embed reference images and save a copy-search index (rerun with the same paths plus new ones to extend it)"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("index", help=HELP, description=HELP + ".")
    parser.add_argument("paths", nargs="+", metavar="PATH")
    parser.add_argument("--out", required=True, metavar="IDX", help="folder for records and index files")
    parser.add_argument("--kind", choices=("auto", "flat", "ivf", "ivfpq"), default="auto",
                        help="exact (flat) by default; approximate IVF/PQ above 2M vectors")
    add_descriptor_arguments(parser, engine=True)
    add_keypoint_argument(parser)
    add_replace_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from genscope.api.copies import build_index

    limit_search_threads(args)
    index = library_call(build_index, args.paths, args.out, descriptor=descriptor_choice(args), kind=args.kind,
                  engine=engine_options(args), progress=progress(args), replace=args.replace)
    if not args.quiet:
        print(f"indexed {plural(index.meta['count'], 'image')} ({index.meta['factory']}) → {args.out}", file=sys.stderr)
    if index.meta["earlier_rows_dropped"] and not args.replace:
        print(earlier_rows_note(index.meta["earlier_rows_dropped"], args.out), file=sys.stderr)
    return 0

