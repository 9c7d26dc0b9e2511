"""Text files listing one path per line (relative paths are relative to the list's folder)."""

from __future__ import annotations

import os
from collections.abc import Iterator

from genscope.sources.item import Item

LIST_SUFFIXES = (".txt", ".lst", ".list")


def read_path_list(list_file: str, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, Item]]:
    """``(position, item)`` per entry whose line starts in ``[start, stop)``; positions are ``tell()``
    offsets, so a worker can read one chunk of a long list without reading what comes before it."""
    base = os.path.dirname(list_file)
    with open(list_file, encoding="utf-8", errors="surrogateescape") as handle:
        handle.seek(start)
        while True:
            position = handle.tell()
            line = handle.readline()
            if not line or (stop is not None and position >= stop):
                return
            entry = line.rstrip("\r\n").strip()
            if entry and not entry.startswith("#"):
                yield position, Item.for_file(os.path.join(base, os.path.expanduser(entry)))
