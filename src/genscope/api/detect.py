"""Score many images with the detector through the scan engine, without writing records.

``genscope detect`` is a scan with one signal whose rows are printed instead of stored: the same inputs
(folders, files, path lists, manifests, shards, object-store URIs), the same decode limits, and the
engine's per-file deadline and crash isolation — a file that hangs or kills a decoder becomes an error
line, never a stuck or failed command. Results come back in input order as soon as they are ready.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import Any

from genscope.decode import DEFAULT_MAX_PIXELS
from genscope.engine.base import EngineOptions, Job, UnitReport
from genscope.engine.driver import execute
from genscope.engine.worker import ScanConfig
from genscope.models.detector import ensure_model, view_side
from genscope.models.detector.crops import Preprocess
from genscope.records import list_parts, records_folder, records_schema
from genscope.signals import column, signal_class
from genscope.sources import plan_units
from genscope.sources.item import DEFAULT_MAX_BYTES
from genscope.storage import Folder

Detection = dict[str, Any]
# Lines print unit by unit in input order, so small units keep them streaming (a unit is a few seconds here).
DETECT_UNIT_SIZE = 64
DETECTOR = {f: column("detector", f) for f in ("ai_score", "verdict", "threshold", "generator", "error")}


def detect_files(inputs: list[str], on_result: Callable[[Detection], None], *, model: str | None = None,
                 preprocess: Preprocess = "crop", n_crops: int | None = None, engine: EngineOptions | None = None,
                 workers: int | None = None, threads: int = 1, timeout_s: float = 60.0,
                 max_pixels: int = DEFAULT_MAX_PIXELS, max_bytes: int = DEFAULT_MAX_BYTES,
                 all_files: bool = False) -> int:
    """Call ``on_result`` once per input, in input order, with ``path``, ``ai_score``, ``verdict``,
    ``threshold``, ``generator`` (family → probability) and, for a file that could not be scored,
    ``error``; returns the number of inputs. ``engine`` runs it locally (default) or on Ray;
    ``workers=N`` is short for ``EngineOptions(workers=N)``."""
    from genscope.api.scan import engine_options

    options = engine_options(engine or EngineOptions(), workers)
    plan = plan_units(inputs, all_files=all_files, unit_size=options.unit_size or DETECT_UNIT_SIZE)
    if not plan.units:
        return 0
    ensure_model(model)  # fetch once here, not in every worker
    signal = {"model": model, "preprocess": preprocess, "n_crops": n_crops, "threads": threads}
    config = ScanConfig(signals=("detector",), signal_options={"detector": signal}, max_pixels=max_pixels,
                        max_bytes=max_bytes, timeout_s=timeout_s, min_side=view_side(model))
    with tempfile.TemporaryDirectory(prefix="genscope-detect-") as temp:
        folder = records_folder(temp)
        job = Job(config, folder.location, records_schema([signal_class("detector")]), {})
        printer = _InOrder(folder, [unit.key for unit in plan.units], on_result, plan.may_overlap)
        totals = execute(plan, job, options, printer)
        printer.flush()
    return totals.inputs


class _InOrder:
    """Rows of finished units, printed unit after unit in input order (a unit's part is in member order)."""

    def __init__(self, folder: Folder, keys: list[str], on_result: Callable[[Detection], None],
                 overlap: bool) -> None:
        self.folder = folder
        self.keys = keys
        self.on_result = on_result
        self.done: set[str] = set()
        self.printed = 0
        # Where two units may hold one path (inputs named one by one), it is shown once, as a scan keeps it.
        self.shown: set[str] | None = set() if overlap else None

    def rows(self, count: int, errors: int) -> None:
        pass

    def unit(self, report: UnitReport) -> None:
        self.done.add(report.key)
        self.flush(finished_only=True)

    def flush(self, finished_only: bool = False) -> None:
        while self.printed < len(self.keys) and (not finished_only or self.keys[self.printed] in self.done):
            for part in list_parts(self.folder, self.keys[self.printed]):
                for row in self.folder.read_table(part).to_pylist():
                    if self.shown is None or row["path"] not in self.shown:
                        self.on_result(detection(row))
                    if self.shown is not None:
                        self.shown.add(row["path"])
            self.printed += 1


def detection(row: dict[str, Any]) -> Detection:
    """A scan row's ``detector.*`` columns as ``genscope detect`` prints them."""
    score = row.get(DETECTOR["ai_score"])
    out: Detection = {"path": row["path"], "ai_score": score, "verdict": row.get(DETECTOR["verdict"]),
                      "threshold": row.get(DETECTOR["threshold"]),
                      "generator": dict(row.get(DETECTOR["generator"]) or {})}
    if score is not None:
        return out
    if row.get("error"):  # the file itself failed (read, decode, timeout): the core error columns
        message = row.get("error_message")
        out["error"] = f"{row['error']}: {message}" if message else row["error"]
    else:  # the file decoded but the detector could not score it
        out["error"] = row.get(DETECTOR["error"]) or "not scored"
    return out
