"""``genscope bias RECORDS_OR_SCAN_DIR --by prompt|COLUMN [--reference REAL_RECORDS] --out DIR``."""

from __future__ import annotations

import argparse
import sys

from genscope.text import plural

HELP = "who appears: skin-tone shares of the faces per prompt or group (95% intervals), against real images"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bias", help=HELP.replace("%", "%%"),
                                   description=HELP + ", from the records of a scan run with --signals …,faces.")
    parser.add_argument("records", metavar="RECORDS_OR_SCAN_DIR")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="writes summary.json, bias.parquet (one row per face), bias_groups.parquet, report.html")
    parser.add_argument("--by", default="prompt", metavar="prompt|COLUMN",
                        help="group images by the generation prompt or by any column or meta key")
    parser.add_argument("--reference", metavar="REAL_RECORDS", help="records of real images to compare with")
    parser.add_argument("--recall", metavar="JSON",
                        help="correct the shares for the faces the detector misses: 'shipped' (its recall measured "
                             "per tone band and face size, models/faces/recall.json), or recall per ITA category as "
                             'a JSON file or text, e.g. {"dark": 0.8, "brown": 0.9} (see docs/bias.md)')
    parser.add_argument("--min-confidence", type=float, default=0.0, metavar="P",
                        help="leave out faces the detector gave a lower confidence (the scan keeps ≥ 0.5); 0.6 drops "
                             "most silhouettes and lights taken for faces in dramatically lit images")
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap and the permutation test")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from genscope.api.bias import bias
    from genscope.cli.options import library_call

    result = library_call(bias, args.records, by=args.by, reference=args.reference, recall=args.recall,
                          min_confidence=args.min_confidence, seed=args.seed)
    out = result.save(args.out)
    summary = result.summary
    print(f"{plural(summary['faces'], 'face')} in {plural(summary['judged'], 'image')}, "
          f"{plural(summary['groups'], 'group')} by {summary['by']} → {out}", file=sys.stderr)
    return 0
