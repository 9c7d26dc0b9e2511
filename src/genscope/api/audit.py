"""``genscope.audit(records)``: the generated share with its interval, diversity and shortcut facts."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa

from genscope.analyses.audit import AUDIT_SAMPLE, Audit, run_audit
from genscope.analyses.overview import overview, overview_batches
from genscope.analyses.quantify import Calibration
from genscope.api.inputs import load_calibration, open_records, scan_summary
from genscope.api.result import Result


@dataclass
class AuditResult(Result):
    audit: Audit
    scan_summary: dict[str, Any]

    summary_file: ClassVar[str] = "audit.json"

    @property
    def summary(self) -> dict[str, Any]:  # type: ignore[override]
        return self.audit.summary

    @property
    def per_image(self) -> pa.Table:
        """path, evidence and verdict of every row (read again from the records on each call)."""
        return self.audit.per_image

    @property
    def records(self) -> pa.Table:
        """The rows the report shows: every row, or the uniform sample the summary states."""
        return self.audit.records.take(self.audit.report_rows)

    @property
    def tables(self) -> dict[str, pa.Table]:
        return {"audit_images": self.per_image}

    def table_batches(self) -> dict[str, Iterable[pa.Table]]:
        return {"audit_images": self.audit.per_image_batches()}

    def report(self, path: str | os.PathLike) -> Path:
        from genscope.report.html import write_report

        return write_report(self.records, self.scan_summary, Path(path), impact=self.summary)


def audit(records: str | os.PathLike | pa.Table, *, by: str | None = None, labels: str | None = None,
          embeddings: str | None = None, calibration: str | os.PathLike | Calibration | None = None,
          threshold: float | None = None, sample: int = AUDIT_SAMPLE) -> AuditResult:
    """Audit the records of a scan (a scan folder, a records folder, a Parquet file or a table).

    ``by``: also per group (folder, shard, format, any column or meta key); ``labels``: a column holding
    real/generated labels; ``embeddings``: vectors for diversity (a column, a ``.npz`` or a ``.npy``);
    ``calibration``: labelled held-out detector scores (default: the ones shipped with the detector);
    ``threshold``: the detector's operating threshold (default: the model's); ``sample``: the most rows that
    shortcut AUCs, diversity (per side) and the report use (a uniform, seeded sample; counts and the share
    always use every row). The records are read a batch at a time, never whole."""
    source = open_records(records)
    summary = scan_summary(records, overview(overview_batches(source)))
    if not isinstance(calibration, Calibration):
        calibration = load_calibration(calibration)
    found = run_audit(source, calibration=calibration, by=by, labels=labels, embeddings=embeddings,
                      threshold=threshold, sample=sample)
    return AuditResult(audit=found, scan_summary=summary)
