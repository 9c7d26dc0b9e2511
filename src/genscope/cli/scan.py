"""``genscope scan PATH... --out DIR``."""

from __future__ import annotations

import argparse
import sys

from genscope.cli.options import (
    add_engine_arguments,
    add_replace_argument,
    byte_size,
    collect_signal_options,
    count,
    earlier_rows_note,
    engine_options,
    library_call,
    no_inputs_note,
    positive_int,
    signal_option,
)
from genscope.report import DEFAULT_HEATMAPS
from genscope.signals import REGISTRY, default_signals
from genscope.text import plural

HELP = "scan folders, files, path lists, CSV/Parquet manifests and .tar shards"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("scan", help=HELP, description=HELP + ". Rerun the same command to resume.")
    parser.add_argument("paths", nargs="+", metavar="PATH")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (records, summary, report)")
    parser.add_argument("--signals", metavar="A,B",
                        help=f"signals to compute (default: {','.join(default_signals())}; known: "
                             f"{','.join(REGISTRY)})")
    parser.add_argument("--signal-option", type=signal_option, action="append", metavar="SIGNAL.KEY=VALUE",
                        help="an option for one signal, e.g. detector.model=/path/to/model (repeatable)")
    parser.add_argument("--fast", action="store_true",
                        help="score with the fast detector (~4x faster, weaker on recent generators); same as "
                             "--signal-option detector.model=fast")
    add_engine_arguments(parser)
    parser.add_argument("--timeout", type=float, default=60.0, metavar="S", help="seconds allowed per file")
    parser.add_argument("--max-pixels", type=positive_int, default=100_000_000,
                        help="larger images are error rows (decompression-bomb guard)")
    parser.add_argument("--max-bytes", type=byte_size, default="256M", help="larger files are error rows")
    parser.add_argument("--all-files", action="store_true",
                        help="in folders, scan every file, not only image extensions")
    parser.add_argument("--report-rows", type=positive_int, default=500, help="rows in the report table")
    parser.add_argument("--heatmaps", type=count, default=DEFAULT_HEATMAPS, metavar="N",
                        help="report cards of the most likely generated images that get the detector's heat map "
                             "(seconds each on a CPU; 0 for none)")
    parser.add_argument("--no-report", action="store_true", help="skip report.html")
    add_replace_argument(parser)
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar and no final line")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from genscope.api.scan import scan

    signals = [s.strip() for s in args.signals.split(",") if s.strip()] if args.signals else None
    options = collect_signal_options(args.signal_option)
    if args.fast:
        options.setdefault("detector", {})["model"] = "fast"
    result = library_call(scan, args.paths, args.out, signals=signals, signal_options=options,
                          engine=engine_options(args), timeout_s=args.timeout, max_pixels=args.max_pixels,
                          max_bytes=args.max_bytes, all_files=args.all_files, report=not args.no_report,
                          report_rows=args.report_rows, report_heatmaps=args.heatmaps,
                          progress=False if args.quiet else None, replace=args.replace)
    s = result.summary
    if not s["inputs"]:  # even with --quiet: an empty scan is almost always a wrong path or filter
        print(no_inputs_note("scan", args.paths, "; --all-files reads every file") + f"; empty records → "
              f"{result.out}", file=sys.stderr)
    elif not args.quiet:
        print(f"scanned {plural(s['inputs'], 'input')}: {s['ok']} ok, {s['failed']} failed "
              f"({s['timing']['images_per_s']} images/s) → {result.out}", file=sys.stderr)
    if s["earlier_rows_dropped"] and not args.replace:  # even with --quiet: records the user may have wanted are gone
        print(earlier_rows_note(s["earlier_rows_dropped"], result.out), file=sys.stderr)
    return 0
