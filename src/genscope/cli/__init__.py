"""``genscope`` command line: argument parsing only; every command calls the library.

Each command is a module with ``register(subparsers)`` that sets ``func=run``. Exit codes:
0 the job completed (even with per-file errors), 1 a fatal error, 2 a usage error.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import os
import sys
from typing import Any, NoReturn

from genscope import __version__
from genscope.errors import InputError, RunError

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
    "genscope.cli.bias",
    "genscope.cli.train_detector",
    "genscope.cli.eval_detector",
    "genscope.cli.models",
    "genscope.cli.data",
]


class UsageError(InputError):
    """Bad arguments: reported as one line, exit code 2."""


class DefaultsFormatter(argparse.HelpFormatter):
    """Help that ends each option with its default, unless the text already names one or there is none."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if (action.default in (None, False, argparse.SUPPRESS) or not action.option_strings
                or "default" in text.lower()):
            return action.help
        return f"{text} (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """argparse with errors on one line: its usage block buries the line that matters."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", DefaultsFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}; see {self.prog} --help\n")

    def check_options(self, args: list[str]) -> None:
        """Name an unknown ``--option`` first: argparse would report a missing required one instead."""
        known = [o for o in self._option_string_actions if o.startswith("--")]
        commands = {name: parser for action in self._actions if isinstance(action, argparse._SubParsersAction)
                    for name, parser in action.choices.items()}
        for at, token in enumerate(args):
            if token == "--":
                return
            if token in commands:  # the rest belongs to the (sub)command
                commands[token].check_options(args[at + 1:])
                return
            name = token.split("=", 1)[0]
            if name.startswith("--") and not any(option.startswith(name) for option in known):
                close = difflib.get_close_matches(name, known, n=1)
                self.error(f"unknown option {name}" + (f" (did you mean {close[0]}?)" if close else ""))


def build_parser() -> Parser:
    parser = Parser(prog="genscope", description="Audit image collections for AI-generated "
                    "content: detection, provenance, replication, dataset impact.")
    parser.add_argument("--version", action="version", version=f"genscope {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        importlib.import_module(module).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    parser.check_options(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except InputError as exc:  # the library's and the CLI's own usage errors
        print(f"genscope {args.command}: {exc}", file=sys.stderr)
        return 2
    except RunError as exc:
        print(f"genscope {args.command}: error: {exc}", file=sys.stderr)
        return 1
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
