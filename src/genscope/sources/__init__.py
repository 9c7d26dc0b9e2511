"""Enumerate inputs into ``Item`` records; the workers read their bytes.

Every input becomes exactly one ``Item`` (a listing failure is an ``Item`` carrying an error),
so the engine can promise one row per input. Sources know nothing about decoding or signals.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from genscope.errors import InputError
from genscope.sources.item import Item, display_path, read_item
from genscope.sources.local import IMAGE_EXTENSIONS, walk_folder
from genscope.sources.manifest import MANIFEST_SUFFIXES, read_manifest
from genscope.sources.pathlist import LIST_SUFFIXES, read_path_list
from genscope.sources.tar import TAR_SUFFIXES, list_tar
from genscope.storage import StorageError, expand_braces, is_uri, list_files


class SourceError(InputError):
    """A named input that cannot be used at all (a usage error, not a per-file error)."""


def expand(target: str, *, all_files: bool = False) -> Iterator[Item]:
    """Items for one command-line target: a folder, an image, a list, a manifest or a shard,
    on the local disk or in an object store; ``{00000..00099}`` brace ranges name several."""
    if target.lower().startswith(("http://", "https://")):
        raise SourceError(f"{target}: HTTP(S) URLs are not inputs; download the images first (img2dataset does it "
                          "in bulk) and scan the folder or shards, or use s3:// or gs:// URIs")
    if not Path(target).exists():
        names = expand_braces(target)
        if len(names) > 1 or is_uri(target):
            for name in names:
                yield from (_expand_uri(name, all_files) if is_uri(name) else expand(name, all_files=all_files))
            return
    path = Path(target)
    suffix = path.name.lower()
    if path.is_dir():
        yield from walk_folder(target, all_files=all_files)
    elif not path.exists() and not path.is_symlink():
        raise SourceError(f"no such file or folder: {display_path(target)}")
    elif suffix.endswith(TAR_SUFFIXES):
        yield from list_tar(target)
    elif suffix.endswith(MANIFEST_SUFFIXES):
        yield from _expand_each(read_manifest(target), all_files)
    elif suffix.endswith(LIST_SUFFIXES):
        yield from _expand_each(read_path_list(target), all_files)
    else:
        yield Item.for_file(target)


def _expand_uri(uri: str, all_files: bool) -> Iterator[Item]:
    try:
        objects = list(list_files(uri))
    except StorageError as exc:
        raise SourceError(str(exc)) from None
    for name in objects:
        lower = name.lower()
        if lower.endswith(TAR_SUFFIXES):
            yield from list_tar(name)
        elif all_files or name == uri or os.path.splitext(lower)[1] in IMAGE_EXTENSIONS:
            yield Item.for_file(name)


def _expand_each(entries: Iterable[Item], all_files: bool) -> Iterator[Item]:
    # A list or manifest may name folders and shards too (local or URIs); expand those in place.
    # An image URI stays as it is, with its manifest columns: workers read URIs directly.
    for entry in entries:
        path = Path(entry.file)
        remote = is_uri(entry.file)
        if entry.error is None and entry.file.lower().endswith(TAR_SUFFIXES) and (remote or path.is_file()):
            yield from list_tar(entry.file)
        elif entry.error is None and entry.offset is None and not remote and path.is_dir():
            yield from walk_folder(entry.file, all_files=all_files)
        else:
            yield entry


def enumerate_inputs(targets: list[str], *, all_files: bool = False) -> tuple[list[Item], int]:
    """All items for the targets, de-duplicated by record path; returns (items, duplicates)."""
    seen: set[str] = set()
    items: list[Item] = []
    duplicates = 0
    for target in targets:
        for item in expand(target, all_files=all_files):
            if item.path in seen:
                duplicates += 1
                continue
            seen.add(item.path)
            items.append(item)
    return items, duplicates


__all__ = ["IMAGE_EXTENSIONS", "Item", "SourceError", "display_path", "enumerate_inputs", "expand",
           "read_item"]
