"""Folders: a recursive walk that follows directory links once and never loops."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator

from genscope.sources.item import Item

IMAGE_EXTENSIONS = frozenset({
    ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".apng", ".webp", ".gif", ".bmp", ".dib", ".tif", ".tiff",
    ".heic", ".heif", ".avif", ".jxl", ".jp2", ".j2k", ".ico", ".ppm", ".pgm", ".pbm", ".pnm", ".tga",
    ".psd", ".dng", ".cr2", ".nef", ".arw", ".svg",
})
TAR_EXTENSIONS = (".tar",)


def _wanted(name: str, all_files: bool) -> bool:
    if all_files:
        return True
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS or name.lower().endswith(TAR_EXTENSIONS)


def walk_folder(root: str, *, all_files: bool = False) -> Iterator[Item]:
    """Images (and ``.tar`` shards) under ``root`` in a stable order.

    Hidden entries (dot-names) are skipped. A directory that cannot be listed becomes an error
    item, so images under it are never silently missing.
    """
    from genscope.sources.tar import list_tar  # local import: tar imports item, not local

    visited: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            st = os.stat(folder)
        except OSError as exc:
            yield Item.failed(folder, "io.permission" if exc.errno == errno.EACCES else "io.error",
                              f"cannot enter folder: {exc.strerror}")
            continue
        if (st.st_dev, st.st_ino) in visited:
            continue  # a link back to a folder already walked: following it would loop
        visited.add((st.st_dev, st.st_ino))
        try:
            with os.scandir(folder) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError as exc:
            code = "io.permission" if isinstance(exc, PermissionError) else "io.error"
            yield Item.failed(folder, code, f"cannot list folder: {exc.strerror}")
            continue
        subfolders = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False  # a broken or looping link: treated as a file, read fails clearly
            if is_dir:
                subfolders.append(entry.path)
            elif _wanted(entry.name, all_files):
                if entry.name.lower().endswith(TAR_EXTENSIONS) and entry.is_file():
                    yield from list_tar(entry.path)
                else:
                    yield Item.for_file(entry.path)
        stack.extend(reversed(subfolders))
