"""The dataset-impact audit: generated share (overall and per group), diversity, shortcuts.

Reads only records. Uses whatever evidence they hold and says what is missing: provenance alone
gives a lower bound, the detector an estimate corrected for its error rates, labels (when the
collection has them) the true answer to compare with.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from genscope.analyses.batches import Records, Reservoir
from genscope.analyses.diversity import prdc
from genscope.analyses.quantify import Calibration, estimate_share_counts
from genscope.analyses.shortcuts import FACT_COLUMNS, MIN_PER_CLASS, find_shortcuts
from genscope.errors import InputError
from genscope.signals import column

SCORE, THRESHOLD, DETECTOR_ERROR = (column("detector", f) for f in ("ai_score", "threshold", "error"))
PROVENANCE = column("provenance", "ai")
DEFAULT_EMBEDDINGS = column("descriptor", "vector")
MIN_GROUP_ROWS = 20  # smaller groups get counts only: an interval on 5 images says little
DEFAULT_THRESHOLD = 0.5  # when the records do not say which threshold the detector used
NO_GROUP = "(none)"  # the group of rows with no value in the --by column
# Shortcut AUCs, diversity (per side: real and generated) and the report's rows come from a uniform, seeded
# sample of at most this many rows: an AUC or a P/R/D/C share from 100,000 rows has a standard error of at
# most √(0.25 / 100,000) ≈ 0.0016 (docs/scale.md §6), and P/R/D/C costs real × generated. Below it every row
# is used. The counts and the share are exact tallies over every row.
AUDIT_SAMPLE = 100_000


class AuditError(InputError):
    """Records or options an audit cannot use (no score column, an unknown --by column)."""


@dataclass
class Audit:
    summary: dict[str, Any]
    records: Records
    threshold: float
    outside: tuple[np.ndarray, np.ndarray]  # the generated rows P/R/D/C used, and whether each is outside
    report_rows: np.ndarray  # the rows the report shows: all, or a uniform sample
    notes: list[str] = field(default_factory=list)

    def per_image_batches(self) -> Iterator[pa.Table]:
        """path, score, evidence and whether P/R/D/C found it outside every real ball, a batch at a time."""
        start = 0
        rows, outside = self.outside
        for batch in self.records.batches(["path", SCORE, PROVENANCE]):
            scores = detector_scores(batch)
            flags = np.full(batch.num_rows, None, dtype=object)
            first, last = np.searchsorted(rows, [start, start + batch.num_rows])
            flags[rows[first:last] - start] = outside[first:last]  # rows left out of a sample stay unknown
            yield pa.table({"path": batch.column("path"), "ai_score": pa.array(scores, pa.float32()).fill_null(None),
                            "evidence": pa.array([_evidence(p, s, self.threshold) for p, s in
                                                  zip(provenance_verdicts(batch), scores, strict=True)],
                                                 pa.string()),
                            "outside_real_manifold": pa.array(list(flags), pa.bool_())})
            start += batch.num_rows

    @property
    def per_image(self) -> pa.Table:
        return pa.concat_tables(list(self.per_image_batches()))


def meta_values(table: pa.Table, key: str) -> list[Any]:
    """One value per row from the JSON ``meta`` column (None where absent)."""
    if "meta" not in table.column_names:
        return [None] * table.num_rows
    values = []
    for text in table.column("meta").to_pylist():
        try:
            values.append(json.loads(text).get(key) if text else None)
        except (ValueError, AttributeError):
            values.append(None)
    return values


def value_columns(name: str) -> list[str]:
    """The records columns ``column_values`` reads for ``name``."""
    return ["path", "shard"] if name == "folder" else [name, "meta"]


def row_values(table: pa.Table, name: str) -> list[Any]:
    """``column_values`` of one batch, without the check that the name exists somewhere."""
    if name == "folder":
        return [shard if shard else os.path.dirname(path)
                for path, shard in zip(table.column("path").to_pylist(), table.column("shard").to_pylist(),
                                       strict=True)]
    if name in table.column_names:
        return table.column(name).to_pylist()
    return meta_values(table, name.removeprefix("meta."))


def column_values(table: pa.Table, name: str) -> list[Any]:
    """A records column, ``folder`` (parent folder or shard), or a key of ``meta`` (``meta.label`` or ``label``)."""
    values = row_values(table, name)
    if name != "folder" and name not in table.column_names and all(v is None for v in values):
        raise AuditError(f"no column or meta key {name!r} in these records")
    return values


def parse_labels(values: list[Any]) -> np.ndarray:
    """True = generated; accepts generated/fake/ai/1/true and real/0/false; anything else is unknown (-1)."""
    positive = {"generated", "fake", "ai", "synthetic", "1", "true", "yes"}
    negative = {"real", "0", "false", "no", "authentic", "camera"}
    out = np.full(len(values), -1, dtype=np.int8)
    for i, value in enumerate(values):
        text = str(value).strip().lower() if value is not None else ""
        out[i] = 1 if text in positive else 0 if text in negative else -1
    return out


def detector_scores(table: pa.Table) -> np.ndarray:
    """``detector.ai_score`` per row, NaN where there is none."""
    if SCORE not in table.column_names:
        return np.full(table.num_rows, np.nan)
    return np.array(table.column(SCORE).to_pylist(), dtype=np.float64)


def provenance_verdicts(table: pa.Table) -> list[str | None]:
    return table.column(PROVENANCE).to_pylist() if PROVENANCE in table.column_names else [None] * table.num_rows


def proven_as(provenance: list[str | None], verdict: str) -> np.ndarray:
    """Per row, whether provenance gives ``verdict`` ("yes": proven generated, "no": proven real); bool with zero
    rows too."""
    return np.array([p == verdict for p in provenance], dtype=bool)


def stored_threshold(batch: pa.Table) -> float | None:
    """The first threshold the detector stored in this batch of records, if any."""
    if THRESHOLD not in batch.column_names:
        return None
    found = batch.column(THRESHOLD).drop_null()
    return float(found[0].as_py()) if len(found) else None


def model_threshold(records: pa.Table | Records, override: float | None = None) -> float:
    """The threshold the detector used (stored in the records), unless the user gives one; else 0.5."""
    if override is not None:
        return override
    source = Records.of(records)
    if THRESHOLD in source.columns:
        for batch in source.batches([THRESHOLD]):
            if (stored := stored_threshold(batch)) is not None:
                return stored
    return DEFAULT_THRESHOLD


@dataclass
class ShareTally:
    """What one group's share needs, added up batch by batch: counts, never rows."""

    rows: int = 0
    proven: int = 0
    proven_real: int = 0
    scored: int = 0
    flagged: int = 0  # scored at or above the threshold
    unknown: int = 0  # scored, proven neither way: the rows the estimate corrects
    unknown_flagged: int = 0
    labelled: int = 0
    labelled_generated: int = 0
    not_judged: Counter[str] = field(default_factory=Counter)

    def add(self, scores: np.ndarray, proven: np.ndarray, proven_real: np.ndarray, unjudged: np.ndarray,
            threshold: float, truth: np.ndarray | None) -> None:
        scored = ~np.isnan(scores)
        flagged = scored & (np.nan_to_num(scores, nan=-np.inf) >= threshold)
        unknown = scored & ~proven & ~proven_real
        self.rows += len(scores)
        self.proven += int(proven.sum())
        self.proven_real += int(proven_real.sum())
        self.scored += int(scored.sum())
        self.flagged += int(flagged.sum())
        self.unknown += int(unknown.sum())
        self.unknown_flagged += int((unknown & flagged).sum())
        self.not_judged.update(r for r in unjudged if r is not None)
        if truth is not None:
            self.labelled += int((truth >= 0).sum())
            self.labelled_generated += int((truth == 1).sum())

    def share(self, calibration: Calibration | None, threshold: float, seed: int, labelled: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"rows": self.rows, "proven_generated": self.proven, "proven_real": self.proven_real,
                               "lower_bound": round(float(self.proven) / max(self.rows, 1), 5),
                               # the plain count the detector gives, apart from proof: shown where no interval is
                               "scored": self.scored, "detector_generated": self.flagged,
                               "not_judged": dict(self.not_judged.most_common())}
        if labelled and self.labelled:
            out["labelled_share"] = round(float(self.labelled_generated / self.labelled), 5)
        if calibration is not None and self.unknown:
            # A valid camera-capture manifest counts as real, outside the estimate (proven real rows are not
            # usable); provenance-proven generated rows are hard evidence inside it.
            estimate = estimate_share_counts(self.proven, self.unknown, self.unknown_flagged, calibration, threshold,
                                             seed=seed)
            # Assessed: scored or proven either way. Rows proven real join the denominator as real;
            # rows with neither a score nor proof (undecodable) are left out and counted apart.
            assessed = estimate.rows + self.proven_real
            scale = estimate.rows / max(assessed, 1)
            out |= {"estimate": round(estimate.share * scale, 5), "low": round(estimate.low * scale, 5),
                    "high": round(estimate.high * scale, 5), "naive_count": round(estimate.naive * scale, 5),
                    "assessed_rows": assessed, "unassessed_rows": self.rows - assessed}
        return out


