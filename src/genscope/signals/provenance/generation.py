"""What every generation-metadata parser returns, and the value coercions they share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Generation:
    """Generation settings read from one file; ``samplers`` lists each sampler of a node graph."""

    tool: str
    prompt: str | None = None
    negative_prompt: str | None = None
    seed: int | None = None
    steps: int | None = None
    sampler: str | None = None
    cfg_scale: float | None = None
    model: str | None = None
    samplers: list[dict[str, Any]] = field(default_factory=list)


def to_int(value: Any) -> int | None:
    """Integers as generators write them: 20, "20", 20.0; booleans and junk are None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    try:
        return int(text)  # exact, also for 64-bit seeds a float would round
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def to_float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def to_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    return None
