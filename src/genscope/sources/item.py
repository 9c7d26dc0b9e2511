"""The unit of work: where one input's bytes live, and how to read them safely."""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass

from genscope.errors import CodedError
from genscope.storage import StorageError, is_uri, read_range

DEFAULT_MAX_BYTES = 256 * 1024 * 1024


class ReadError(CodedError):
    """An input that cannot be read (missing, too large, a broken tar member): its row's ``error``."""


def display_path(path: str) -> str:
    """Path text that is valid UTF-8 (Parquet strings must be); undecodable bytes become ``\\xNN``."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


@dataclass(frozen=True)
class Item:
    """One input. ``path`` is the record key; ``file`` is what to open.

    For a tar member, ``file`` is the shard and the bytes are ``size`` bytes at ``offset``;
    the member's name is only ever part of ``path``, never used to open or write anything.
    """

    path: str
    file: str
    offset: int | None = None
    size: int | None = None
    meta: str | None = None  # JSON text: sidecars (WebDataset .json/.txt) or manifest columns
    error: tuple[str, str] | None = None  # a failure found while listing (code, message)

    @classmethod
    def for_file(cls, file: str, meta: str | None = None) -> Item:
        return cls(path=record_path(file), file=file, meta=meta)

    @classmethod
    def failed(cls, file: str, code: str, message: str) -> Item:
        return cls(path=record_path(file), file=file, error=(code, message))


def record_path(file: str) -> str:
    """The record key of a file: its normalised path, or an object-store URI as given."""
    return file if is_uri(file) else display_path(os.path.normpath(file))


def _io_error(exc: OSError) -> ReadError:
    if exc.errno == errno.ELOOP:
        return ReadError("io.symlink_loop", "too many levels of symbolic links")
    if isinstance(exc, PermissionError):
        return ReadError("io.permission", "permission denied")
    if isinstance(exc, FileNotFoundError):
        return ReadError("io.not_found", "no such file")
    if isinstance(exc, IsADirectoryError):
        return ReadError("io.not_regular", "is a directory")
    return ReadError("io.error", exc.strerror or str(exc))


def read_item(item: Item, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The item's bytes, or ``ReadError``. Never blocks on FIFOs or devices."""
    if item.error is not None:
        raise ReadError(*item.error)
    size = item.size or 0
    if item.offset is not None and size > max_bytes:
        raise ReadError("io.too_large", f"{size} bytes is over the {max_bytes}-byte limit")
    data = _read_object(item, max_bytes) if is_uri(item.file) else _read_local(item, max_bytes)
    if len(data) > max_bytes:
        raise ReadError("io.too_large", f"over the {max_bytes}-byte limit")
    if item.offset is not None and len(data) < size:
        raise ReadError("tar.truncated_member", f"member ends after {len(data)} of {size} bytes")
    return data


def _read_local(item: Item, max_bytes: int) -> bytes:
    try:
        if item.offset is None:  # stat before open: opening a FIFO would block
            st = os.stat(item.file)
            if not stat.S_ISREG(st.st_mode):
                raise ReadError("io.not_regular", "not a regular file")
            if st.st_size > max_bytes:
                raise ReadError("io.too_large", f"{st.st_size} bytes is over the {max_bytes}-byte limit")
        with open(item.file, "rb") as handle:
            if item.offset is None:
                return handle.read(max_bytes + 1)
            handle.seek(item.offset)
            return handle.read(item.size or 0)
    except OSError as exc:
        raise _io_error(exc) from None


def _read_object(item: Item, max_bytes: int) -> bytes:
    try:
        return read_range(item.file, item.offset, item.size, max_bytes)
    except FileNotFoundError:
        raise ReadError("io.not_found", "no such object") from None
    except (OSError, StorageError) as exc:
        raise ReadError("io.error", str(exc)[:500]) from None
