"""``genscope`` command line: argument parsing only; every command calls the library.

Each command is a module with ``register(subparsers)`` that sets ``func=run``. Exit codes:
0 the job completed (even with per-file errors), 1 a fatal error, 2 a usage error.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from genscope import __version__

COMMANDS = [
    "genscope.cli.scan",
    "genscope.cli.provenance",
    "genscope.cli.detect",
    "genscope.cli.explain",
    "genscope.cli.index",
    "genscope.cli.replicate",
    "genscope.cli.dedup",
    "genscope.cli.memorization",
    "genscope.cli.audit",
    "genscope.cli.clean",
    "genscope.cli.train_detector",
    "genscope.cli.eval_detector",
]


class UsageError(Exception):
    """Bad arguments: reported as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="genscope", description="Audit image collections for AI-generated "
                                     "content: detection, provenance, replication, dataset impact.")
    parser.add_argument("--version", action="version", version=f"genscope {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        importlib.import_module(module).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        print(f"genscope {args.command}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(f"genscope {args.command}: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    except Exception as exc:  # one line for the user; GENSCOPE_DEBUG=1 shows the traceback
        if os.environ.get("GENSCOPE_DEBUG"):
            raise
        print(f"genscope {args.command}: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
