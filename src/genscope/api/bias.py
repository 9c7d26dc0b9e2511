"""``genscope.bias(records, by="prompt", reference=None)``: who appears per group, against real images."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa

from genscope.analyses.bias import run_bias
from genscope.api.inputs import open_records
from genscope.api.result import Result
from genscope.errors import InputError
from genscope.models.faces import RECALL


@dataclass
class BiasResult(Result):
    summary: dict[str, Any]
    groups: pa.Table  # one row per group, most skewed first
    faces: pa.Table  # one row per face
    located: pa.Table | None  # where the images with faces are: the report's face crops are re-read from them

    summary_file: ClassVar[str] = "summary.json"

    @property
    def tables(self) -> dict[str, pa.Table]:
        return {"bias": self.faces, "bias_groups": self.groups}

    def report(self, path: str | os.PathLike) -> Path:
        from genscope.report.bias_section import write

        return write(self.summary, self.faces, self.located, Path(path))


def _recall(recall: str | os.PathLike | dict[str, Any] | None) -> dict[str, Any] | None:
    if recall is None or isinstance(recall, dict):
        return recall
    try:
        text = str(recall) if str(recall).lstrip().startswith("{") else \
            (RECALL if str(recall) == "shipped" else Path(recall)).read_text()
        return json.loads(text)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read recall {recall}: {exc}") from None


def bias(records: str | os.PathLike | pa.Table, *, by: str = "prompt",
         reference: str | os.PathLike | pa.Table | None = None,
         recall: str | os.PathLike | dict[str, Any] | None = None, min_confidence: float = 0.0,
         seed: int = 0) -> BiasResult:
    """Skin-tone shares per group of the records of a scan that ran the ``faces`` signal (a scan folder, a records
    folder, a Parquet file or a table; files are read batch by batch). ``by``: ``prompt`` (from provenance metadata)
    or any column or meta key; ``reference``: records of real images to compare every group with; ``recall``: the
    detector's recall to correct the shares for faces it misses: ``"shipped"`` (measured per tone band and face size
    on portraits, ``models/faces/recall.json``), a mapping per ITA category, JSON text or a JSON file;
    ``min_confidence``: leave out faces the detector was less sure of; ``seed``: bootstrap and permutations."""
    found = run_bias(open_records(records), by=by, reference=None if reference is None else open_records(reference),
                     recall=_recall(recall), min_confidence=min_confidence, seed=seed)
    return BiasResult(summary=found.summary, groups=found.groups, faces=found.faces, located=found.located)