def run_audit(records: pa.Table | Records, *, calibration: Calibration | None, by: str | None = None,
              labels: str | None = None, embeddings: str | None = None, threshold: float | None = None,
              seed: int = 0, sample: int = AUDIT_SAMPLE) -> Audit:
    """The audit of ``records``, read a batch at a time: exact counts and share, and shortcuts, diversity and
    the report's rows from uniform samples of at most ``sample`` rows (each side, for diversity)."""
    records = Records.of(records)
    notes: list[str] = []
    threshold = model_threshold(records, threshold)
    column = embeddings or (DEFAULT_EMBEDDINGS if DEFAULT_EMBEDDINGS in records.columns else None)
    vectors = Embeddings.open(column, records) if column else None
    wanted = ["error", SCORE, DETECTOR_ERROR, PROVENANCE, *(value_columns(labels) if labels else []),
              *(value_columns(by) if by else []), *(vectors.columns if vectors else [])]
    total, groups = ShareTally(), {}
    named = {name: False for name in (labels, by) if name}  # whether the column or meta key holds a value
    known_rows = known_generated = decoded_rows = 0
    shortcut_sample, report_sample = Reservoir(sample, seed), Reservoir(sample, seed + 2)
    real_sample, generated_sample = Reservoir(sample, seed), Reservoir(sample, seed + 1)
    real_with_vectors = generated_with_vectors = 0
    start = 0
    for batch in records.batches(wanted):
        rows = np.arange(start, start + batch.num_rows)
        start += batch.num_rows
        decoded = pc.is_null(batch.column("error")).to_numpy(zero_copy_only=False).astype(bool)
        scores = detector_scores(batch)
        provenance = provenance_verdicts(batch)
        proven, proven_real = proven_as(provenance, "yes"), proven_as(provenance, "no")
        unjudged = not_judged_reasons(batch, scores, provenance)
        raw = {name: row_values(batch, name) for name in named}
        for name, values in raw.items():
            named[name] = named[name] or name == "folder" or name in batch.column_names or any(
                v is not None for v in values)
        truth = parse_labels(raw[labels]) if labels else None
        total.add(scores, proven, proven_real, unjudged, threshold, truth)
        if by:
            names = np.array([str(v) if v is not None else NO_GROUP for v in raw[by]], dtype=object)
            for name in dict.fromkeys(names):
                chosen = names == name
                groups.setdefault(name, ShareTally()).add(scores[chosen], proven[chosen], proven_real[chosen],
                                                          unjudged[chosen], threshold,
                                                          None if truth is None else truth[chosen])
        predicted = np.where(proven, 1, np.where(np.isnan(scores), -1, (scores >= threshold).astype(np.int8)))
        predicted = np.where(proven_real, 0, predicted)
        classes = truth if truth is not None else predicted
        known = (classes >= 0) & decoded
        decoded_rows += int(decoded.sum())
        known_rows += int(known.sum())
        known_generated += int((classes[known] == 1).sum())
        shortcut_sample.add(rows[known], classes[known])
        report_sample.add(rows)
        if vectors is not None:
            has = vectors.has(batch) & known
            real_sample.add(rows[has & (classes == 0)])
            generated_sample.add(rows[has & (classes == 1)])
            real_with_vectors += int((has & (classes == 0)).sum())
            generated_with_vectors += int((has & (classes == 1)).sum())
    for name, found in named.items():
        if not found:
            raise AuditError(f"no column or meta key {name!r} in these records")
    if total.scored == 0:
        notes.append("no detector scores in these records: the share is a lower bound from provenance alone "
                     "(scan again with --signals …,detector for an estimate)")
    if PROVENANCE not in records.columns:
        notes.append("no provenance columns: nothing counts as proven generated")

    summary: dict[str, Any] = {"rows": total.rows, "decoded": decoded_rows, "threshold": threshold,
                               "proven_generated": total.proven, "proven_real": total.proven_real}
    summary["share"] = total.share(calibration, threshold, seed, labelled=labels is not None)
    if by:
        summary["by"] = by
        summary["groups"] = {name: groups[name].share(calibration if groups[name].rows >= MIN_GROUP_ROWS else None,
                                                      threshold, seed, labelled=labels is not None)
                             for name in sorted(groups)}
    label_source = f"labels from {labels!r}" if labels else "predicted"
    summary["labels_used"] = label_source
    summary["shortcut_min_per_class"] = MIN_PER_CLASS
    samples: dict[str, dict[str, int]] = {}
    if min(known_generated, known_rows - known_generated) >= MIN_PER_CLASS:
        rows_used, classes_used = shortcut_sample.rows()
        summary["shortcuts"] = [s.as_dict() for s in find_shortcuts(records.take(rows_used, FACT_COLUMNS),
                                                                    classes_used == 1)]
        if shortcut_sample.sampled:
            samples["shortcuts"] = {"rows": len(rows_used), "of": shortcut_sample.seen}
            notes.append(f"shortcut AUCs measured on a uniform sample of {len(rows_used)} of {shortcut_sample.seen} "
                         "images")
    else:
        notes.append(f"shortcuts need at least {MIN_PER_CLASS} generated and {MIN_PER_CLASS} real images "
                     f"({label_source}: {known_generated} and {known_rows - known_generated} here)")
    outside: tuple[np.ndarray, np.ndarray] = (np.zeros(0, np.int64), np.zeros(0, bool))
    if vectors is None:
        notes.append("no embeddings (descriptor signal): diversity not measured")
    else:
        real, generated = real_sample.rows()[0], generated_sample.rows()[0]
        if len(real) <= 5 or len(generated) <= 5:
            notes.append("diversity needs more than 5 real and 5 generated images with embeddings")
            summary["diversity"] = None
        else:
            result = prdc(vectors.take(real, records), vectors.take(generated, records))
            outside = (generated, result.outside_real)
            summary["diversity"] = {"embeddings": column, **result.as_dict()}
            if real_sample.sampled or generated_sample.sampled:
                samples["diversity"] = {"real": len(real), "real_of": real_with_vectors,
                                        "generated": len(generated), "generated_of": generated_with_vectors}
                notes.append(f"diversity measured on a uniform sample of {len(real)} real and {len(generated)} "
                             "generated images")
    report_rows = report_sample.rows()[0]
    if report_sample.sampled:
        samples["report"] = {"rows": len(report_rows), "of": report_sample.seen}
        notes.append(f"the report shows a uniform sample of {len(report_rows)} of {report_sample.seen} images")
    if samples:
        summary["samples"] = {"size": sample, **samples}
    summary["notes"] = notes
    return Audit(summary=summary, records=records, threshold=threshold, outside=outside, report_rows=report_rows,
                 notes=notes)


