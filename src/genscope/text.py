"""Wording shared by messages: counts with the right noun form."""

from __future__ import annotations


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``plural(1, "image")`` → "1 image", ``plural(3, "image")`` → "3 images"; ``many`` for irregular nouns."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"
