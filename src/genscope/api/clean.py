"""``genscope.clean(records, max_generated=0.01)``: a keep-list whose estimated generated share meets a target."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from genscope.analyses.audit import (
    DEFAULT_THRESHOLD,
    PROVENANCE,
    SCORE,
    THRESHOLD,
    detector_scores,
    proven_as,
    provenance_verdicts,
    stored_threshold,
)
from genscope.analyses.batches import Records
from genscope.analyses.clean import CleanPlan, plan_clean
from genscope.analyses.overview import overview
from genscope.analyses.quantify import Calibration
from genscope.api.inputs import duplicate_copies, load_calibration, open_records
from genscope.api.result import Result, write_parquet
from genscope.errors import InputError


@dataclass
class CleanResult(Result):
    plan: CleanPlan
    records: Records
    copies: set[str]  # paths dropped first as duplicate copies
    inputs: int  # rows before anything was dropped
    dropped_as_duplicates: int

    @property
    def summary(self) -> dict[str, Any]:  # type: ignore[override]
        return self.plan.as_dict() | {"inputs": self.inputs, "dropped_as_duplicates": self.dropped_as_duplicates}

    def kept_batches(self, columns: list[str] | None = None) -> Iterator[pa.Table]:
        """The kept rows with every column of the records (or ``columns``), a batch of the records at a time."""
        for batch in self.records.batches():
            batch = _without(batch, self.copies)
            scores = detector_scores(batch)
            keep = ~proven_as(provenance_verdicts(batch), "yes") & ~np.isnan(scores) & (scores < self.plan.cut)
            kept = batch.filter(pa.array(keep, type=pa.bool_()))
            yield kept if columns is None else kept.select(columns)

    @property
    def kept(self) -> pa.Table:
        """The kept rows with every column of the records (read again from them on each call)."""
        return pa.concat_tables(list(self.kept_batches()))

    @property
    def tables(self) -> dict[str, pa.Table]:
        return {"kept": self.kept}

    def table_batches(self) -> dict[str, Iterable[pa.Table]]:
        return {"kept": self.kept_batches()}

    def report(self, path: str | os.PathLike) -> Path:
        """The scan report of the kept rows."""
        from genscope.report.html import write_report

        kept = self.kept
        return write_report(kept, overview(kept), Path(path))

    def write_keep_list(self, path: str | os.PathLike) -> Path:
        """The kept rows as ``.parquet`` (every column) or CSV (the columns a cell can hold), written a batch
        at a time."""
        import pyarrow.csv as pacsv

        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.suffix.lower() in (".parquet", ".pq"):
            write_parquet(target, self.kept_batches())
            return target
        columns = csv_columns(self.records.schema)
        with pacsv.CSVWriter(target, pa.schema([self.records.schema.field(c) for c in columns])) as writer:
            for batch in self.kept_batches(columns):
                writer.write_table(batch)
        return target


def clean(records: str | os.PathLike | pa.Table, max_generated: float, *,
          calibration: str | os.PathLike | Calibration | None = None, threshold: float | None = None,
          drop_duplicates: str | os.PathLike | None = None) -> CleanResult:
    """Keep the rows whose estimated generated share is at most ``max_generated`` (a fraction). Images proven
    generated and images that could not be assessed are always dropped; ``drop_duplicates``: a ``genscope dedup``
    folder whose copies (all but each group's representative) are dropped first. ``plan.reachable`` is False
    when no cut that keeps an image meets the target (the result then holds the cut with the smallest residual).
    The records are read a batch at a time: what is held is one score per row, and the kept rows are read
    again when asked for or written."""
    if not 0 <= max_generated < 1:
        raise InputError(f"max_generated is a fraction in [0, 1), got {max_generated}")
    source = open_records(records)
    copies = duplicate_copies(drop_duplicates) if drop_duplicates is not None else set()
    if SCORE not in source.columns:
        raise InputError("these records have no detector scores: scan with --signals …,detector first")
    if not isinstance(calibration, Calibration):
        calibration = load_calibration(calibration)
    if calibration is None:
        raise InputError("no calibration: the detector's held-out scores are missing; pass a calibration file")
    inputs, scores, proven, stored = 0, [], [], None
    for batch in source.batches(["path", SCORE, PROVENANCE, THRESHOLD]):
        inputs += batch.num_rows
        batch = _without(batch, copies)
        scores.append(detector_scores(batch))
        proven.append(proven_as(provenance_verdicts(batch), "yes"))
        if stored is None:
            stored = stored_threshold(batch)  # the first the detector stored, after duplicates are dropped
    pool = np.concatenate(scores)
    used = threshold if threshold is not None else stored if stored is not None else DEFAULT_THRESHOLD
    plan = plan_clean(pool, np.concatenate(proven), calibration, used, max_generated)
    return CleanResult(plan=plan, records=source, copies=copies, inputs=inputs,
                       dropped_as_duplicates=inputs - len(pool))


def _without(batch: pa.Table, paths: set[str]) -> pa.Table:
    """``batch`` less the rows of ``paths``."""
    if not paths:
        return batch
    return batch.filter(pa.array([path not in paths for path in batch.column("path").to_pylist()], type=pa.bool_()))


def csv_columns(schema: pa.Schema) -> list[str]:
    """The columns a CSV cell can hold: nested ones (vectors, the detector's generator map) and raw bytes
    (keypoint codes) stay in the Parquet keep-list only."""
    return [f.name for f in schema
            if not (pa.types.is_nested(f.type) or pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type))]