def not_judged_reasons(table: pa.Table, scores: np.ndarray, provenance: list[str | None]) -> np.ndarray:
    """Per row, why nothing judged it (no score, no proof either way): the row's error code, else the
    detector's error code, else ``no detector``; None for judged rows."""
    out = np.full(table.num_rows, None, dtype=object)
    judged = np.array([v in ("yes", "no") for v in provenance], dtype=bool)
    rows = np.flatnonzero(np.isnan(scores) & ~judged)
    if not len(rows):
        return out
    errors = table.column("error").take(rows).to_pylist()
    detector = (table.column(DETECTOR_ERROR).take(rows).to_pylist() if DETECTOR_ERROR in table.column_names
                else [None] * len(rows))
    for i, error, failed in zip(rows, errors, detector, strict=True):
        out[i] = error or (failed.split(":", 1)[0] if failed else "no detector")
    return out


class Embeddings:
    """Where diversity's vectors come from: a column of the records, or a file of features.

    A ``.npz`` file holds ``path`` (one per vector) and ``vectors``, matched to the records by path; a
    ``.npy`` file holds one row per record in the order of the records sorted by path."""

    def __init__(self, column: str | None = None, named: dict[str, np.ndarray] | None = None,
                 ranked: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        self.column, self.named, self.ranked = column, named, ranked

    @property
    def columns(self) -> list[str]:
        """What the first pass reads to know which rows have a vector."""
        return [self.column] if self.column else ["path"]

    @classmethod
    def open(cls, source: str, records: Records) -> Embeddings:
        if source in records.columns:
            return cls(column=source)
        suffix = Path(source).suffix.lower()
        if suffix not in (".npy", ".npz"):
            raise AuditError(f"no embedding column {source!r} in these records (or give a .npy/.npz file)")
        try:
            if suffix == ".npy":
                arrays = {"vectors": np.load(source, allow_pickle=False)}
            else:
                with np.load(source, allow_pickle=False) as loaded:
                    arrays = {k: loaded[k] for k in ("path", "vectors")}
        except (OSError, ValueError, KeyError) as exc:
            raise AuditError(f"cannot read embeddings {source}: {exc}") from None
        vectors = np.asarray(arrays["vectors"], dtype=np.float32)
        if vectors.ndim != 2:
            raise AuditError(f"{source}: expected a 2-d array of vectors, got shape {vectors.shape}")
        if suffix == ".npy":
            paths = records.read(["path"]).column("path")
            if len(vectors) != len(paths):
                raise AuditError(f"{source}: {len(vectors)} vectors for {len(paths)} records (one row per record, "
                                 "in the order of their sorted paths)")
            order = pc.sort_indices(paths).to_numpy()
            rank = np.empty(len(order), np.int64)
            rank[order] = np.arange(len(order))
            return cls(ranked=(vectors, rank))
        if len(arrays["path"]) != len(vectors):
            raise AuditError(f"{source}: {len(arrays['path'])} paths for {len(vectors)} vectors")
        return cls(named=dict(zip([str(p) for p in arrays["path"]], vectors, strict=True)))

    def has(self, batch: pa.Table) -> np.ndarray:
        """Per row of a batch, whether it has a vector."""
        if self.column:
            return pc.is_valid(batch.column(self.column)).to_numpy(zero_copy_only=False).astype(bool)
        if self.ranked is not None:
            return np.ones(batch.num_rows, bool)
        return np.array([path in self.named for path in batch.column("path").to_pylist()], dtype=bool)

    def take(self, rows: np.ndarray, records: Records) -> np.ndarray:
        """The vectors of ``rows`` (ascending row numbers), one float32 row each."""
        if self.ranked is not None:
            vectors, rank = self.ranked
            return vectors[rank[rows]]
        if self.column:
            return _vector_rows(records.take(rows, [self.column]).column(self.column).combine_chunks())
        return np.stack([self.named[p] for p in records.take(rows, ["path"]).column("path").to_pylist()])


def _vector_rows(values: pa.Array) -> np.ndarray:
    """A list column of equal-length vectors as one float32 array, without a Python float per value."""
    lengths = pc.list_value_length(values).to_numpy(zero_copy_only=False)
    if values.null_count or len(set(lengths.tolist())) != 1:
        return np.stack(values.to_pylist()).astype(np.float32)  # a ragged or missing vector fails here, named
    return values.flatten().to_numpy(zero_copy_only=False).astype(np.float32).reshape(len(values), -1)


def _evidence(provenance: str | None, score: float, threshold: float) -> str:
    if provenance == "yes":
        return "provenance: generated"
    if provenance == "no":
        return "provenance: real"
    if np.isnan(score):
        return "none"
    return "detector: generated" if score >= threshold else "detector: real"


def impact_summary(records: str | os.PathLike | pa.Table | Records) -> dict[str, Any] | None:
    """The audit a scan reports by itself, when its records hold detector or provenance evidence: per folder
    (or shard) too when the inputs span more than one."""
    records = Records.of(records)
    if SCORE not in records.columns and PROVENANCE not in records.columns:
        return None
    by = "folder" if _spans_folders(records) else None
    return run_audit(records, calibration=default_calibration(), by=by).summary


def _spans_folders(records: Records) -> bool:
    """Whether the records come from more than one folder or shard (read until a second one shows)."""
    seen: set[str] = set()
    for batch in records.batches(value_columns("folder")):
        seen.update(row_values(batch, "folder"))
        if len(seen) > 1:
            return True
    return False


def default_calibration() -> Calibration | None:
    """The held-out scores shipped with the default detector, if the detector is installed."""
    from genscope.models.detector import calibration

    return calibration()
