"""The records table: schema, atomic Parquet part writer, and resume bookkeeping.

``DIR/records.parquet/`` is a folder of parts, on the local disk or in an object store. Parts
are written whole (temp file + rename locally, one upload in a store), so a killed scan leaves
only complete parts. Every part belongs to one work unit (``part-<unit key>-<run>-….parquet``):
a rerun reads a unit's parts back, reuses every row whose ``sha256`` and signal versions still
match, and when the unit is done rewrites its parts so that each of its inputs appears exactly once.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds

from genscope.signals import Signal
from genscope.storage import Folder, is_uri

RECORDS_NAME = "records.parquet"

CORE_SCHEMA = pa.schema([
    ("path", pa.string()),  # record key; for tar members "shard.tar/member"
    ("shard", pa.string()),  # the tar shard holding the bytes, null for plain files
    ("offset", pa.int64()),  # byte offset of a tar member's data
    ("sha256", pa.string()),
    ("bytes", pa.int64()),
    ("format", pa.string()),  # sniffed from content
    ("width", pa.int32()),
    ("height", pa.int32()),
    ("mode", pa.string()),  # the file's own colour mode, before conversion to RGB
    ("frames", pa.int32()),
    ("error", pa.string()),  # machine-readable code, null when the image decoded
    ("error_message", pa.string()),
    ("meta", pa.string()),  # JSON: WebDataset sidecars or manifest columns
    ("elapsed_ms", pa.float32()),  # timing: differs between runs by nature
])
TIMING_COLUMNS = ("elapsed_ms",)


def signal_columns(signal: type[Signal] | Signal) -> list[pa.Field]:
    prefix = signal.name
    fields = [pa.field(f"{prefix}.{f.name}", f.type) for f in signal.schema]
    return [*fields, pa.field(f"{prefix}.version", pa.string()), pa.field(f"{prefix}.error", pa.string())]


def records_schema(signals: list[type[Signal]] | list[Signal]) -> pa.Schema:
    fields = list(CORE_SCHEMA)
    for signal in signals:
        fields.extend(signal_columns(signal))
    return pa.schema(fields)


def records_folder(out: str | os.PathLike) -> Folder:
    """The records folder of a scan output, a local path or an object-store URI."""
    return Folder.at(out).child(RECORDS_NAME)


def records_dataset(out: str | os.PathLike) -> ds.Dataset:
    """The records of a scan folder (or of a records folder/file given directly) as one Parquet dataset, to
    read whole or in batches; URIs work too."""
    if is_uri(out):
        location = os.fspath(out).rstrip("/")
        folder = Folder.at(location if location.endswith(RECORDS_NAME) else f"{location}/{RECORDS_NAME}")
        return ds.dataset(folder.path, filesystem=folder.filesystem, format="parquet", partitioning="hive")
    path = Path(out)
    if path.name != RECORDS_NAME and (path / RECORDS_NAME).exists():
        path = path / RECORDS_NAME
    return ds.dataset(path, format="parquet", partitioning="hive")


def read_records(out: str | os.PathLike) -> pa.Table:
    """All records of a scan folder (or of a records folder/file given directly); URIs work too."""
    return records_dataset(out).to_table()


def list_parts(folder: Folder, unit: str = "") -> list[str]:
    """The parts of one unit (of all units without ``unit``); a unit's parts sort oldest run first."""
    return folder.names(prefix=f"part-{unit}-" if unit else "part-", suffix=".parquet")


def part_unit(name: str) -> str:
    """The unit key a part name starts with (a 20-digit run id for parts written before units existed)."""
    return name.split("-", 2)[1]


def new_run_id() -> str:
    """Part names start with the run id, so later runs sort (and win) after earlier ones."""
    return f"{time.time_ns():020d}"


@dataclass
class Existing:
    """What a previous (possibly killed) run left: the latest row per path."""

    sha256: dict[str, str | None] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)
    versions: dict[str, dict[str, str]] = field(default_factory=dict)
    location: dict[str, tuple[str, int]] = field(default_factory=dict)
    folder: Folder | None = None
    _cache: tuple[str, list[dict[str, Any]]] | None = None

    @classmethod
    def load(cls, folder: Folder, parts: list[str]) -> Existing:
        existing = cls(folder=folder)
        for part in parts:  # names sort by run, so later rows win
            try:
                wanted = [c for c in folder.columns(part)
                          if c in ("path", "sha256", "error") or c.endswith(".version")]
                data = folder.read_table(part, columns=wanted).to_pydict()
            except (pa.ArrowInvalid, OSError):
                continue  # an unreadable part is dropped at finish; its rows are recomputed
            version_columns = [c for c in wanted if c.endswith(".version")]
            for row, path in enumerate(data["path"]):
                existing.location[path] = (part, row)
                existing.sha256[path] = data["sha256"][row]
                if data["error"][row] is not None:
                    existing.failed.add(path)
                else:
                    existing.failed.discard(path)
                existing.versions[path] = {c[: -len(".version")]: data[c][row] for c in version_columns
                                           if data[c][row] is not None}
        return existing

    def stale_signals(self, path: str, current: dict[str, str]) -> list[str] | None:
        """None: compute everything; else the signals whose stored version is missing or old."""
        if path not in self.location or path in self.failed or not self.sha256.get(path):
            return None
        stored = self.versions.get(path, {})
        return [name for name, version in current.items() if stored.get(name) != version]

    def row(self, path: str) -> dict[str, Any]:
        part, index = self.location[path]
        if self._cache is None or self._cache[0] != part:
            assert self.folder is not None  # a row has a location only when loaded from a folder
            self._cache = (part, self.folder.read_table(part).to_pylist())
        return self._cache[1][index]


