"""Records read a batch at a time, with only the columns an analysis needs, and seeded reservoir samples.

The collection half never holds a whole records table: it adds up tallies batch by batch and keeps a
uniform sample of at most a stated number of rows where it needs rows (shortcut AUCs, P/R/D/C, the
report). A sample is a set of row numbers (their order in the records), drawn in one pass; a second pass
reads just those rows. Below the stated size every row is kept, in order, so small collections get
exactly what reading the whole table gave.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

BATCH_ROWS = 65_536


@dataclass
class Records:
    """A records table to read in batches: a scan folder, a records folder or file (local or a URI), or a
    table already in memory."""

    dataset: ds.Dataset | None = None
    table: pa.Table | None = None
    batch_rows: int = BATCH_ROWS

    @classmethod
    def of(cls, source: str | os.PathLike | pa.Table | Records) -> Records:
        if isinstance(source, Records):
            return source
        if isinstance(source, pa.Table):
            return cls(table=source)
        from genscope.records import records_dataset

        return cls(dataset=records_dataset(source))

    @property
    def columns(self) -> list[str]:
        return (self.table if self.table is not None else self.dataset).schema.names

    @property
    def schema(self) -> pa.Schema:
        return (self.table if self.table is not None else self.dataset).schema

    def batches(self, columns: Iterable[str] | None = None) -> Iterator[pa.Table]:
        """The rows in order, ``batch_rows`` or fewer at a time, with those of ``columns`` the records have
        (all columns without ``columns``), in the records' schema."""
        wanted = self.columns if columns is None else [c for c in dict.fromkeys(columns) if c in self.columns]
        if self.table is not None:
            table = self.table.select(wanted)
            for start in range(0, max(table.num_rows, 1), self.batch_rows):
                yield table.slice(start, self.batch_rows)
            return
        from genscope.records import conform

        schema = pa.schema([self.schema.field(c) for c in wanted])
        empty = True
        # File by file, each opened and closed: the dataset's own scanner keeps every file's parsed footer, which
        # grows with the number of parts (+140 MB over 5M rows in parts of 10,000 here: ≈ 30 GB at a billion).
        for path in self.dataset.files:
            with pq.ParquetFile(path, filesystem=self.dataset.filesystem) as reader:
                present = [c for c in wanted if c in reader.schema_arrow.names]
                for batch in reader.iter_batches(batch_size=self.batch_rows, columns=present):
                    empty = False
                    yield conform(pa.Table.from_batches([batch]), schema)
        if empty:  # zero rows still have columns
            yield schema.empty_table()

    def take(self, rows: np.ndarray, columns: Iterable[str] | None = None) -> pa.Table:
        """The rows numbered ``rows`` (ascending), read in one pass."""
        rows = np.asarray(rows, dtype=np.int64)
        pieces, start = [], 0
        for batch in self.batches(columns):
            inside = rows[np.searchsorted(rows, start):np.searchsorted(rows, start + batch.num_rows)]
            if len(inside) or not pieces:
                pieces.append(batch.take(inside - start))
            start += batch.num_rows
        return pa.concat_tables(pieces)

    def read(self, columns: Iterable[str] | None = None) -> pa.Table:
        """The whole table (of ``columns``): for callers that need every row at once."""
        return pa.concat_tables(list(self.batches(columns)))


class Reservoir:
    """A uniform sample (Vitter's algorithm R, a batch at a time) of at most ``size`` of the values offered,
    each with its payload; seeded, so a run repeats. Until ``size`` values are offered it keeps all of them."""

    def __init__(self, size: int, seed: int = 0) -> None:
        self.size = size
        self.seen = 0
        self.values: list[np.ndarray] = []
        self._rng = np.random.default_rng(seed)

    def add(self, *values: np.ndarray) -> None:
        """Offer parallel arrays (e.g. row numbers and their labels)."""
        if not self.values:
            self.values = [np.asarray(v)[:0] for v in values]
        count = len(values[0])
        room = max(0, self.size - len(self.values[0]))
        self.values = [np.concatenate([kept, np.asarray(v)[:room]])
                       for kept, v in zip(self.values, values, strict=True)]
        seen = self.seen + room + np.arange(1, count - min(room, count) + 1)
        slots = self._rng.integers(0, seen)
        keep = slots < self.size
        for kept, v in zip(self.values, values, strict=True):
            kept[slots[keep]] = np.asarray(v)[room:][keep]  # a slot drawn twice keeps the later value, as one by one
        self.seen += count

    @property
    def sampled(self) -> bool:
        return self.seen > self.size

    def rows(self) -> tuple[np.ndarray, ...]:
        """The sample's arrays ordered by the first (row numbers: the records' order)."""
        if not self.values:
            return (np.zeros(0, np.int64),)
        order = np.argsort(self.values[0], kind="stable")
        return tuple(v[order] for v in self.values)
