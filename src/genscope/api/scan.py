"""``scan()``: the whole flow, sources → engine → records → summary → report."""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
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
from genscope.engine.local import LocalEngine, worker_count
from genscope.engine.sink import RecordSink, Tally
from genscope.engine.worker import BatchStats, ScanConfig, Task
from genscope.records import (
    Existing,
    PartWriter,
    finish_parts,
    read_records,
    records_folder,
    records_schema,
)
from genscope.report import DEFAULT_HEATMAPS
from genscope.signals import check_options, default_signals, signal_class
from genscope.signals.base import decode_side, prepare_signals, signal_version
from genscope.sources import Item, enumerate_inputs
from genscope.sources.item import DEFAULT_MAX_BYTES, record_path
from genscope.storage import Folder, expand_braces, is_uri
from genscope.text import plural

ENGINES = ("local", "ray")


class ScanError(RuntimeError):
    """The scan could not run or finish (bad arguments, unusable output folder)."""


@dataclass
class ScanResult:
    """What a scan left in ``out``: records, summary and report, loaded on demand."""

    out: Path | str  # a str when the scan wrote to an object-store URI
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def records(self) -> pa.Table:
        return read_records(self.out)

    def to_pandas(self):
        """The records as a pandas DataFrame (pandas is not a dependency: ``pip install pandas``)."""
        try:
            import pandas  # noqa: F401  (pyarrow's own message does not say how to get it)
        except ImportError:
            raise ImportError("to_pandas() needs pandas, which genscope does not install: pip install pandas") from None
        return self.records.to_pandas()

    @property
    def errors(self) -> pa.Table:
        table = self.records
        return table.filter(pc.is_valid(table.column("error")))

    def report(self, path: str | os.PathLike | None = None, *, rows: int = 500,
               heatmaps: int = DEFAULT_HEATMAPS) -> Path | str:
        """Render the HTML report (default ``out/report.html``) and return where it went; ``heatmaps`` of the
        most-likely-generated images get the detector's heat map (0 for none: each takes seconds)."""
        from genscope.report.html import write_report

        if path is None and is_uri(self.out):  # rendered locally, then uploaded as one object
            with tempfile.TemporaryDirectory() as temp:
                local = write_report(self.records, self.summary, Path(temp) / "report.html", rows=rows,
                                     heatmaps=heatmaps)
                Folder.at(self.out).write_bytes("report.html", local.read_bytes())
            return f"{self.out}/report.html"
        target = Path(path) if path is not None else Path(self.out) / "report.html"
        return write_report(self.records, self.summary, target, rows=rows, heatmaps=heatmaps)


