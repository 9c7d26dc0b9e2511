"""The shape every capability's result shares: ``.summary``, named ``.tables``, ``.report()`` and ``.save()``."""

from __future__ import annotations

import json
import os
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

    def report(self, path: str | os.PathLike) -> Path:
        raise NotImplementedError

    def save(self, out: str | os.PathLike) -> Path:
        """Write the summary, every table and ``report.html`` into the folder ``out``; returns it."""
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / self.summary_file).write_text(json.dumps(self.summary, indent=2, ensure_ascii=False) + "\n")
        for name, table in self.tables.items():
            pq.write_table(table, folder / f"{name}.parquet")
        self.report(folder / "report.html")
        return folder
