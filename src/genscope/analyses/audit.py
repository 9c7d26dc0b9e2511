"""The dataset-impact audit: generated share (overall and per group), diversity, shortcuts.

Reads only records. Uses whatever evidence they hold and says what is missing: provenance alone
gives a lower bound, the detector an estimate corrected for its error rates, labels (when the
collection has them) the true answer to compare with.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from genscope.analyses.diversity import prdc
from genscope.analyses.quantify import Calibration, estimate_share
from genscope.analyses.shortcuts import MIN_PER_CLASS, enough_per_class, find_shortcuts
from genscope.errors import InputError
from genscope.signals import column

SCORE, THRESHOLD, DETECTOR_ERROR = (column("detector", f) for f in ("ai_score", "threshold", "error"))
PROVENANCE = column("provenance", "ai")
DEFAULT_EMBEDDINGS = column("descriptor", "vector")
MIN_GROUP_ROWS = 20  # smaller groups get counts only: an interval on 5 images says little
# Shortcut AUCs and diversity run on a uniform sample (seeded) above these sizes: an AUC or a P/R/D/C
# share from 100,000 rows has a standard error of at most √(0.25 / 100,000) ≈ 0.0016 (docs/scale.md §6),
# and P/R/D/C costs real × generated. Below them every row is used, as before.
SHORTCUT_SAMPLE = 200_000
DIVERSITY_SAMPLE = 100_000  # per side: real and generated


class AuditError(InputError):
    """Records or options an audit cannot use (no score column, an unknown --by column)."""


@dataclass
class Audit:
    summary: dict[str, Any]
    per_image: pa.Table
    notes: list[str] = field(default_factory=list)


def meta_values(table: pa.Table, key: str) -> list[Any]:
    """One value per row from the JSON ``meta`` column (None where absent)."""
    values = []
    for text in table.column("meta").to_pylist():
        try:
            values.append(json.loads(text).get(key) if text else None)
        except (ValueError, AttributeError):
            values.append(None)
    return values


def column_values(table: pa.Table, name: str) -> list[Any]:
    """A records column, ``folder`` (parent folder or shard), or a key of ``meta`` (``meta.label`` or ``label``)."""
    if name == "folder":
        return [shard if shard else os.path.dirname(path)
                for path, shard in zip(table.column("path").to_pylist(), table.column("shard").to_pylist(),
                                       strict=True)]
    if name in table.column_names:
        return table.column(name).to_pylist()
    key = name.removeprefix("meta.")
    values = meta_values(table, key)
    if all(v is None for v in values):
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


def model_threshold(table: pa.Table, override: float | None = None) -> float:
    """The threshold the detector used (stored in the records), unless the user gives one; else 0.5."""
    if override is not None:
        return override
    if THRESHOLD in table.column_names:
        found = [t for t in table.column(THRESHOLD).to_pylist() if t is not None]
        if found:
            return float(found[0])
    return 0.5


def run_audit(table: pa.Table, *, calibration: Calibration | None, by: str | None = None,
              labels: str | None = None, embeddings: str | None = None, threshold: float | None = None,
              seed: int = 0) -> Audit:
    notes: list[str] = []
    rows = table.num_rows
    decoded = np.array([e is None for e in table.column("error").to_pylist()], dtype=bool)
    scores = detector_scores(table)
    provenance = provenance_verdicts(table)
    proven = np.array([p == "yes" for p in provenance], dtype=bool)  # bool even with zero rows
    proven_real = np.array([p == "no" for p in provenance], dtype=bool)
    threshold = model_threshold(table, threshold)
    if np.isnan(scores).all():
        notes.append("no detector scores in these records: the share is a lower bound from provenance alone "
                     "(scan again with --signals …,detector for an estimate)")
    if PROVENANCE not in table.column_names:
        notes.append("no provenance columns: nothing counts as proven generated")
    truth = parse_labels(column_values(table, labels)) if labels else None
    unjudged = not_judged_reasons(table, scores, provenance)

    summary: dict[str, Any] = {"rows": rows, "decoded": int(decoded.sum()), "threshold": threshold,
                               "proven_generated": int(proven.sum()), "proven_real": int(proven_real.sum())}
    summary["share"] = _share(scores, proven, proven_real, unjudged, calibration, threshold, seed, truth)
    if by:
        groups = np.array([str(v) if v is not None else "(none)" for v in column_values(table, by)], dtype=object)
        summary["by"] = by
        summary["groups"] = {name: _share(scores[groups == name], proven[groups == name], proven_real[groups == name],
                                          unjudged[groups == name],
                                          calibration if (groups == name).sum() >= MIN_GROUP_ROWS else None,
                                          threshold, seed, None if truth is None else truth[groups == name])
                             for name in sorted(set(groups))}

    predicted = np.where(proven, 1, np.where(np.isnan(scores), -1, (scores >= threshold).astype(np.int8)))
    predicted = np.where(proven_real, 0, predicted)
    class_labels, label_source = (truth, f"labels from {labels!r}") if truth is not None else (predicted, "predicted")
    summary["labels_used"] = label_source
    known = (class_labels >= 0) & decoded
    summary["shortcut_min_per_class"] = MIN_PER_CLASS
    if enough_per_class(class_labels[known] == 1):
        rows_used = sample_rows(np.flatnonzero(known), SHORTCUT_SAMPLE, seed)
        summary["shortcuts"] = [s.as_dict() for s in find_shortcuts(table.take(rows_used),
                                                                     class_labels[rows_used] == 1)]
    else:
        generated = int((class_labels[known] == 1).sum())
        notes.append(f"shortcuts need at least {MIN_PER_CLASS} generated and {MIN_PER_CLASS} real images "
                     f"({label_source}: {generated} and {int(known.sum()) - generated} here)")
    outside = np.full(rows, None, dtype=object)
    column = embeddings or (DEFAULT_EMBEDDINGS if DEFAULT_EMBEDDINGS in table.column_names else None)
    if column is None:
        notes.append("no embeddings (descriptor signal): diversity not measured")
    else:
        summary["diversity"], outside = _diversity(table, column, class_labels, known, notes, seed)
    summary["notes"] = notes
    per_image = pa.table({"path": table.column("path"), "ai_score": pa.array(scores, pa.float32()).fill_null(None),
                          "evidence": [_evidence(p, s, threshold) for p, s in zip(provenance, scores, strict=True)],
                          "outside_real_manifold": pa.array(list(outside), pa.bool_())})
    return Audit(summary=summary, per_image=per_image, notes=notes)


def not_judged_reasons(table: pa.Table, scores: np.ndarray, provenance: list[str | None]) -> np.ndarray:
    """Per row, why nothing judged it (no score, no proof either way): the row's error code, else the
    detector's error code, else ``no detector``; None for judged rows."""
    errors = table.column("error").to_pylist()
    detector = (table.column(DETECTOR_ERROR).to_pylist() if DETECTOR_ERROR in table.column_names
                else [None] * len(errors))
    out = np.full(len(errors), None, dtype=object)
    for i, (error, failed, verdict) in enumerate(zip(errors, detector, provenance, strict=True)):
        if np.isnan(scores[i]) and verdict not in ("yes", "no"):
            out[i] = error or (failed.split(":", 1)[0] if failed else "no detector")
    return out


