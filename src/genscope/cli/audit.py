"""``genscope audit RECORDS_OR_SCAN_DIR --out DIR``: generated share, diversity, shortcuts."""

from __future__ import annotations

import argparse
import sys

from genscope.cli.options import positive_int
from genscope.text import plural

HELP = "estimate the generated share (with a 95% interval), its diversity, and shortcut facts"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("audit", help=HELP.replace("%", "%%"),  # argparse %-formats help, not descriptions
                                   description=HELP + ", from the records of a scan.")
    parser.add_argument("records", metavar="RECORDS_OR_SCAN_DIR")
    parser.add_argument("--out", required=True, metavar="DIR", help="writes audit.json, audit_images.parquet, "
                        "report.html")
    parser.add_argument("--by", metavar="COLUMN", help="also per group: folder, shard, format, any column or meta key")
    parser.add_argument("--labels", metavar="COLUMN", help="a column or meta key holding real/generated labels")
    parser.add_argument("--embeddings", metavar="COLUMN|FILE",
                        help="vectors for diversity (default descriptor.vector): a column of the records, a .npz "
                             "with 'path' and 'vectors' arrays, or a .npy with one row per record in the order "
                             "of the records' sorted paths")
    parser.add_argument("--calibration", metavar="NPZ", help="labelled held-out detector scores (scores, labels); "
                        "default: the ones shipped with the detector")
    parser.add_argument("--threshold", type=float, help="detector threshold (default: the model's)")
    parser.add_argument("--sample", type=positive_int, metavar="N",
                        help="most rows for shortcut AUCs, diversity (per side) and the report: a uniform, seeded "
                             "sample above it (default 100,000: genscope.analyses.audit.AUDIT_SAMPLE); counts and "
                             "the share use every row")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from genscope.api.audit import audit
    from genscope.cli.options import library_call

    result = library_call(audit, args.records, by=args.by, labels=args.labels, embeddings=args.embeddings,
                          calibration=args.calibration, threshold=args.threshold,
                          **({"sample": args.sample} if args.sample else {}))
    out = result.save(args.out)
    share = result.summary["share"]
    line = (f"generated share {100 * share['estimate']:.1f}% (95% interval {100 * share['low']:.1f}–"
            f"{100 * share['high']:.1f}%)" if "estimate" in share
            else f"generated share ≥ {100 * share['lower_bound']:.1f}% (provenance only)")
    print(f"{line} over {plural(share['rows'], 'image')} → {out}", file=sys.stderr)
    return 0
