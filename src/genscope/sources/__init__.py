"""Plan inputs into work units; workers enumerate each unit's ``Item`` records and read their bytes.

Every input becomes exactly one ``Item`` (a listing failure is an ``Item`` carrying an error),
so the engine can promise one row per input. Sources know nothing about decoding or signals.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from genscope.errors import InputError
from genscope.sources.item import Item, display_path, read_item
from genscope.sources.local import IMAGE_EXTENSIONS, ListingError, folder_identity, kind_of, list_folder
from genscope.sources.manifest import MANIFEST_SUFFIXES, read_manifest
from genscope.sources.pathlist import LIST_SUFFIXES, read_path_list
from genscope.sources.tar import TAR_SUFFIXES
from genscope.sources.units import (
    UNIT_SIZE,
    FolderRun,
    ItemChunk,
    ListChunk,
    ManifestChunk,
    TarShard,
    Unit,
    paths_digest,
)
from genscope.storage import StorageError, expand_braces, is_uri, list_files


class SourceError(InputError):
    """A named input that cannot be used at all (a usage error, not a per-file error)."""


@dataclass
class Plan:
    """The units of a run in input order, each once; ``repeats`` counts units named again."""

    units: list[Unit] = field(default_factory=list)
    repeats: Counter[str] = field(default_factory=Counter)
    _keys: set[str] = field(default_factory=set)

    def add(self, unit: Unit) -> None:
        if unit.key in self._keys:
            self.repeats[unit.key] += 1
        else:
            self._keys.add(unit.key)
            self.units.append(unit)

    @property
    def may_overlap(self) -> bool:
        """Whether two units can hold one path: only where inputs are named one by one."""
        return len(self.units) > 1 and any(unit.entries for unit in self.units)


def plan_units(targets: list[str], *, all_files: bool = False, unit_size: int = UNIT_SIZE) -> Plan:
    """The work units for the command-line targets: folders, images, lists, manifests and shards, on the
    local disk or in an object store; ``{00000..00099}`` brace ranges name several. Lists and manifests
    are read here (to cut them into chunks and find the folders and shards they name); images are not."""
    plan = Plan()
    loose: list[Item] = []  # consecutive inputs named one by one, cut into chunks
    for target in targets:
        for found in _expand(target, all_files, unit_size):
            if isinstance(found, Item):
                loose.append(found)
                if len(loose) == unit_size:
                    plan.add(ItemChunk(tuple(loose)))
                    loose = []
                continue
            if loose:
                plan.add(ItemChunk(tuple(loose)))
                loose = []
            plan.add(found)
    if loose:
        plan.add(ItemChunk(tuple(loose)))
    return plan


def _expand(target: str, all_files: bool, unit_size: int) -> Iterator[Unit | Item]:
    if target.lower().startswith(("http://", "https://")):
        raise SourceError(f"{target}: HTTP(S) URLs are not inputs; download the images first (img2dataset does it "
                          "in bulk) and scan the folder or shards, or use s3:// or gs:// URIs")
    if not Path(target).exists():
        names = expand_braces(target)
        if len(names) > 1 or is_uri(target):
            for name in names:
                yield from (_expand_uri(name, all_files) if is_uri(name) else _expand(name, all_files, unit_size))
            return
    path = Path(target)
    suffix = path.name.lower()
    if path.is_dir():
        yield from _folder_units(target, all_files, unit_size)
    elif not path.exists() and not path.is_symlink():
        raise SourceError(f"no such file or folder: {display_path(target)}")
    elif suffix.endswith(TAR_SUFFIXES):
        yield TarShard(target)
    elif suffix.endswith(MANIFEST_SUFFIXES):
        yield from _entry_units(read_manifest(target), all_files, unit_size,
                                lambda start, stop, items: ManifestChunk(target, start, stop, len(items),
                                                                         paths_digest(items)))
    elif suffix.endswith(LIST_SUFFIXES):
        yield from _entry_units(read_path_list(target), all_files, unit_size,
                                lambda start, stop, items: ListChunk(target, start, stop, len(items),
                                                                     paths_digest(items)))
    else:
        yield Item.for_file(target)


def _expand_uri(uri: str, all_files: bool) -> Iterator[Unit | Item]:
    try:
        objects = list(list_files(uri))
    except StorageError as exc:
        raise SourceError(str(exc)) from None
    for name in objects:
        lower = name.lower()
        if lower.endswith(TAR_SUFFIXES):
            yield TarShard(name)
        elif all_files or name == uri or os.path.splitext(lower)[1] in IMAGE_EXTENSIONS:
            yield Item.for_file(name)


def _folder_units(root: str, all_files: bool, unit_size: int) -> Iterator[Unit | Item]:
    """A recursive walk in a stable order that follows directory links once and never loops: per folder,
    runs of up to ``unit_size`` files (cut at each shard, to keep the input order) and its shards."""
    visited: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        identity = folder_identity(folder)
        if isinstance(identity, ListingError):
            yield Item.failed(folder, identity.code, identity.message)
            continue
        if identity in visited:
            continue  # a link back to a folder already walked: following it would loop
        visited.add(identity)
        try:
            entries = list_folder(folder)
        except ListingError as exc:
            yield Item.failed(folder, exc.code, exc.message)
            continue
        subfolders, run = [], []
        for entry in entries:
            kind = kind_of(entry, all_files)
            if kind == "file":
                run.append(entry.name)
                if len(run) == unit_size:
                    yield FolderRun(folder, run[0], run[-1], len(run), all_files)
                    run = []
            elif kind == "tar":
                if run:
                    yield FolderRun(folder, run[0], run[-1], len(run), all_files)
                    run = []
                yield TarShard(entry.path)
            elif kind == "dir":
                subfolders.append(entry.path)
        if run:
            yield FolderRun(folder, run[0], run[-1], len(run), all_files)
        stack.extend(reversed(subfolders))


def _entry_units(entries: Iterable[tuple[int, Item]], all_files: bool, unit_size: int,
                 chunk: Callable[[int, int | None, list[Item]], Unit]) -> Iterator[Unit | Item]:
    # A list or manifest may name folders and shards too (local or URIs); those become units in place.
    # Runs of plain entries become chunks, each ending where the next entry starts.
    run: list[Item] = []
    start = 0
    for position, entry in entries:
        path = Path(entry.file)
        remote = is_uri(entry.file)
        shard = entry.error is None and entry.file.lower().endswith(TAR_SUFFIXES) and (remote or path.is_file())
        folder = not shard and entry.error is None and entry.offset is None and not remote and path.is_dir()
        if run and (shard or folder or len(run) == unit_size):
            yield chunk(start, position, run)
            run = []
        if shard:
            yield TarShard(entry.file)
        elif folder:
            yield from _folder_units(entry.file, all_files, unit_size)
        else:
            if not run:
                start = position
            run.append(entry)
    if run:
        yield chunk(start, None, run)


def enumerate_inputs(targets: list[str], *, all_files: bool = False) -> tuple[list[Item], int]:
    """All items for the targets, de-duplicated by record path; returns (items, duplicates). This holds every
    item in memory: for tests and small tools, not for the scan, whose workers enumerate their units."""
    plan = plan_units(targets, all_files=all_files)
    seen: set[str] = set()
    items: list[Item] = []
    duplicates = 0
    for unit in plan.units:
        members = list(unit.members())
        duplicates += plan.repeats[unit.key] * len(members)
        for item in members:
            if item.path in seen:
                duplicates += 1
                continue
            seen.add(item.path)
            items.append(item)
    return items, duplicates


__all__ = ["IMAGE_EXTENSIONS", "Item", "Plan", "SourceError", "Unit", "display_path", "enumerate_inputs",
           "plan_units", "read_item"]
