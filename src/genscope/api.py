"""``scan()``: the whole flow, sources → engine → records → summary → report."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from tqdm import tqdm

from genscope import __version__
from genscope.analyses.audit import impact_summary
from genscope.analyses.overview import overview
from genscope.decode import DEFAULT_MAX_PIXELS
from genscope.engine.local import LocalEngine
from genscope.engine.worker import UNCHANGED, BatchStats, ScanConfig, Task
from genscope.records import (
    Existing,
    PartWriter,
    finish_parts,
    read_records,
    records_dir,
    records_schema,
)
from genscope.signals import check_options, default_signals, signal_class
from genscope.sources import Item, enumerate_inputs
from genscope.sources.item import DEFAULT_MAX_BYTES


class ScanError(RuntimeError):
    """The scan could not run or finish (bad arguments, unusable output folder)."""


@dataclass
class ScanResult:
    """What a scan left in ``out``: records, summary and report, loaded on demand."""

    out: Path
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def records(self) -> pa.Table:
        return read_records(self.out)

    def to_pandas(self):
        return self.records.to_pandas()

    @property
    def errors(self) -> pa.Table:
        table = self.records
        return table.filter(pc.is_valid(table.column("error")))

    def report(self, path: str | os.PathLike | None = None, *, rows: int = 500) -> Path:
        """Render the HTML report (default ``out/report.html``) and return its path."""
        from genscope.report.audit_section import audit_section
        from genscope.report.html import write_report

        target = Path(path) if path is not None else self.out / "report.html"
        impact = self.summary.get("dataset_impact")
        analyses = [audit_section(impact)] if impact else []
        return write_report(self.records, self.summary, target, rows=rows, analyses=analyses)


def scan(paths: list[str] | str, out: str | os.PathLike, *, signals: list[str] | None = None,
         signal_options: dict[str, dict[str, Any]] | None = None, workers: int | None = None,
         batch_size: int = 8, timeout_s: float = 60.0, max_pixels: int = DEFAULT_MAX_PIXELS,
         max_bytes: int = DEFAULT_MAX_BYTES, all_files: bool = False, report: bool = True,
         report_rows: int = 500, progress: bool | None = None) -> ScanResult:
    """Scan images and write ``out/records.parquet``, ``out/summary.json`` and ``out/report.html``.

    Rerunning with the same ``out`` resumes: rows whose bytes and signal versions are unchanged
    are kept, only missing or stale work is done. ``progress=None`` shows a bar on a terminal.
    """
    started = time.time()
    targets = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    names = list(signals) if signals is not None else default_signals()
    classes = [signal_class(name) for name in names]
    check_options(classes, signal_options or {})
    out_path = Path(out)
    folder = records_dir(out_path)
    if folder.exists() and not folder.is_dir():
        raise ScanError(f"{folder} exists and is not a records folder; choose another --out")
    items, duplicates = enumerate_inputs([os.fspath(t) for t in targets], all_files=all_files)
    schema = records_schema(classes)
    versions = {cls.name: cls.version for cls in classes}
    existing = Existing.load(folder) if folder.exists() else Existing()
    config = ScanConfig(signals=tuple(names), signal_options=signal_options or {}, max_pixels=max_pixels,
                        max_bytes=max_bytes, timeout_s=timeout_s)
    workers = workers or os.cpu_count() or 1
    writer = PartWriter(folder, schema)
    tally = _Tally()
    bar = tqdm(total=len(items), unit="img", disable=(None if progress is None else not progress),
               dynamic_ncols=True, smoothing=0.1)

    def on_result(rows: list[dict[str, Any]], stats: BatchStats) -> None:
        fresh = []
        for row in rows:
            if row.get(UNCHANGED):
                tally.reused += 1
                continue
            partial = row.pop("__partial__", None)
            fresh.append(_merge(existing.row(row["path"]), row, partial) if partial is not None else row)
        tally.add(stats, len(fresh))
        writer.add(fresh)
        bar.update(len(rows))
        tally.errors += sum(1 for row in fresh if row.get("error"))
        bar.set_postfix(errors=tally.errors, refresh=False)

    try:
        engine = LocalEngine(config, workers=min(workers, max(1, len(items))), batch_size=batch_size)
        engine.run(_plan(items, existing, versions), on_result)
        writer.flush()
    finally:
        bar.close()
    finish_parts(folder, schema, {item.path for item in items}, writer.written)
    table = read_records(out_path)
    if table.num_rows != len(items):
        raise ScanError(f"internal error: {table.num_rows} records for {len(items)} inputs")
    finished = time.time()
    summary = overview(table) | {
        "genscope_version": __version__,
        "inputs_named": [os.fspath(t) for t in targets],
        "duplicate_inputs_ignored": duplicates,
        "signals": versions,
        "timing": tally.timing(started, finished, workers),
    }
    impact = impact_summary(table)
    if impact is not None:
        summary["dataset_impact"] = impact
    out_path.mkdir(parents=True, exist_ok=True)
    (out_path / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    result = ScanResult(out=out_path, summary=summary)
    if report:
        result.report(rows=report_rows)
    return result


def _plan(items: list[Item], existing: Existing, versions: dict[str, str]) -> Iterator[Task]:
    for item in items:
        stale = existing.stale_signals(item.path, versions)
        if stale is None:
            yield Task(item)
        else:
            yield Task(item, expected_sha256=existing.sha256[item.path], only=tuple(stale))


def _merge(old: dict[str, Any], new: dict[str, Any], computed: tuple[str, ...]) -> dict[str, Any]:
    """The previous row with this run's file facts and freshly computed signals laid over it."""
    merged = dict(old)
    for key, value in new.items():
        prefix = key.split(".", 1)[0] if "." in key else None
        if prefix is None or prefix in computed:
            merged[key] = value
    return merged


@dataclass
class _Tally:
    computed: int = 0
    reused: int = 0
    errors: int = 0
    read_ms: float = 0.0
    decode_ms: float = 0.0
    signal_ms: dict[str, float] = field(default_factory=dict)
    signal_images: dict[str, int] = field(default_factory=dict)

    def add(self, stats: BatchStats, computed: int) -> None:
        self.computed += computed
        self.read_ms += stats.read_ms
        self.decode_ms += stats.decode_ms
        for name, ms in stats.signal_ms.items():
            self.signal_ms[name] = self.signal_ms.get(name, 0.0) + ms
        for name, count in stats.signal_images.items():
            self.signal_images[name] = self.signal_images.get(name, 0) + count

    def timing(self, started: float, finished: float, workers: int) -> dict[str, Any]:
        wall = max(finished - started, 1e-9)
        per_input = max(self.computed + self.reused, 1)
        return {
            "wall_s": round(wall, 3),
            "images_per_s": round((self.computed + self.reused) / wall, 2),
            "computed": self.computed,
            "reused_from_previous_run": self.reused,
            "workers": workers,
            "images_per_signal": dict(self.signal_images),
            # Per image the step actually ran on (reading also covers reused rows: they are re-hashed).
            "cpu_ms_per_image": {
                "read": round(self.read_ms / per_input, 3),
                "decode": round(self.decode_ms / max(self.computed, 1), 3),
                **{name: round(ms / max(self.signal_images.get(name, 0), 1), 3)
                   for name, ms in self.signal_ms.items()},
            },
        }


__all__ = ["ScanError", "ScanResult", "scan"]
