"""``genscope audit RECORDS_OR_SCAN_DIR --out DIR``: generated share, diversity, shortcuts."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

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
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import pyarrow.parquet as pq

    from genscope.analyses.audit import AuditError, run_audit
    from genscope.cli import UsageError
    from genscope.cli.records_input import load_calibration, load_records
    from genscope.report.html import write_report

    table, summary = load_records(args.records)
    try:
        audit = run_audit(table, calibration=load_calibration(args.calibration), by=args.by, labels=args.labels,
                          embeddings=args.embeddings, threshold=args.threshold)
    except AuditError as exc:
        raise UsageError(str(exc)) from None
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "audit.json").write_text(json.dumps(audit.summary, indent=2, ensure_ascii=False) + "\n")
    pq.write_table(audit.per_image, out / "audit_images.parquet")
    write_report(table, summary, out / "report.html", impact=audit.summary)
    share = audit.summary["share"]
    line = (f"generated share {100 * share['estimate']:.1f}% (95% interval {100 * share['low']:.1f}–"
            f"{100 * share['high']:.1f}%)" if "estimate" in share
            else f"generated share ≥ {100 * share['lower_bound']:.1f}% (provenance only)")
    print(f"{line} over {plural(share['rows'], 'image')} → {out}", file=sys.stderr)
    return 0