class PartWriter:
    """Buffers rows and writes them as whole parts, by size or age, so a kill loses little."""

    def __init__(self, folder: Folder, schema: pa.Schema, rows_per_part: int = 1000,
                 seconds_per_part: float = 5.0, run: str | None = None) -> None:
        self.folder = folder
        self.schema = schema
        self.rows_per_part = rows_per_part
        self.seconds_per_part = seconds_per_part
        self.run = run or new_run_id()
        self.written: list[str] = []
        self._rows: list[dict[str, Any]] = []
        self._since = time.monotonic()
        folder.make()

    def add(self, rows: list[dict[str, Any]]) -> None:
        self._rows.extend(rows)
        if len(self._rows) >= self.rows_per_part or time.monotonic() - self._since > self.seconds_per_part:
            self.flush()

    def flush(self) -> None:
        self._since = time.monotonic()
        if not self._rows:
            return
        table = pa.Table.from_pylist(self._rows, schema=self.schema)
        name = f"part-{self.run}-{len(self.written):06d}.parquet"
        self.folder.write_table(name, table)
        self.written.append(name)
        self._rows = []


def finish_unit(folder: Folder, schema: pa.Schema, unit: str, members: list[str]) -> int:
    """Leave the unit's parts holding exactly one row per member, in member order, in ``schema``;
    returns how many earlier paths of the unit are no longer among its members (their rows are dropped).

    Of several rows for one path the one in the latest part wins: parts sort by run, so this run's
    rows beat older ones, and a batch written twice (a retried worker) keeps one copy. The merged
    part is written before the old ones are deleted, so a kill in between only leaves duplicates
    that the next finish removes.
    """
    tables: list[pa.Table] = []
    names: list[str] = []
    for part in list_parts(folder, unit):
        try:
            tables.append(folder.read_table(part))
        except (pa.ArrowInvalid, OSError):
            folder.delete(part)  # a damaged part: its rows were recomputed
            continue
        names.append(part)
    latest: dict[str, tuple[int, int]] = {}
    for index, table in enumerate(tables):
        for row, path in enumerate(table.column("path").to_pylist()):
            latest[path] = (index, row)
    dropped = len(latest.keys() - set(members))
    chosen = [latest[path] for path in members if path in latest]
    already = (len(tables) == 1 and tables[0].schema == schema
               and chosen == [(0, row) for row in range(tables[0].num_rows)])
    if already or not names:
        return dropped
    merged = pa.concat_tables([conform(table, schema) for table in tables])
    offsets = [0]
    for table in tables:
        offsets.append(offsets[-1] + table.num_rows)
    final = f"{names[-1].removesuffix('.parquet')}.z.parquet"  # sorts after every part it replaces
    folder.write_table(final, merged.take([offsets[index] + row for index, row in chosen]))
    for name in names:
        if name != final:
            folder.delete(name)
    return dropped


def adopt_parts(folder: Folder, parts: list[str], home: dict[str, str]) -> None:
    """Move rows of ``parts`` (of units no longer planned) into the units that now hold their paths
    (``home``: path → unit key), keeping each part's run in the new name so later runs still win;
    rows of paths without a home are dropped with the old parts."""
    for number, part in enumerate(parts):
        try:
            table = folder.read_table(part)
        except (pa.ArrowInvalid, OSError):
            folder.delete(part)
            continue
        owners = [home.get(path) for path in table.column("path").to_pylist()]
        run = part.split("-")[1 if len(part_unit(part)) == 20 else 2]
        for unit in sorted({owner for owner in owners if owner is not None}):
            rows = [row for row, owner in enumerate(owners) if owner == unit]
            folder.write_table(f"part-{unit}-{run}-adopted{number:06d}.parquet", table.take(rows))
        folder.delete(part)


def finish_folder(folder: Folder, schema: pa.Schema) -> None:
    """Remove temp files of a run killed while writing; zero inputs still leave a table with the columns."""
    for stray in folder.names(prefix=".part-", suffix=".tmp"):
        folder.delete(stray)
    if not list_parts(folder):
        folder.write_table(f"part-{'0' * 16}-{new_run_id()}-empty.parquet", schema.empty_table())


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with exactly ``schema``'s columns: missing ones null, extra ones dropped."""
    columns = [table.column(f.name).cast(f.type) if f.name in table.column_names
               else pa.nulls(table.num_rows, f.type) for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)
