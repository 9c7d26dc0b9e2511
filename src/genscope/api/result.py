"""The shape every capability's result shares: ``.summary``, named ``.tables``, ``.report()`` and ``.save()``."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.parquet as pq


class Result:
    """A capability's answer held in memory until ``save``: ``summary`` (JSON-able), ``tables`` (name → Arrow
    table, written as ``<name>.parquet``) and an HTML ``report``. Subclasses name their files."""

    summary_file: ClassVar[str] = "summary.json"
    summary: dict[str, Any]

    @property
    def tables(self) -> dict[str, pa.Table]:
        return {}

    def table_batches(self) -> dict[str, Iterable[pa.Table]]:
        """``tables`` a batch at a time, for ``save``: a result too large to hold overrides this."""
        return {name: [table] for name, table in self.tables.items()}

    def report(self, path: str | os.PathLike) -> Path:
        raise NotImplementedError

    def save(self, out: str | os.PathLike) -> Path:
        """Write the summary, every table and ``report.html`` into the folder ``out``; returns it."""
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / self.summary_file).write_text(json.dumps(self.summary, indent=2, ensure_ascii=False) + "\n")
        for name, batches in self.table_batches().items():
            write_parquet(folder / f"{name}.parquet", batches)
        self.report(folder / "report.html")
        return folder


def write_parquet(path: Path, batches: Iterable[pa.Table]) -> None:
    """One Parquet file from tables of one schema, written as they come (at least one, maybe empty)."""
    writer: pq.ParquetWriter | None = None
    try:
        for batch in batches:
            writer = writer or pq.ParquetWriter(path, batch.schema)
            writer.write_table(batch)
    finally:
        if writer is not None:
            writer.close()
