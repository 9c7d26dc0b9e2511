"""``genscope.clean(records, max_generated=0.01)``: a keep-list whose estimated generated share meets a target."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from genscope.analyses.audit import SCORE, detector_scores, model_threshold, provenance_verdicts
from genscope.analyses.clean import CleanPlan, plan_clean
from genscope.analyses.overview import overview
from genscope.analyses.quantify import Calibration
from genscope.api.inputs import duplicate_copies, load_calibration, load_records
from genscope.api.result import Result
from genscope.errors import InputError


@dataclass
class CleanResult(Result):
    plan: CleanPlan
    kept: pa.Table  # the kept rows with every column of the records
    inputs: int  # rows before anything was dropped
    dropped_as_duplicates: int

    @property
    def summary(self) -> dict[str, Any]:  # type: ignore[override]
        return self.plan.as_dict() | {"inputs": self.inputs, "dropped_as_duplicates": self.dropped_as_duplicates}

    @property
    def tables(self) -> dict[str, pa.Table]:
        return {"kept": self.kept}

    def report(self, path: str | os.PathLike) -> Path:
        """The scan report of the kept rows."""
        from genscope.report.html import write_report

        return write_report(self.kept, overview(self.kept), Path(path))

    def write_keep_list(self, path: str | os.PathLike) -> Path:
        """The kept rows as ``.parquet`` (every column) or CSV (the columns a cell can hold)."""
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.suffix.lower() in (".parquet", ".pq"):
            pq.write_table(self.kept, target)
        else:
            pacsv.write_csv(self.kept.select(csv_columns(self.kept.schema)), target)
        return target


def clean(records: str | os.PathLike | pa.Table, max_generated: float, *,
          calibration: str | os.PathLike | Calibration | None = None, threshold: float | None = None,
          drop_duplicates: str | os.PathLike | None = None) -> CleanResult:
    """Keep the rows whose estimated generated share is at most ``max_generated`` (a fraction). Images proven
    generated and images that could not be assessed are always dropped; ``drop_duplicates``: a ``genscope dedup``
    folder whose copies (all but each group's representative) are dropped first. ``plan.reachable`` is False
    when no cut that keeps an image meets the target (the result then holds the cut with the smallest residual)."""
    if not 0 <= max_generated < 1:
        raise InputError(f"max_generated is a fraction in [0, 1), got {max_generated}")
    table = records if isinstance(records, pa.Table) else load_records(records)[0]
    inputs = table.num_rows
    if drop_duplicates is not None:
        copies = duplicate_copies(drop_duplicates)
        table = table.filter(pa.array([path not in copies for path in table.column("path").to_pylist()],
                                      type=pa.bool_()))
    if SCORE not in table.column_names:
        raise InputError("these records have no detector scores: scan with --signals …,detector first")
    if not isinstance(calibration, Calibration):
        calibration = load_calibration(calibration)
    if calibration is None:
        raise InputError("no calibration: the detector's held-out scores are missing; pass a calibration file")
    scores = detector_scores(table)
    proven = np.array([p == "yes" for p in provenance_verdicts(table)], dtype=bool)  # bool with zero rows too
    plan = plan_clean(scores, proven, calibration, model_threshold(table, threshold), max_generated)
    keep = ~proven & ~np.isnan(scores) & (scores < plan.cut)
    return CleanResult(plan=plan, kept=table.filter(pa.array(keep, type=pa.bool_())), inputs=inputs,
                       dropped_as_duplicates=inputs - table.num_rows)


def csv_columns(schema: pa.Schema) -> list[str]:
    """The columns a CSV cell can hold: nested ones (vectors, the detector's generator map) and raw bytes
    (keypoint codes) stay in the Parquet keep-list only."""
    return [f.name for f in schema
            if not (pa.types.is_nested(f.type) or pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type))]
