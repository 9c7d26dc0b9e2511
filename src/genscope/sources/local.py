"""Folders: which entries count (images, ``.tar`` shards, subfolders) and a directory's sorted listing."""

from __future__ import annotations

import errno
import os

IMAGE_EXTENSIONS = frozenset({
    ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".apng", ".webp", ".gif", ".bmp", ".dib", ".tif", ".tiff",
    ".heic", ".heif", ".avif", ".jxl", ".jp2", ".j2k", ".ico", ".ppm", ".pgm", ".pbm", ".pnm", ".tga",
    ".psd", ".dng", ".cr2", ".nef", ".arw", ".svg",
})
TAR_EXTENSIONS = (".tar",)


class ListingError(Exception):
    """A folder that cannot be entered or listed: one error row, so nothing under it goes missing silently."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def list_folder(folder: str) -> list[os.DirEntry]:
    """The folder's entries sorted by name, hidden ones (dot-names) left out."""
    try:
        with os.scandir(folder) as scan:
            entries = sorted(scan, key=lambda e: e.name)
    except OSError as exc:
        code = "io.permission" if isinstance(exc, PermissionError) else "io.error"
        raise ListingError(code, f"cannot list folder: {exc.strerror}") from None
    return [entry for entry in entries if not entry.name.startswith(".")]


def kind_of(entry: os.DirEntry, all_files: bool) -> str | None:
    """``dir``, ``tar`` (a shard to list), ``file`` (an input) or None (not wanted)."""
    try:
        is_dir = entry.is_dir()
    except OSError:
        is_dir = False  # a broken or looping link: treated as a file, read fails clearly
    if is_dir:
        return "dir"
    name = entry.name.lower()
    if not all_files and os.path.splitext(name)[1] not in IMAGE_EXTENSIONS and not name.endswith(TAR_EXTENSIONS):
        return None
    return "tar" if name.endswith(TAR_EXTENSIONS) and entry.is_file() else "file"


def folder_identity(folder: str) -> tuple[int, int] | ListingError:
    """(device, inode), to walk a folder reached twice through links only once; or why it cannot be entered."""
    try:
        st = os.stat(folder)
    except OSError as exc:
        return ListingError("io.permission" if exc.errno == errno.EACCES else "io.error",
                            f"cannot enter folder: {exc.strerror}")
    return st.st_dev, st.st_ino
