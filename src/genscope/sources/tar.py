"""WebDataset / img2dataset shards: ``key.jpg`` + ``key.json`` / ``key.txt`` members.

Only the headers are read here; workers read each image's bytes at its offset. Member names
are kept as text in the record path and never used to create or open anything.
"""

from __future__ import annotations

import json
import os
import tarfile
from collections.abc import Iterator
from typing import BinaryIO

from genscope.sources.item import Item, display_path
from genscope.sources.local import IMAGE_EXTENSIONS
from genscope.storage import ForwardReader, StorageError, file_size, is_uri

TAR_SUFFIXES = (".tar",)
SIDECAR_MAX_BYTES = 1 << 20


def _split(name: str) -> tuple[str, str]:
    # WebDataset keys end at the first dot of the base name: "a/b.c.jpg" has key "a/b", ext "c.jpg".
    folder, _, base = name.rpartition("/")
    stem, dot, ext = base.partition(".")
    return (f"{folder}/{stem}" if folder else stem), (ext.lower() if dot else "")


def _read_sidecar(handle: BinaryIO, info: tarfile.TarInfo) -> str | None:
    # Read as the listing passes the member: a streamed shard cannot seek back to it later.
    if info.size > SIDECAR_MAX_BYTES:
        return None
    handle.seek(info.offset_data)
    return handle.read(info.size).decode("utf-8", "replace")


def _open_shard(shard: str) -> tuple[BinaryIO, int]:
    if is_uri(shard):
        return ForwardReader(shard), file_size(shard)  # one streamed GET, headers and sidecars only kept
    handle = open(shard, "rb")  # noqa: SIM115  (closed by the caller's with-block)
    return handle, os.fstat(handle.fileno()).st_size


def list_tar(shard: str) -> Iterator[Item]:
    shard_text = shard if is_uri(shard) else display_path(os.path.normpath(shard))
    images: list[tarfile.TarInfo] = []
    sidecars: dict[str, dict[str, str | None]] = {}
    failure: tuple[str, str] | None = None
    try:
        handle, size = _open_shard(shard)
        with handle:
            try:
                with tarfile.open(fileobj=handle, mode="r:") as archive:
                    for info in archive:
                        if not info.isfile():
                            continue  # links and devices inside an archive are never followed
                        key, ext = _split(info.name)
                        if "." + ext.rsplit(".", 1)[-1] in IMAGE_EXTENSIONS:
                            images.append(info)
                        elif ext in ("json", "txt"):
                            sidecars.setdefault(key, {})[ext] = _read_sidecar(handle, info)
            except tarfile.TarError as exc:
                failure = ("tar.corrupt", f"archive unreadable after {len(images)} images: {exc}")
    except (OSError, StorageError) as exc:
        code = "io.permission" if isinstance(exc, PermissionError) else "io.error"
        yield Item.failed(shard, code, f"cannot open shard: {getattr(exc, 'strerror', None) or exc}")
        return
    metas = {key: _sidecar_meta(found) for key, found in sidecars.items()}
    for info in images:
        key, _ = _split(info.name)
        error = None
        if info.offset_data + info.size > size:
            error = ("tar.truncated_member",
                     f"member needs {info.size} bytes, shard ends after {max(0, size - info.offset_data)}")
        yield Item(path=f"{shard_text}/{display_path(info.name)}", file=shard, offset=info.offset_data,
                   size=info.size, meta=metas.get(key), error=error)
    # A truncated last member already explains an early end; anything else gets its own row.
    tail_truncated = bool(images) and images[-1].offset_data + images[-1].size > size
    if failure is not None and not tail_truncated:
        yield Item(path=f"{shard_text}#unreadable-rest", file=shard, error=failure)


def _sidecar_meta(found: dict[str, str | None]) -> str | None:
    meta: dict[str, object] = {}
    if "txt" in found:
        meta["caption"] = found["txt"]
    if "json" in found:
        text = found["json"]
        try:
            meta["json"] = json.loads(text) if text is not None else None
        except ValueError:
            meta["json_invalid"] = text[:4096] if text else None
    return json.dumps(meta, ensure_ascii=False) if meta else None
