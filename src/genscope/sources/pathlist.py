"""Text files listing one path per line (relative paths are relative to the list's folder)."""

from __future__ import annotations

import os
from collections.abc import Iterator

from genscope.sources.item import Item

LIST_SUFFIXES = (".txt", ".lst", ".list")


def read_path_list(list_file: str) -> Iterator[Item]:
    base = os.path.dirname(list_file)
    with open(list_file, encoding="utf-8", errors="surrogateescape") as handle:
        for line in handle:
            entry = line.rstrip("\r\n").strip()
            if not entry or entry.startswith("#"):
                continue
            yield Item.for_file(os.path.join(base, os.path.expanduser(entry)))