def scan(paths: list[str] | str, out: str | os.PathLike, *, signals: list[str] | None = None,
         signal_options: dict[str, dict[str, Any]] | None = None, workers: int | None = None,
         batch_size: int = 8, timeout_s: float = 60.0, max_pixels: int = DEFAULT_MAX_PIXELS,
         max_bytes: int = DEFAULT_MAX_BYTES, all_files: bool = False, report: bool = True,
         report_rows: int = 500, report_heatmaps: int = DEFAULT_HEATMAPS, progress: bool | None = None,
         engine: str = "local", address: str | None = None, num_cpus: int | None = None,
         replace: bool = False) -> ScanResult:
    """Scan images and write ``out/records.parquet``, ``out/summary.json`` and ``out/report.html``.

    Rerunning with the same ``out`` resumes: rows whose bytes and signal versions are unchanged
    are kept, only missing or stale work is done. ``progress=None`` shows a bar on a terminal.
    ``engine="ray"`` runs the per-image half on Ray (``address`` joins a running cluster, else a
    local instance with ``num_cpus`` CPUs starts); the records are the same. An ``out`` holding rows of
    inputs not given this time is refused unless ``replace`` (those rows are then dropped); rows of files
    gone from a named folder or shard are dropped either way.
    """
    started = time.time()
    if engine not in ENGINES:
        raise ScanError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if engine == "local" and (address is not None or num_cpus is not None):
        raise ScanError("address and num_cpus apply to engine='ray' only")
    targets = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    names = list(signals) if signals is not None else default_signals()
    classes = [signal_class(name) for name in names]
    check_options(classes, signal_options or {})
    prepare_signals(classes, signal_options or {})
    out_location = os.fspath(out)
    folder = records_folder(out_location)
    if folder.kind() == "file":
        raise ScanError(f"{folder.location} exists and is not a records folder; choose another --out")
    items, duplicates = enumerate_inputs([os.fspath(t) for t in targets], all_files=all_files)
    schema = records_schema(classes)
    versions = {cls.name: signal_version(cls, (signal_options or {}).get(cls.name)) for cls in classes}
    existing = Existing.load(folder)
    current = {item.path for item in items}
    _refuse_left_out(existing, current, targets, out_location, replace)
    config = ScanConfig(signals=tuple(names), signal_options=signal_options or {}, max_pixels=max_pixels,
                        max_bytes=max_bytes, timeout_s=timeout_s,
                        min_side=decode_side(classes, signal_options or {}))
    folder.make()
    bar = tqdm(total=len(items), unit="img", disable=(None if progress is None else not progress),
               dynamic_ncols=True, smoothing=0.1)

    def on_progress(done: int, errors: int) -> None:
        bar.update(done)
        bar.set_postfix(errors=errors, refresh=False)

    tasks = _plan(items, existing, versions)
    try:
        if engine == "ray":
            from genscope.engine.ray import RayEngine

            ray_engine = RayEngine(config, address=address, num_cpus=num_cpus, workers=workers,
                                   batch_size=batch_size)
            tally = ray_engine.run(list(tasks), folder, schema, existing, on_progress)
            workers = ray_engine.actors
        else:
            workers = worker_count(workers, len(items))
            tally = _run_local(config, tasks, folder, schema, existing, workers, batch_size, on_progress)
    finally:
        bar.close()
    # the folder holds this run's inputs only: rows of files gone (or, with replace, of inputs left out) go
    earlier_dropped = sum(path not in current for path in existing.sha256)
    finish_parts(folder, schema, current)
    table = read_records(out_location)
    if table.num_rows != len(items):
        if engine == "ray" and address is not None and not is_uri(out_location):
            raise ScanError(f"{table.num_rows} records for {len(items)} inputs in {folder.location}: workers on "
                            "other nodes wrote parts this machine cannot see; use an object-store --out "
                            "(s3://…) or a folder every node shares")
        raise ScanError(f"internal error: {table.num_rows} records for {len(items)} inputs")
    finished = time.time()
    summary = overview(table) | {
        "genscope_version": __version__,
        "inputs_named": [os.fspath(t) for t in targets],
        "duplicate_inputs_ignored": duplicates,
        "earlier_rows_dropped": earlier_dropped,
        "signals": versions,
        "engine": engine,
        "timing": tally.timing(started, finished, workers),
    }
    impact = impact_summary(table)
    if impact is not None:
        summary["dataset_impact"] = impact
    Folder.at(out_location).write_bytes("summary.json", (json.dumps(summary, indent=2, ensure_ascii=False)
                                                         + "\n").encode())
    result = ScanResult(out=out_location if is_uri(out_location) else Path(out_location), summary=summary)
    if report:
        result.report(rows=report_rows, heatmaps=report_heatmaps)
    return result


def _refuse_left_out(existing: Existing, current: set[str], targets: list, out: str, replace: bool) -> None:
    """A rerun that names fewer inputs would drop their rows: ask first. Rows of files gone from a folder
    or shard named again are dropped without asking, as the collection itself changed."""
    if replace:
        return
    named = [record_path(name) for t in targets for name in expand_braces(os.fspath(t))]
    left_out = [path for path in existing.sha256 if path not in current
                and not any(path.startswith(f"{name.rstrip('/')}/") for name in named)]
    if left_out:
        raise ScanError(f"{out} holds {plural(len(left_out), 'row')} for inputs not given this "
                        f"time (e.g. {left_out[0]}); name them again to keep them, pass --replace to drop "
                        "them, or choose a new --out")


def _run_local(config: ScanConfig, tasks: Iterator[Task], folder: Folder, schema: pa.Schema, existing: Existing,
               workers: int, batch_size: int, on_progress: Callable[[int, int], None]) -> Tally:
    sink = RecordSink(PartWriter(folder, schema), existing.row)

    def on_result(rows: list[dict[str, Any]], stats: BatchStats) -> None:
        sink.add(rows, stats)
        on_progress(len(rows), sink.tally.errors)

    LocalEngine(config, workers=workers, batch_size=batch_size).run(tasks, on_result)
    sink.writer.flush()
    return sink.tally


def _plan(items: list[Item], existing: Existing, versions: dict[str, str]) -> Iterator[Task]:
    for item in items:
        stale = existing.stale_signals(item.path, versions)
        if stale is None:
            yield Task(item)
        else:
            yield Task(item, expected_sha256=existing.sha256[item.path], only=tuple(stale))


__all__ = ["ScanError", "ScanResult", "scan"]
