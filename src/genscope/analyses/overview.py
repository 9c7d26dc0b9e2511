"""Counts that every scan reports: inputs, failures by code, formats, sizes.

Counted batch by batch (a part of the records at a time), so a billion rows cost the memory of one
part: the counts are exact, the median image size comes from a uniform sample of ``MEDIAN_SAMPLE``
rows (all rows below that, so small collections get the exact figure of before).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from genscope.analyses.batches import Records, Reservoir

MEDIAN_SAMPLE = 100_000
COLUMNS = ("error", "format", "width", "height", "bytes")


class Overview:
    """Adds up record batches; ``result()`` is the summary's counts."""

    def __init__(self, seed: int = 0) -> None:
        self.rows = 0
        self.errors: Counter[str] = Counter()
        self.formats: Counter[str] = Counter()
        self.signal_errors: Counter[str] = Counter()
        self.total_bytes = 0
        self.pixels = Reservoir(MEDIAN_SAMPLE, seed)  # valid pixel counts: all of them, or a uniform sample

    def add(self, table: pa.Table) -> None:
        self.rows += table.num_rows
        self.errors.update(code for code in table.column("error").to_pylist() if code is not None)
        self.formats.update(fmt or "unknown" for fmt in table.column("format").to_pylist())
        for name in table.column_names:
            if name.endswith(".error"):
                self.signal_errors[name[: -len(".error")]] += table.num_rows - table.column(name).null_count
        self.total_bytes += int(pc.sum(table.column("bytes")).as_py() or 0)
        pixels = pc.multiply(pc.cast(table.column("width"), pa.int64()), pc.cast(table.column("height"), pa.int64()))
        self.pixels.add(pixels.drop_null().to_numpy())

    def result(self) -> dict[str, Any]:
        """Counts that add up: ``ok + failed == inputs == rows``."""
        failed = sum(self.errors.values())
        sample = pa.array(self.pixels.values[0] if self.pixels.values else [], pa.int64())
        return {
            "inputs": self.rows,
            "ok": self.rows - failed,
            "failed": failed,
            "errors_by_code": dict(self.errors.most_common()),
            "signal_errors": {name: count for name, count in self.signal_errors.items() if count},
            "formats": dict(self.formats.most_common()),
            "total_bytes": self.total_bytes,
            "median_megapixels": _median(sample, 1e-6),
        }


def overview(tables: pa.Table | Iterable[pa.Table]) -> dict[str, Any]:
    """The counts of a records table, or of its batches one after another."""
    counts = Overview()
    for table in [tables] if isinstance(tables, pa.Table) else tables:
        counts.add(table)
    return counts.result()


def overview_columns(columns: list[str]) -> list[str]:
    """Of a records table's columns, those the overview reads."""
    return [c for c in columns if c in COLUMNS or c.endswith(".error")]


def overview_batches(source: str | os.PathLike | Records) -> Iterable[pa.Table]:
    """The records (of a scan folder, or already opened) a batch at a time, with only the columns the overview
    reads."""
    records = Records.of(source)
    return records.batches(overview_columns(records.columns))


def _median(values: pa.Array, scale: float) -> float | None:
    if len(values) == 0:
        return None
    return round(float(pc.approximate_median(values).as_py()) * scale, 3)
