"""Work units: what the driver plans and a worker enumerates.

The driver lists shards and chunks, never images: a tar shard, a run of up to ``unit_size`` files of one
folder, a chunk of a path list (a byte range) or of a manifest (a row range), or a chunk of files named one
by one. A worker calls ``members()`` to list a unit's items itself, so the driver's memory grows with the
number of units, not of images. ``key`` names the unit's record parts and is the same in every run that
plans the same unit, so a rerun resumes each unit from its own parts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from genscope.sources.item import Item, record_path
from genscope.sources.local import ListingError, kind_of, list_folder
from genscope.sources.manifest import read_manifest
from genscope.sources.pathlist import read_path_list
from genscope.sources.tar import list_tar

UNIT_SIZE = 1000  # inputs per unit: a part of ~1000 rows, and a task of seconds to minutes


class Unit:
    """A unit of planned work. ``size`` is its number of members where planning knew it (not for shards)."""

    # True where members are named one by one (lists, manifests, files): those may repeat another unit's paths.
    entries: ClassVar[bool] = False
    size: int | None

    def members(self) -> Iterator[Item]:
        raise NotImplementedError

    def identity(self) -> tuple:
        raise NotImplementedError

    @property
    def key(self) -> str:
        return hashlib.sha1(repr(self.identity()).encode("utf-8", "surrogateescape")).hexdigest()[:16]


@dataclass(frozen=True)
class TarShard(Unit):
    shard: str
    size: ClassVar[None] = None  # how many members, only the worker that lists the shard finds out

    def members(self) -> Iterator[Item]:
        return list_tar(self.shard)

    def identity(self) -> tuple:
        return "tar", record_path(self.shard)


@dataclass(frozen=True)
class FolderRun(Unit):
    """Files ``first`` … ``last`` (by name) of one folder, listed again by the worker."""

    folder: str
    first: str
    last: str
    size: int
    all_files: bool = False

    def members(self) -> Iterator[Item]:
        try:
            entries = list_folder(self.folder)
        except ListingError as exc:  # listable when planned, not any more: one row says so
            yield Item.failed(self.folder, exc.code, exc.message)
            return
        for entry in entries:
            if self.first <= entry.name <= self.last and kind_of(entry, self.all_files) == "file":
                yield Item.for_file(entry.path)

    def identity(self) -> tuple:
        return "folder", record_path(self.folder), self.first, self.last, self.all_files


@dataclass(frozen=True)
class ListChunk(Unit):
    """Entries of a path list whose lines start in ``[start, stop)`` (``stop`` None: to the end)."""

    entries: ClassVar[bool] = True
    list_file: str
    start: int
    stop: int | None
    size: int
    digest: str  # of the entries' paths: an edited chunk is a new unit

    def members(self) -> Iterator[Item]:
        return (item for _, item in read_path_list(self.list_file, self.start, self.stop))

    def identity(self) -> tuple:
        return "list", record_path(self.list_file), self.start, self.digest


@dataclass(frozen=True)
class ManifestChunk(Unit):
    """Rows ``[start, stop)`` of a CSV or Parquet manifest."""

    entries: ClassVar[bool] = True
    manifest: str
    start: int
    stop: int
    size: int
    digest: str

    def members(self) -> Iterator[Item]:
        return (item for _, item in read_manifest(self.manifest, self.start, self.stop))

    def identity(self) -> tuple:
        return "manifest", record_path(self.manifest), self.start, self.digest


@dataclass(frozen=True)
class ItemChunk(Unit):
    """Inputs named one by one (files, objects under a URI, folders that cannot be listed)."""

    entries: ClassVar[bool] = True
    items: tuple[Item, ...]

    @property
    def size(self) -> int:  # type: ignore[override]
        return len(self.items)

    def members(self) -> Iterator[Item]:
        return iter(self.items)

    def identity(self) -> tuple:
        return "items", tuple(item.path for item in self.items)


def paths_digest(items: list[Item]) -> str:
    return hashlib.sha1("\n".join(item.path for item in items).encode("utf-8", "surrogateescape")).hexdigest()[:16]
