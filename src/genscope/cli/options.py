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
    return whole_number(text, 1)


def count(text: str) -> int:
    """A whole number, 0 allowed."""
    return whole_number(text, 0)


def whole_number(text: str, least: int, most: int | None = None, meaning: str = "") -> int:
    """``text`` as an int in ``[least, most]``; ``meaning`` says what the range is when it is refused."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < least or (most is not None and value > most):
        bounds = f"at least {least}" if most is None else f"{least} to {most}"
        raise argparse.ArgumentTypeError(f"{meaning or 'must be'} {bounds}, got {text}")
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
    """Run a library call, turning a missing file or an optional package that is not installed into a usage
    error (exit 2); the library's own ``InputError``s reach ``cli.main`` as they are, which reports them so."""
    from genscope.cli import UsageError

    try:
        return func(*args, **kwargs)
    except (FileNotFoundError, ImportError) as exc:
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


def add_engine_arguments(parser: argparse.ArgumentParser, *, batch_size: bool = True) -> None:
    """``--engine``, ``--workers``, ``--unit-size``, ``--address``, ``--num-cpus`` (and ``--batch-size``):
    the commands that run the per-image half all take them, as one ``EngineOptions``."""
    parser.add_argument("--engine", choices=("local", "ray"), default="local",
                        help="local process pool (default) or Ray Data (needs: pip install 'genscope[ray]')")
    parser.add_argument("--workers", type=positive_int,
                        help="worker processes, or Ray actors with --engine ray (default: all cores)")
    parser.add_argument("--unit-size", type=positive_int, metavar="N",
                        help="inputs per work unit: folders and lists are cut into runs of N, a shard is one "
                             "unit (default: 1000; 64 for detect, whose lines print unit by unit; smaller "
                             "spreads a small scan over more Ray actors)")
    parser.add_argument("--address", metavar="ADDR",
                        help="with --engine ray: join this running cluster (e.g. 10.0.0.1:6379 or 'auto'); "
                             "without it a local Ray instance starts")
    parser.add_argument("--num-cpus", type=positive_int, metavar="N",
                        help="with --engine ray: CPUs of the local Ray instance (default: all)")
    if batch_size:
        parser.add_argument("--batch-size", type=positive_int, default=8, help="images per signal call (default 8)")


def engine_options(args: argparse.Namespace):
    """The ``EngineOptions`` of the arguments ``add_engine_arguments`` added."""
    from genscope.cli import UsageError
    from genscope.engine.base import EngineError, EngineOptions

    try:
        return EngineOptions(args.engine, workers=args.workers, batch_size=getattr(args, "batch_size", 8),
                             unit_size=args.unit_size, address=args.address, num_cpus=args.num_cpus)
    except EngineError as exc:
        raise UsageError(str(exc)) from None


def add_replace_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--replace", action="store_true",
                        help="when --out holds rows of inputs not given this time, drop them instead of refusing")
