"""Argument types shared by the commands."""

from __future__ import annotations

import argparse
import json
from typing import Any

_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


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
