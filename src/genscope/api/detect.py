"""Score many images with the detector through the scan engine, without writing records.

``genscope detect`` is a scan with one signal whose rows are printed instead of stored: the same inputs
(folders, files, path lists, manifests, shards, object-store URIs), the same decode limits, and the
engine's per-file deadline and crash isolation — a file that hangs or kills a decoder becomes an error
line, never a stuck or failed command. Results come back in input order as soon as they are ready.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from genscope.decode import DEFAULT_MAX_PIXELS
from genscope.engine.local import LocalEngine, worker_count
from genscope.engine.worker import BatchStats, ScanConfig, Task
from genscope.models.detector import ensure_model, view_side
from genscope.models.detector.crops import Preprocess
from genscope.sources import enumerate_inputs
from genscope.sources.item import DEFAULT_MAX_BYTES

Detection = dict[str, Any]


def detect_files(inputs: list[str], on_result: Callable[[Detection], None], *, model: str | None = None,
                 preprocess: Preprocess = "crop", n_crops: int | None = None, workers: int | None = None,
                 threads: int = 1, timeout_s: float = 60.0, max_pixels: int = DEFAULT_MAX_PIXELS,
                 max_bytes: int = DEFAULT_MAX_BYTES, all_files: bool = False) -> int:
    """Call ``on_result`` once per input, in input order, with ``path``, ``ai_score``, ``verdict``,
    ``threshold``, ``generator`` (family → probability) and, for a file that could not be scored,
    ``error``; returns the number of inputs."""
    items, _ = enumerate_inputs(inputs, all_files=all_files)
    if not items:
        return 0
    ensure_model(model)  # fetch once here, not in every worker
    options = {"model": model, "preprocess": preprocess, "n_crops": n_crops, "threads": threads}
    config = ScanConfig(signals=("detector",), signal_options={"detector": options}, max_pixels=max_pixels,
                        max_bytes=max_bytes, timeout_s=timeout_s, min_side=view_side(model))
    order = {item.path: i for i, item in enumerate(items)}
    ready: dict[int, Detection] = {}
    printed = 0

    def collect(rows: list[dict[str, Any]], _stats: BatchStats) -> None:
        nonlocal printed
        for row in rows:
            ready[order[row["path"]]] = detection(row)
        while printed in ready:
            on_result(ready.pop(printed))
            printed += 1

    LocalEngine(config, workers=worker_count(workers, len(items)), batch_size=8).run(
        (Task(item) for item in items), collect)
    return len(items)


def detection(row: dict[str, Any]) -> Detection:
    """A scan row's ``detector.*`` columns as ``genscope detect`` prints them."""
    score = row.get("detector.ai_score")
    out: Detection = {"path": row["path"], "ai_score": score, "verdict": row.get("detector.verdict"),
                      "threshold": row.get("detector.threshold"),
                      "generator": dict(row.get("detector.generator") or {})}
    if score is not None:
        return out
    if row.get("error"):  # the file itself failed (read, decode, timeout): the core error columns
        message = row.get("error_message")
        out["error"] = f"{row['error']}: {message}" if message else row["error"]
    else:  # the file decoded but the detector could not score it
        out["error"] = row.get("detector.error") or "not scored"
    return out
