"""Local paths and object-store URIs (``s3://``, ``gs://``, …) behind one small interface.

Object stores go through ``pyarrow.fs``, so credentials and endpoints come from the environment
as for every AWS tool (``AWS_ACCESS_KEY_ID``, ``AWS_ENDPOINT_URL``, ``AWS_PROFILE`` …).
"""

from __future__ import annotations

import functools
import io
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from genscope.errors import InputError

_URI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_BRACES = re.compile(r"\{([^{}]*)\}")
_RANGE = re.compile(r"^(-?\d+)\.\.(-?\d+)$")
MAX_EXPANSION = 1_000_000


def atomic_write(target: Path, write: Callable[[Path], object]) -> Path:
    """``write(temp)`` then rename over ``target`` (its folder made first): a killed run leaves the old file or
    the new, never half of one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    write(tmp)
    tmp.replace(target)
    return target


def write_text_atomic(target: Path, text: str) -> Path:
    """``atomic_write`` of UTF-8 text."""
    return atomic_write(target, lambda tmp: tmp.write_text(text, encoding="utf-8"))


class StorageError(InputError):
    """A location that cannot be used at all (bad URI, unknown scheme, unreachable store)."""


def is_uri(location: str | os.PathLike) -> bool:
    return isinstance(location, str) and bool(_URI.match(location))


def expand_braces(pattern: str) -> list[str]:
    """img2dataset-style names: ``{00000..00099}`` (zero-padded ranges) and ``{a,b}`` alternatives."""
    match = _BRACES.search(pattern)
    if match is None:
        return [pattern]
    body = match.group(1)
    numeric = _RANGE.match(body)
    if numeric:
        first, last = int(numeric.group(1)), int(numeric.group(2))
        width = len(numeric.group(1)) if numeric.group(1).startswith("0") else 0
        step = 1 if last >= first else -1
        if abs(last - first) >= MAX_EXPANSION:
            raise StorageError(f"brace range {{{body}}} names more than {MAX_EXPANSION} inputs")
        choices = [str(n).zfill(width) for n in range(first, last + step, step)]
    elif "," in body:
        choices = body.split(",")
    else:
        return [pattern[: match.end()] + rest for rest in expand_braces(pattern[match.end():])]
    head, tail = pattern[: match.start()], pattern[match.end():]
    return [expanded for choice in choices for expanded in expand_braces(head + choice + tail)]


@functools.lru_cache(maxsize=16)
def _bucket_filesystem(bucket_uri: str) -> pafs.FileSystem:
    # One client per bucket and process: creating an S3 client resolves credentials and region.
    return pafs.FileSystem.from_uri(bucket_uri)[0]


def resolve(uri: str) -> tuple[pafs.FileSystem, str]:
    """The filesystem and the path inside it for a URI."""
    scheme, _, rest = uri.partition("://")
    try:
        if scheme in ("s3", "gs", "gcs"):  # the path is "bucket/key", the client is per bucket
            return _bucket_filesystem(f"{scheme}://{rest.split('/', 1)[0]}"), rest.rstrip("/")
        return pafs.FileSystem.from_uri(uri)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise StorageError(f"cannot open {uri}: {exc}") from None


def list_files(uri: str) -> Iterator[str]:
    """The URIs of the objects under ``uri`` (itself if it is one object), sorted."""
    filesystem, path = resolve(uri)
    info = filesystem.get_file_info(path)
    scheme = uri.partition("://")[0]
    if info.type == pafs.FileType.File:
        yield uri
        return
    if info.type == pafs.FileType.NotFound:
        raise StorageError(f"no such object or prefix: {uri}")
    found = filesystem.get_file_info(pafs.FileSelector(path, recursive=True))
    for entry in sorted((e for e in found if e.type == pafs.FileType.File), key=lambda e: e.path):
        yield f"{scheme}://{entry.path}"


def file_size(uri: str) -> int:
    filesystem, path = resolve(uri)
    return filesystem.get_file_info(path).size


def read_range(uri: str, offset: int | None, size: int | None, max_bytes: int) -> bytes:
    """Bytes of an object (or ``size`` bytes at ``offset``), at most ``max_bytes`` + 1."""
    filesystem, path = resolve(uri)
    with filesystem.open_input_file(path) as handle:
        if offset is None:
            return handle.read(max_bytes + 1)
        return handle.read_at(size or 0, offset)


class ForwardReader(io.RawIOBase):
    """A sequential object-store stream that ``tarfile`` can walk: seeks may only go forward
    (skipped bytes are read and dropped), so listing a shard is one streamed GET."""

    def __init__(self, uri: str) -> None:
        filesystem, path = resolve(uri)
        self._stream = filesystem.open_input_stream(path)
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read() if size is None or size < 0 else self._stream.read(size)
        self._position += len(data)
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = offset if whence == io.SEEK_SET else self._position + offset
        if whence not in (io.SEEK_SET, io.SEEK_CUR) or target < self._position:
            raise io.UnsupportedOperation("a streamed shard can only be read forward")
        while self._position < target:
            if not self.read(min(target - self._position, 1 << 20)):
                break
        return self._position

    def close(self) -> None:
        self._stream.close()
        super().close()


@dataclass(frozen=True)
class Folder:
    """A folder of files on the local disk or under an object-store prefix."""

    location: str
    filesystem: pafs.FileSystem
    path: str

    @classmethod
    def at(cls, location: str | os.PathLike) -> Folder:
        text = os.fspath(location)
        if is_uri(text):
            filesystem, path = resolve(text)
            return cls(text.rstrip("/"), filesystem, path)
        local = os.path.abspath(text)  # workers of a cluster may run in another folder
        return cls(local, pafs.LocalFileSystem(), local)

    @property
    def local(self) -> bool:
        return isinstance(self.filesystem, pafs.LocalFileSystem)

    def child(self, name: str) -> Folder:
        return Folder(f"{self.location}/{name}", self.filesystem, f"{self.path}/{name}")

    def file(self, name: str) -> str:
        return f"{self.path}/{name}"

    def kind(self) -> str:
        """"folder", "file" or "missing" (an object-store prefix with objects is a folder)."""
        info = self.filesystem.get_file_info(self.path)
        if info.type == pafs.FileType.File:
            return "file"
        if info.type == pafs.FileType.Directory:
            return "folder"
        return "missing"

    def make(self) -> None:
        self.filesystem.create_dir(self.path, recursive=True)

    def names(self, prefix: str = "", suffix: str = "") -> list[str]:
        """Names of the files directly in the folder, sorted (none when it does not exist)."""
        found = self.filesystem.get_file_info(pafs.FileSelector(self.path, allow_not_found=True))
        names = [e.base_name for e in found if e.type == pafs.FileType.File]
        return sorted(n for n in names if n.startswith(prefix) and n.endswith(suffix))

    def columns(self, name: str) -> list[str]:
        with self.filesystem.open_input_file(self.file(name)) as handle:
            return pq.read_schema(handle).names

    def num_rows(self, name: str) -> int:
        with self.filesystem.open_input_file(self.file(name)) as handle:
            return pq.read_metadata(handle).num_rows

    def read_table(self, name: str, columns: list[str] | None = None) -> pa.Table:
        return pq.read_table(self.file(name), columns=columns, filesystem=self.filesystem)

    def write_table(self, name: str, table: pa.Table) -> None:
        """Whole or not at all: locally a temp file renamed into place (a kill leaves no half part);
        an object store makes an object visible only once its upload is complete."""
        # Dictionaries pay off for repeated text (formats, codes, versions), not for vectors and
        # hashes of unique values: a dictionary-encoded float vector costs ~1.5x its plain size.
        options = {"compression": "zstd", "filesystem": self.filesystem,
                   "use_dictionary": [f.name for f in table.schema if _dictionary_helps(f.type)]}
        if not self.local:
            pq.write_table(table, self.file(name), **options)
            return
        temp = self.file(f".{name}.tmp")
        pq.write_table(table, temp, **options)
        self.filesystem.move(temp, self.file(name))

    def write_bytes(self, name: str, data: bytes) -> None:
        if self.local:
            self.make()
        with self.filesystem.open_output_stream(self.file(name)) as handle:
            handle.write(data)

    def delete(self, name: str) -> None:
        self.filesystem.delete_file(self.file(name))


def _dictionary_helps(kind: pa.DataType) -> bool:
    return not (pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind)
                or pa.types.is_binary(kind) or pa.types.is_floating(kind))