def _share(scores: np.ndarray, proven: np.ndarray, proven_real: np.ndarray, unjudged: np.ndarray,
           calibration: Calibration | None, threshold: float, seed: int, truth: np.ndarray | None) -> dict[str, Any]:
    rows = len(scores)
    usable = ~proven_real  # a valid camera-capture manifest: counted as real, outside the estimate
    scored = ~np.isnan(scores)
    out: dict[str, Any] = {"rows": rows, "proven_generated": int(proven.sum()), "proven_real": int(proven_real.sum()),
                           "lower_bound": round(float(proven.sum()) / max(rows, 1), 5),
                           # the plain count the detector gives, apart from proof: shown where no interval is
                           "scored": int(scored.sum()),
                           "detector_generated": int((scores[scored] >= threshold).sum()),
                           "not_judged": dict(Counter(r for r in unjudged if r is not None).most_common())}
    if truth is not None and (truth >= 0).any():
        out["labelled_share"] = round(float((truth[truth >= 0] == 1).mean()), 5)
    if calibration is not None and not np.isnan(scores[usable & ~proven]).all():
        estimate = estimate_share(scores[usable], calibration, threshold, known_generated=proven[usable], seed=seed)
        # Assessed: scored or proven either way. Rows proven real join the denominator as real;
        # rows with neither a score nor proof (undecodable) are left out and counted apart.
        assessed = estimate.rows + int(proven_real.sum())
        scale = estimate.rows / max(assessed, 1)
        out |= {"estimate": round(estimate.share * scale, 5), "low": round(estimate.low * scale, 5),
                "high": round(estimate.high * scale, 5), "naive_count": round(estimate.naive * scale, 5),
                "assessed_rows": assessed, "unassessed_rows": rows - assessed}
    return out


