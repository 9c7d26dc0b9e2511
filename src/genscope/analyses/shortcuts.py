"""Which cheap facts separate generated from real images in this collection.

A detector trained on scraped data learns whatever separates the classes most cheaply: the
container, the size, the JPEG quality. Each fact gets its own AUC here. Numeric facts are scored
as they are (an AUC below 0.5 is reported flipped, with the direction); categorical ones through
the generated rate of their category, learnt on one half and scored on the other (cross-fitted),
so a fact with a thousand rare values cannot look predictive by memorising them. A fact is scored
only where both classes have ``MIN_PER_CLASS`` images, and each AUC carries a 95 % interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from genscope.metrics import auc
from genscope.signals import column

# The records columns each fact comes from, named through the signals' declarations.
NUMERIC_FACTS = ((column("container", "jpeg_quality"), "JPEG quality"),
                 (column("container", "bits_per_pixel"), "bits per pixel"),
                 (column("container", "text_chunks"), "embedded text chunks"),
                 (column("exif", "tags"), "EXIF tag count"))
BOOLEAN_FACTS = ((column("exif", "present"), "EXIF present"), (column("container", "icc"), "ICC profile"),
                 (column("container", "xmp"), "XMP present"), (column("container", "progressive"), "progressive JPEG"))
CATEGORICAL_FACTS = (("format", "file format"), ("mode", "colour mode"),
                     (column("container", "jpeg_subsampling"), "chroma subsampling"))
# Every column the facts read (``width``/``height`` give the size facts), so a caller can read only these.
FACT_COLUMNS = ("width", "height", *(name for name, _ in NUMERIC_FACTS + BOOLEAN_FACTS + CATEGORICAL_FACTS))
MIN_PER_CLASS = 20  # below this an AUC swings by ±0.2 or more from one image to the next
Z95 = 1.959964


def auc_interval(value: float, positives: int, negatives: int) -> tuple[float, float]:
    """95 % interval of an AUC from its Hanley–McNeil (1982) standard error, clipped to [0, 1]."""
    q1, q2 = value / (2 - value), 2 * value * value / (1 + value)
    variance = (value * (1 - value) + (positives - 1) * (q1 - value * value)
                + (negatives - 1) * (q2 - value * value)) / (positives * negatives)
    half = Z95 * float(np.sqrt(max(variance, 0.0)))
    return max(0.0, value - half), min(1.0, value + half)


@dataclass(frozen=True)
class Shortcut:
    fact: str
    auc: float  # ≥ 0.5: how well this fact alone separates the classes
    direction: str  # "higher = generated", "lower = generated", or "by category"
    rows: int  # rows where the fact is known
    low: float  # 95 % interval of ``auc``
    high: float

    def as_dict(self) -> dict[str, str | float | int]:
        return {"fact": self.fact, "auc": round(self.auc, 4), "low": round(self.low, 4), "high": round(self.high, 4),
                "direction": self.direction, "rows": self.rows}


def enough_per_class(labels: np.ndarray) -> bool:
    labels = np.asarray(labels, dtype=bool)
    return min(int(labels.sum()), int((~labels).sum())) >= MIN_PER_CLASS


def _shortcut(fact: str, value: float, direction: str, labels: np.ndarray) -> Shortcut:
    """``value`` flipped to ≥ 0.5 (the interval of 1 − A is the mirror of A's), with its interval."""
    low, high = auc_interval(value, int(labels.sum()), int((~labels).sum()))
    if value < 0.5:
        value, low, high = 1.0 - value, 1.0 - high, 1.0 - low
    return Shortcut(fact, value, direction, len(labels), low, high)


def _column(table: pa.Table, name: str) -> np.ndarray | None:
    return table.column(name).to_numpy(zero_copy_only=False) if name in table.column_names else None


def _numeric_facts(table: pa.Table) -> dict[str, np.ndarray]:
    width = _column(table, "width")
    height = _column(table, "height")
    facts: dict[str, np.ndarray] = {}
    if width is not None and height is not None:
        w = np.asarray(width, dtype=np.float64)
        h = np.asarray(height, dtype=np.float64)
        facts["megapixels"] = w * h / 1e6
        facts["aspect ratio (long/short)"] = np.maximum(w, h) / np.maximum(np.minimum(w, h), 1)
        facts["square"] = (w == h).astype(np.float64)
        facts["both sides multiples of 64"] = ((w % 64 == 0) & (h % 64 == 0)).astype(np.float64)
        facts["width"] = w
        facts["height"] = h
    for name, label in NUMERIC_FACTS:
        values = _column(table, name)
        if values is not None:
            facts[label] = np.asarray(values, dtype=np.float64)
    for name, label in BOOLEAN_FACTS:
        if name in table.column_names:
            flags = table.column(name)
            facts[label] = np.where(pc.is_null(flags).to_numpy(zero_copy_only=False), np.nan,
                                    pc.fill_null(flags, False).to_numpy(zero_copy_only=False).astype(np.float64))
    return facts


def _categorical_facts(table: pa.Table) -> dict[str, np.ndarray]:
    facts = {}
    for name, label in CATEGORICAL_FACTS:
        if name in table.column_names:
            facts[label] = np.array([v if v is not None else "" for v in table.column(name).to_pylist()], dtype=object)
    if "width" in table.column_names:
        facts["exact size WxH"] = np.array([f"{w}x{h}" for w, h in zip(table.column("width").to_pylist(),
                                                                         table.column("height").to_pylist(),
                                                                         strict=True)], dtype=object)
    return facts


def _cross_fitted_rates(values: np.ndarray, labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """Each row scored by the generated rate of its category in the other half (prior for unseen ones)."""
    fold = np.random.default_rng(seed).integers(0, 2, len(values))
    scores = np.empty(len(values), dtype=np.float64)
    for part in (0, 1):
        train, test = fold != part, fold == part
        prior = labels[train].mean() if train.any() else 0.5
        rates: dict[object, float] = {}
        for category in np.unique(values[train]):
            chosen = labels[train][values[train] == category]
            rates[category] = (chosen.sum() + prior) / (len(chosen) + 1)  # shrunk towards the prior
        scores[test] = [rates.get(v, prior) for v in values[test]]
    return scores


def find_shortcuts(table: pa.Table, labels: np.ndarray) -> list[Shortcut]:
    """AUC of every cheap fact against ``labels`` (True = generated), strongest first; facts known for fewer
    than ``MIN_PER_CLASS`` images of either class are left out."""
    labels = np.asarray(labels, dtype=bool)
    found: list[Shortcut] = []
    for fact, values in _numeric_facts(table).items():
        known = ~np.isnan(values)
        if len(np.unique(values[known])) < 2 or not enough_per_class(labels[known]):
            continue  # a constant says nothing (and cannot be a shortcut)
        value = auc(labels[known], values[known])
        direction = "higher = generated" if value >= 0.5 else "lower = generated"
        found.append(_shortcut(fact, value, direction, labels[known]))
    for fact, values in _categorical_facts(table).items():
        known = values != ""  # e.g. chroma subsampling exists only for JPEGs
        if len(set(values[known])) < 2 or not enough_per_class(labels[known]):
            continue
        value = auc(labels[known], _cross_fitted_rates(values[known], labels[known]))
        found.append(_shortcut(fact, value, "by category", labels[known]))
    return sorted(found, key=lambda s: -s.auc)
