"""CSV / Parquet manifests with a ``path`` column; other columns travel along as ``meta``."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from genscope.errors import InputError
from genscope.sources.item import Item

MANIFEST_SUFFIXES = (".csv", ".parquet", ".pq")


class ManifestError(InputError):
    """A manifest that cannot be read (bad CSV or JSON Lines, no path column)."""


def read_manifest(manifest_file: str, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, Item]]:
    """``(row, item)`` per row in ``[start, stop)``; relative paths are resolved against the manifest's folder."""
    try:
        if manifest_file.lower().endswith(".csv"):
            table = pacsv.read_csv(
                manifest_file, convert_options=pacsv.ConvertOptions(strings_can_be_null=False,
                                                                    column_types={"path": pa.string()}))
        else:
            table = pq.read_table(manifest_file)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ManifestError(f"cannot read manifest {manifest_file}: {exc}") from None
    if "path" not in table.column_names:
        raise ManifestError(f"manifest {manifest_file} has no 'path' column (columns: "
                            f"{', '.join(table.column_names)})")
    base = os.path.dirname(manifest_file)
    extra = [name for name in table.column_names if name != "path"]
    table = table.slice(start, None if stop is None else max(0, stop - start))
    rows = (row for batch in table.to_batches(max_chunksize=10_000) for row in batch.to_pylist())
    for index, row in enumerate(rows, start):
        path = row.get("path")
        meta = {key: row[key] for key in extra if row[key] not in (None, "")}
        meta_text = json.dumps(meta, default=str, ensure_ascii=False) if meta else None
        if not path:
            yield index, Item(path=f"{manifest_file}#row-without-path", file=manifest_file, meta=meta_text,
                              error=("manifest.empty_path", "row has an empty path"))
            continue
        yield index, Item.for_file(os.path.join(base, str(path)), meta=meta_text)
