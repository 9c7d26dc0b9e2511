"""``genscope.audit(records)``: the generated share with its interval, diversity and shortcut facts."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa

from genscope.analyses.audit import run_audit
from genscope.analyses.overview import overview
from genscope.analyses.quantify import Calibration
from genscope.api.inputs import load_calibration, load_records
from genscope.api.result import Result


@dataclass
class AuditResult(Result):
    summary: dict[str, Any]
    per_image: pa.Table  # path, evidence and verdict of every row
    records: pa.Table
    scan_summary: dict[str, Any]

    summary_file: ClassVar[str] = "audit.json"

    @property
    def tables(self) -> dict[str, pa.Table]:
        return {"audit_images": self.per_image}

    def report(self, path: str | os.PathLike) -> Path:
        from genscope.report.html import write_report

        return write_report(self.records, self.scan_summary, Path(path), impact=self.summary)


def audit(records: str | os.PathLike | pa.Table, *, by: str | None = None, labels: str | None = None,
          embeddings: str | None = None, calibration: str | os.PathLike | Calibration | None = None,
          threshold: float | None = None) -> AuditResult:
    """Audit the records of a scan (a scan folder, a records folder, a Parquet file or a table).

    ``by``: also per group (folder, shard, format, any column or meta key); ``labels``: a column holding
    real/generated labels; ``embeddings``: vectors for diversity (a column, a ``.npz`` or a ``.npy``);
    ``calibration``: labelled held-out detector scores (default: the ones shipped with the detector);
    ``threshold``: the detector's operating threshold (default: the model's)."""
    table, scan_summary = (records, overview(records)) if isinstance(records, pa.Table) else load_records(records)
    if not isinstance(calibration, Calibration):
        calibration = load_calibration(calibration)
    found = run_audit(table, calibration=calibration, by=by, labels=labels, embeddings=embeddings,
                      threshold=threshold)
    return AuditResult(summary=found.summary, per_image=found.per_image, records=table, scan_summary=scan_summary)
