"""``genscope provenance FILE... [--json] [--trust-anchors PEM]``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

HELP = "read C2PA, generation metadata, invisible watermarks and camera EXIF of single files"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("provenance", help=HELP, description=HELP + ". No model is used.")
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--json", action="store_true", help="one JSON object per line per file")
    parser.add_argument("--trust-anchors", metavar="PEM",
                        help="PEM bundle of C2PA signing roots to trust (default: trust no signer)")
    parser.add_argument("--watermark", choices=("auto", "always"), default="auto",
                        help="'always' decodes watermarks even where they cannot survive (JPEG 4:2:0)")
    parser.set_defaults(func=run)


def _text(record: dict[str, Any]) -> str:
    """A few lines for a person: the verdict, its reasons, the file-level error if any."""
    lines = [f"{record.get('path') or '-'}: ai={record['ai']}"]
    if record.get("error"):
        lines[0] += f"  error={record['error']}"
        if record.get("error_message"):
            lines[0] += f" ({record['error_message']})"
    lines += [f"  - {reason}" for reason in record.get("reasons") or []]
    other = [code for code in record.get("errors") or [] if code != record.get("error")]
    if other:
        lines.append(f"  problems: {', '.join(other)}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from genscope.api.provenance import provenance
    from genscope.cli import UsageError
    from genscope.signals.provenance.c2pa import build_context, load_trust_anchors

    try:
        anchors = load_trust_anchors(args.trust_anchors)
        build_context(anchors)  # a bundle the SDK rejects is a usage error, reported once
    except Exception as exc:  # OSError, UnicodeDecodeError, C2paError: all mean "bad --trust-anchors"
        raise UsageError(f"--trust-anchors {args.trust_anchors}: {exc}") from None
    for path in args.files:
        record = provenance(path, trust_anchors=anchors, watermark=args.watermark)
        print(json.dumps(record, ensure_ascii=False) if args.json else _text(record))
        sys.stdout.flush()
    return 0
