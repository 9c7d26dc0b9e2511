"""``scan()``: the whole flow, sources → engine → records → summary → report."""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from dataclasses import replace as replace_fields
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from tqdm import tqdm

from genscope import __version__
from genscope.analyses.audit import PROVENANCE, SCORE, impact_summary
from genscope.analyses.overview import overview, overview_batches
from genscope.decode import DEFAULT_MAX_PIXELS
from genscope.engine.base import EngineError, EngineOptions, Job, UnitReport
from genscope.engine.driver import Orphans, RowCountError, execute
from genscope.engine.worker import ScanConfig
from genscope.errors import InputError
from genscope.records import read_records, records_folder, records_schema
from genscope.report import DEFAULT_HEATMAPS
from genscope.signals import check_options, default_signals, signal_class
from genscope.signals.base import decode_side, prepare_signals, signal_version
from genscope.sources import UNIT_SIZE, plan_units
from genscope.sources.item import DEFAULT_MAX_BYTES, record_path
from genscope.storage import Folder, expand_braces, is_uri
from genscope.text import plural


class ScanError(InputError):
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
         signal_options: dict[str, dict[str, Any]] | None = None, timeout_s: float = 60.0,
         max_pixels: int = DEFAULT_MAX_PIXELS, max_bytes: int = DEFAULT_MAX_BYTES, all_files: bool = False,
         report: bool = True, report_rows: int = 500, report_heatmaps: int = DEFAULT_HEATMAPS,
         progress: bool | None = None, engine: EngineOptions | str = "local", workers: int | None = None,
         replace: bool = False) -> ScanResult:
    """Scan images and write ``out/records.parquet``, ``out/summary.json`` and ``out/report.html``.

    Rerunning with the same ``out`` resumes: rows whose bytes and signal versions are unchanged
    are kept, only missing or stale work is done. ``progress=None`` shows a bar on a terminal.
    ``engine`` says how the per-image half runs: ``"local"`` (a process pool), ``"ray"``, or an
    ``EngineOptions`` (workers, batch size, unit size, Ray cluster address or CPUs); the records are the
    same. ``workers=N`` is short for ``EngineOptions(workers=N)``. An ``out`` holding rows of inputs not given
    this time is refused unless ``replace`` (those rows are then dropped); rows of files gone from a named
    folder or shard are dropped either way.
    """
    started = time.time()
    options = engine_options(engine, workers)
    targets = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    names = list(signals) if signals is not None else default_signals()
    classes = [signal_class(name) for name in names]
    check_options(classes, signal_options or {})
    prepare_signals(classes, signal_options or {})
    out_location = os.fspath(out)
    folder = records_folder(out_location)
    if folder.kind() == "file":
        raise ScanError(f"{folder.location} exists and is not a records folder; choose another --out")
    plan = plan_units([os.fspath(t) for t in targets], all_files=all_files,
                      unit_size=options.unit_size or UNIT_SIZE)
    schema = records_schema(classes)
    versions = {cls.name: signal_version(cls, (signal_options or {}).get(cls.name)) for cls in classes}
    orphans = Orphans.find(folder, plan)
    _refuse_left_out(orphans.gone, targets, out_location, replace)
    config = ScanConfig(signals=tuple(names), signal_options=signal_options or {}, max_pixels=max_pixels,
                        max_bytes=max_bytes, timeout_s=timeout_s,
                        min_side=decode_side(classes, signal_options or {}))
    folder.make()
    orphans.adopt(folder)
    with ProgressBar(progress, len(plan.units)) as bar:
        try:
            totals = execute(plan, Job(config, folder.location, schema, versions), options, bar)
        except RowCountError as exc:
            if options.name == "ray" and options.address is not None and not is_uri(out_location):
                raise ScanError(f"{exc.rows} records for {exc.inputs} inputs in {folder.location}: workers on "
                                "other nodes wrote parts this machine cannot see; use an object-store --out "
                                "(s3://…) or a folder every node shares") from None
            raise ScanError(f"internal error: {exc}") from None
    finished = time.time()
    summary = overview(overview_batches(out_location)) | {
        "genscope_version": __version__,
        "inputs_named": [os.fspath(t) for t in targets],
        "duplicate_inputs_ignored": totals.duplicates,
        "earlier_rows_dropped": len(orphans.gone) + totals.dropped,
        "signals": versions,
        "engine": options.name,
        "timing": totals.tally.timing(started, finished, totals.workers),
    }
    impact = impact_summary(out_location) if _has_evidence(schema) else None
    if impact is not None:
        summary["dataset_impact"] = impact
    Folder.at(out_location).write_bytes("summary.json", (json.dumps(summary, indent=2, ensure_ascii=False)
                                                         + "\n").encode())
    result = ScanResult(out=out_location if is_uri(out_location) else Path(out_location), summary=summary)
    if report:
        result.report(rows=report_rows, heatmaps=report_heatmaps)
    return result


def engine_options(engine: EngineOptions | str, workers: int | None = None) -> EngineOptions:
    """The engine options of a call that names an engine (or gives options) and maybe a worker count."""
    try:
        options = engine if isinstance(engine, EngineOptions) else EngineOptions(engine)
        return options if workers is None else replace_fields(options, workers=workers)
    except EngineError as exc:
        raise ScanError(str(exc)) from None


class ProgressBar:
    """The terminal bar for a run: inputs done, errors, and units done of the planned units (the number of
    inputs is not known up front: each unit lists its own members in the worker)."""

    def __init__(self, show: bool | None, units: int) -> None:
        self.bar = tqdm(unit="img", disable=(None if show is None else not show), dynamic_ncols=True, smoothing=0.1)
        self.errors = 0
        self.units, self.units_done = units, 0

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.bar.close()

    def rows(self, count: int, errors: int) -> None:
        self.errors += errors
        self.bar.update(count)
        self.bar.set_postfix(errors=self.errors, units=f"{self.units_done}/{self.units}", refresh=False)

    def unit(self, report: UnitReport) -> None:
        self.units_done += 1
        self.bar.set_postfix(errors=self.errors, units=f"{self.units_done}/{self.units}")


def _refuse_left_out(gone: list[str], targets: list, out: str, replace: bool) -> None:
    """A rerun that names fewer inputs would drop their rows: ask first. Rows of files gone from a folder
    or shard named again are dropped without asking, as the collection itself changed."""
    if replace:
        return
    named = [record_path(name) for t in targets for name in expand_braces(os.fspath(t))]
    left_out = [path for path in gone if not any(path.startswith(f"{name.rstrip('/')}/") for name in named)]
    if left_out:
        raise ScanError(f"{out} holds {plural(len(left_out), 'row')} for inputs not given this "
                        f"time (e.g. {left_out[0]}); name them again to keep them, pass --replace to drop "
                        "them, or choose a new --out")


def _has_evidence(schema: pa.Schema) -> bool:
    return SCORE in schema.names or PROVENANCE in schema.names


__all__ = ["EngineOptions", "ScanError", "ScanResult", "engine_options", "scan"]