def embedding_rows(table: pa.Table, source: str) -> list[Any]:
    """One vector (or None) per record from ``source``: a column of the records, or a file of features.

    A ``.npz`` file holds ``path`` (one per vector) and ``vectors``, matched to the records by path; a
    ``.npy`` file holds one row per record in the order of the records sorted by path."""
    if source in table.column_names:
        return table.column(source).to_pylist()
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
    paths = table.column("path").to_pylist()
    if suffix == ".npy":
        if len(vectors) != len(paths):
            raise AuditError(f"{source}: {len(vectors)} vectors for {len(paths)} records (one row per record, "
                             "in the order of their sorted paths)")
        row_of = {path: i for i, path in enumerate(sorted(paths))}
        return [vectors[row_of[path]] for path in paths]
    if len(arrays["path"]) != len(vectors):
        raise AuditError(f"{source}: {len(arrays['path'])} paths for {len(vectors)} vectors")
    named = dict(zip([str(p) for p in arrays["path"]], vectors, strict=True))
    return [named.get(path) for path in paths]


def sample_rows(rows: np.ndarray, size: int, seed: int) -> np.ndarray:
    """``rows`` if there are at most ``size`` of them, else a uniform sample of ``size`` (in row order)."""
    if len(rows) <= size:
        return rows
    return np.sort(np.random.default_rng(seed).choice(rows, size, replace=False))


def _diversity(table: pa.Table, column: str, labels: np.ndarray, known: np.ndarray,
               notes: list[str], seed: int) -> tuple[dict[str, Any] | None, np.ndarray]:
    outside = np.full(table.num_rows, None, dtype=object)
    vectors = embedding_rows(table, column)
    has = np.array([v is not None for v in vectors]) & known
    real = sample_rows(np.flatnonzero(has & (labels == 0)), DIVERSITY_SAMPLE, seed)
    generated = sample_rows(np.flatnonzero(has & (labels == 1)), DIVERSITY_SAMPLE, seed + 1)
    if len(real) <= 5 or len(generated) <= 5:
        notes.append("diversity needs more than 5 real and 5 generated images with embeddings")
        return None, outside
    result = prdc(np.stack([vectors[i] for i in real]).astype(np.float32),
                  np.stack([vectors[i] for i in generated]).astype(np.float32))
    outside[generated] = result.outside_real  # rows left out of a sample stay unknown (None)
    found = {"embeddings": column, **result.as_dict()}
    if int((has & (labels == 0)).sum()) > len(real) or int((has & (labels == 1)).sum()) > len(generated):
        notes.append(f"diversity measured on a uniform sample of {len(real)} real and {len(generated)} generated "
                     "images")
    return found, outside


def _evidence(provenance: str | None, score: float, threshold: float) -> str:
    if provenance == "yes":
        return "provenance: generated"
    if provenance == "no":
        return "provenance: real"
    if np.isnan(score):
        return "none"
    return "detector: generated" if score >= threshold else "detector: real"


def impact_summary(table: pa.Table) -> dict[str, Any] | None:
    """The audit a scan reports by itself, when its records hold detector or provenance evidence: per folder
    (or shard) too when the inputs span more than one."""
    if SCORE not in table.column_names and PROVENANCE not in table.column_names:
        return None
    by = "folder" if len(set(column_values(table, "folder"))) > 1 else None
    return run_audit(table, calibration=default_calibration(), by=by).summary


def default_calibration() -> Calibration | None:
    """The held-out scores shipped with the default detector, if the detector is installed."""
    from genscope.models.detector import calibration

    return calibration()
