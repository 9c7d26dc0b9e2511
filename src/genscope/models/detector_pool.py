"""Score many image files on every core: one detector per worker process, results in input order.

Decoding, window cutting and the residual cues are single-threaded NumPy/Pillow work, so one process
with a multi-threaded ONNX session leaves a core idle for a third of the time. Worker processes with
one ORT thread each keep every core busy (the scan engine does the same with its process pool).
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from genscope.models.detector import Detector
from genscope.models.detector_crops import Preprocess

CHUNK = 32  # images per task: enough to amortise inter-process traffic, small enough to print as we go

_worker: Detector | None = None  # one per worker process, set by _init


def _init(model: str | None, threads: int) -> None:
    global _worker
    _worker = Detector.load(model, threads=threads)


def _score(paths: list[Path], preprocess: Preprocess, n_crops: int | None) -> list[dict[str, Any]]:
    assert _worker is not None
    return _worker.predict(paths, preprocess, n_crops)


def default_workers() -> int:
    return len(os.sched_getaffinity(0))


def predict_paths(paths: Sequence[Path], model: str | None = None, preprocess: Preprocess = "crop",
                  n_crops: int | None = None, workers: int | None = None,
                  threads: int | None = None) -> Iterator[list[dict[str, Any]]]:
    """Results for ``paths`` as consecutive chunks (in input order), scored by ``workers`` processes
    (default: one per core) with ``threads`` ORT threads each (default: cores / workers). With one worker,
    or a single chunk of input, it runs in this process: starting workers costs about a second."""
    workers = max(1, min(workers or default_workers(), math.ceil(len(paths) / CHUNK)))
    threads = threads or max(1, default_workers() // workers)
    chunks = [list(paths[i:i + CHUNK]) for i in range(0, len(paths), CHUNK)]
    if workers == 1:
        detector = Detector.load(model, threads=threads)
        for chunk in chunks:
            yield detector.predict(chunk, preprocess, n_crops)
        return
    # spawn: no forked copies of ORT thread pools (as in engine/local.py)
    with ProcessPoolExecutor(workers, mp.get_context("spawn"), initializer=_init,
                             initargs=(model, threads)) as pool:
        yield from pool.map(_score, chunks, [preprocess] * len(chunks), [n_crops] * len(chunks))
