"""Argument types shared by the commands."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any, TypeVar

from genscope.text import plural

T = TypeVar("T")

_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def positive_int(text: str) -> int:
    return _whole(text, 1)


def count(text: str) -> int:
    """A whole number, 0 allowed."""
    return _whole(text, 0)


def _whole(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"must be at least {least}: {text!r}")
    return value


def cosine(text: str) -> float:
    """A cosine similarity threshold in [-1, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not -1.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"a cosine similarity is in [-1, 1], got {text}")
    return value


def library_call(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a library call, turning bad input (paths, options, records, models) into a usage error (exit 2)."""
    from genscope.api.scan import ScanError
    from genscope.cli import UsageError
    from genscope.engine.ray import RayUnavailable
    from genscope.errors import InputError

    try:
        return func(*args, **kwargs)
    except (InputError, ScanError, FileNotFoundError, ImportError, RayUnavailable) as exc:
        raise UsageError(str(exc)) from None


def byte_size(text: str) -> int:
    """``256M``, ``1G``, ``4096``."""
    unit = text[-1:].upper() if text[-1:].isalpha() else ""
    try:
        return int(float(text[: len(text) - len(unit)]) * _UNITS[unit])
    except (ValueError, KeyError):
        raise argparse.ArgumentTypeError(f"not a size like 256M or 1G: {text!r}") from None


def signal_option(text: str) -> tuple[str, str, Any]:
    """``detector.model=/path/model`` → ("detector", "model", "/path/model"); JSON values are parsed."""
    key, sep, raw = text.partition("=")
    name, dot, option = key.partition(".")
    if not (sep and dot and name and option):
        raise argparse.ArgumentTypeError(f"expected SIGNAL.OPTION=VALUE, got {text!r}")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return name, option, value


def collect_signal_options(pairs: list[tuple[str, str, Any]] | None) -> dict[str, dict[str, Any]]:
    options: dict[str, dict[str, Any]] = {}
    for name, option, value in pairs or []:
        options.setdefault(name, {})[option] = value
    return options


def earlier_rows_note(count: int, out: object) -> str:
    """The line a scan-based command prints when a rerun dropped rows of files no longer among its inputs."""
    return (f"note: dropped {plural(count, 'row')} of an earlier run in {out} for files no longer found under the "
            "inputs (deleted or moved)")


def no_inputs_note(command: str, paths: list[str], hint: str = "") -> str:
    """The one line a command prints when its inputs hold no image at all."""
    return (f"genscope {command}: no images found in {', '.join(paths)} (folders are searched for image "
            f"extensions and .tar shards{hint})")


def add_replace_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--replace", action="store_true",
                        help="when --out holds rows of inputs not given this time, drop them instead of refusing")
