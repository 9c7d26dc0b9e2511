"""The per-image half as one pure function of a batch: read → sha256 → decode → signals → rows.

Nothing here knows who schedules it; the local process pool and a distributed engine call
``Processor.process`` the same way.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from genscope.decode import DEFAULT_MAX_PIXELS, Decoded, decode, register_optional_decoders
from genscope.signals import Sample, Signal, SignalError, build_signals
from genscope.sources.item import DEFAULT_MAX_BYTES, Item, ReadError, read_item


@dataclass(frozen=True)
class ScanConfig:
    signals: tuple[str, ...]
    signal_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_bytes: int = DEFAULT_MAX_BYTES
    timeout_s: float = 60.0  # per file; enforced by the engine, which can kill a stuck worker
    min_side: int | None = None  # every signal needs only this many pixels: JPEGs decode at reduced scale


@dataclass(frozen=True)
class Task:
    """One item to process. With ``expected_sha256`` set the item was scanned before: if the
    bytes still hash the same, only the signals in ``only`` are computed (none: unchanged)."""

    item: Item
    expected_sha256: str | None = None
    only: tuple[str, ...] | None = None


UNCHANGED = "__unchanged__"


def base_row(item: Item) -> dict[str, Any]:
    return {"path": item.path, "shard": item.file if item.offset is not None else None,
            "offset": item.offset, "meta": item.meta}


def failure_row(item: Item, code: str, message: str) -> dict[str, Any]:
    return {**base_row(item), "error": code, "error_message": message}


@dataclass
class BatchStats:
    read_ms: float = 0.0
    decode_ms: float = 0.0
    signal_ms: dict[str, float] = field(default_factory=dict)
    signal_images: dict[str, int] = field(default_factory=dict)


class Processor:
    """Holds the signals (models load once per process) and turns tasks into record rows."""

    def __init__(self, config: ScanConfig) -> None:
        register_optional_decoders()
        self.config = config
        self.signals: list[Signal] = build_signals(list(config.signals), config.signal_options)

    def process(self, tasks: list[Task]) -> tuple[list[dict[str, Any]], BatchStats]:
        stats = BatchStats()
        rows: list[dict[str, Any] | None] = []
        samples: list[tuple[int, Sample, Decoded, tuple[str, ...] | None]] = []
        for task in tasks:
            started = time.perf_counter()
            row, sample, decoded = self._prepare(task, stats)
            rows.append(row)
            if sample is not None:
                # Only a file whose bytes are unchanged may keep its other signals' old values.
                only = task.only if task.expected_sha256 == row["sha256"] else None
                samples.append((len(rows) - 1, sample, decoded, only))
            row["elapsed_ms"] = (time.perf_counter() - started) * 1000.0
        self._run_signals(rows, samples, stats)
        return [row for row in rows if row is not None], stats

    def _prepare(self, task: Task, stats: BatchStats) -> tuple[dict[str, Any], Sample | None, Decoded | None]:
        item = task.item
        started = time.perf_counter()
        try:
            data = read_item(item, self.config.max_bytes)
        except ReadError as exc:
            return failure_row(item, exc.code, exc.message), None, None
        finally:
            stats.read_ms += (time.perf_counter() - started) * 1000.0
        sha = hashlib.sha256(data).hexdigest()
        row = base_row(item) | {"sha256": sha, "bytes": len(data)}
        if task.expected_sha256 == sha and task.only == ():
            return {"path": item.path, UNCHANGED: True}, None, None
        started = time.perf_counter()
        decoded = decode(data, self.config.max_pixels, self.config.min_side)
        stats.decode_ms += (time.perf_counter() - started) * 1000.0
        row |= {"format": decoded.format, "width": decoded.width, "height": decoded.height,
                "mode": decoded.mode, "frames": decoded.frames}
        if decoded.error is not None:
            row["error"], row["error_message"] = decoded.error
        info = decoded.info | {"format": decoded.format, "mode": decoded.mode, "frames": decoded.frames}
        return row, Sample(path=item.path, data=data, image=decoded.image, info=info), decoded

    def _run_signals(self, rows: list[dict[str, Any]], samples: list, stats: BatchStats) -> None:
        for signal in self.signals:
            chosen = [(index, sample) for index, sample, decoded, only in samples
                      if (only is None or signal.name in only)
                      and (sample.image is not None or not signal.needs_image)]
            if not chosen:
                continue
            started = time.perf_counter()
            outputs = run_signal(signal, [sample for _, sample in chosen])
            stats.signal_ms[signal.name] = stats.signal_ms.get(signal.name, 0.0) + (
                time.perf_counter() - started) * 1000.0
            stats.signal_images[signal.name] = stats.signal_images.get(signal.name, 0) + len(chosen)
            for (index, _), output in zip(chosen, outputs, strict=True):
                rows[index].update(signal_row(signal, output))
        for index, _sample, _decoded, only in samples:
            if only is not None:
                rows[index]["__partial__"] = only


def run_signal(signal: Signal, samples: list[Sample]) -> list[dict[str, Any] | SignalError]:
    """The signal's outputs, one per sample; a batch failure is retried sample by sample."""
    try:
        outputs = signal.compute(samples)
        if len(outputs) != len(samples):
            raise RuntimeError(f"returned {len(outputs)} outputs for {len(samples)} samples")
        _check_types(signal, outputs)
        return outputs
    except Exception:  # isolate the sample that breaks the signal
        if len(samples) == 1:
            return [_single(signal, samples[0])]
        return [_single(signal, sample) for sample in samples]


def _single(signal: Signal, sample: Sample) -> dict[str, Any] | SignalError:
    try:
        outputs = signal.compute([sample])
        _check_types(signal, outputs)
        return outputs[0]
    except SignalError as exc:
        return exc
    except Exception as exc:  # a bug or hostile input in one signal never fails the row
        return SignalError("signal.exception", f"{type(exc).__name__}: {exc}"[:500])


def _check_types(signal: Signal, outputs: list[dict[str, Any] | SignalError]) -> None:
    dicts = [o for o in outputs if not isinstance(o, SignalError)]
    pa.Table.from_pylist(dicts, schema=signal.schema)  # raises on a value of the wrong type


def signal_row(signal: Signal, output: dict[str, Any] | SignalError) -> dict[str, Any]:
    prefix = signal.name
    row: dict[str, Any] = {f"{prefix}.version": signal.version}
    if isinstance(output, SignalError):
        row[f"{prefix}.error"] = f"{output.code}: {output.message}"[:1000]
        return row
    for f in signal.schema:
        row[f"{prefix}.{f.name}"] = output.get(f.name)
    return row
