"""How much of a collection is generated: quantification, not counting.

Counting images above a threshold is biased whenever the detector errs: with a false-positive
rate of 5 %, a collection with no generated image at all "contains" 5 %. Adjusted classify-and-count
(ACC; Forman 2008) corrects the raw rate ``q`` with the detector's rates measured on labelled data
it was not trained on: ``share = (q − FPR) / (TPR − FPR)``. The 95 % interval is a bootstrap over
both sources of error: the calibration data (TPR, FPR) and the collection itself (q), each
drawn from its Jeffreys posterior. Hard
evidence (provenance says "generated") is counted as generated whatever the score.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Calibration:
    """Detector scores on labelled images it was not trained on (True = generated)."""

    scores: np.ndarray
    labels: np.ndarray

    def __post_init__(self) -> None:
        if len(self.scores) != len(self.labels) or self.labels.all() or not self.labels.any():
            raise ValueError("calibration needs scores of both generated and real images")

    def rates(self, threshold: float) -> tuple[float, float]:
        """(TPR, FPR) of ``score >= threshold``."""
        flagged = self.scores >= threshold
        return float(flagged[self.labels].mean()), float(flagged[~self.labels].mean())

    @property
    def positives(self) -> int:
        return int(self.labels.sum())

    @property
    def negatives(self) -> int:
        return int((~self.labels).sum())

    def save(self, path: str | Path) -> None:
        np.savez_compressed(path, scores=self.scores.astype(np.float32), labels=self.labels)

    @classmethod
    def load(cls, path: str | Path) -> Calibration:
        with np.load(path) as data:
            return cls(scores=data["scores"].astype(np.float64), labels=data["labels"].astype(bool))


@dataclass(frozen=True)
class ShareEstimate:
    share: float  # estimated generated share of all rows
    low: float  # 95 % interval
    high: float
    naive: float  # (hard evidence + rows above the threshold) / rows: what counting says
    rows: int
    hard_evidence: int  # rows counted as generated from provenance alone
    threshold: float

    def as_dict(self) -> dict[str, float | int | str]:
        return {k: (round(v, 5) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def estimate_share(scores: np.ndarray, calibration: Calibration, threshold: float, *,
                   known_generated: np.ndarray | None = None, draws: int = 2000, seed: int = 0) -> ShareEstimate:
    """Generated share of the rows; ``known_generated`` marks rows proven generated (provenance).

    Rows without a score (NaN) and without hard evidence are left out of the estimate.
    """
    scores = np.asarray(scores, dtype=np.float64)
    known = np.zeros(len(scores), bool) if known_generated is None else np.asarray(known_generated, bool)
    unknown = scores[~known & ~np.isnan(scores)]
    return estimate_share_counts(int(known.sum()), len(unknown), int((unknown >= threshold).sum()), calibration,
                                 threshold, draws=draws, seed=seed)


def estimate_share_counts(hard: int, unknown: int, flagged: int, calibration: Calibration, threshold: float, *,
                          draws: int = 2000, seed: int = 0) -> ShareEstimate:
    """``estimate_share`` from counts, as a collection read batch by batch gives them: ``hard`` rows proven
    generated, ``unknown`` scored rows without proof, ``flagged`` of them at or above ``threshold``."""
    rows = hard + unknown
    if rows == 0:
        return ShareEstimate(float("nan"), float("nan"), float("nan"), float("nan"), 0, 0, threshold)
    point, boot = adjusted_rate(flagged, unknown, calibration, threshold, draws, np.random.default_rng(seed))
    share = (hard + point * unknown) / rows
    shares = (hard + boot * unknown) / rows
    naive = (hard + float(flagged)) / rows
    low, high = np.percentile(shares, [2.5, 97.5])
    return ShareEstimate(float(share), float(low), float(high), naive, rows, hard, threshold)


def adjusted_share(scores: np.ndarray, calibration: Calibration, threshold: float, draws: int,
                   rng: np.random.Generator) -> tuple[float, np.ndarray]:
    """ACC share of ``scores`` and ``draws`` plausible values of it (calibration and collection error)."""
    return adjusted_rate(int((scores >= threshold).sum()), len(scores), calibration, threshold, draws, rng)


def adjusted_rate(flagged: int, rows: int, calibration: Calibration, threshold: float, draws: int,
                  rng: np.random.Generator) -> tuple[float, np.ndarray]:
    """``adjusted_share`` of ``rows`` scores of which ``flagged`` are at or above the threshold."""
    tpr, fpr = calibration.rates(threshold)
    q = flagged / rows if rows else 0.0
    point = adjust(q, tpr, fpr)
    tpr_b = jeffreys(rng, tpr, calibration.positives, draws)
    fpr_b = jeffreys(rng, fpr, calibration.negatives, draws)
    q_b = jeffreys(rng, q, rows, draws)
    return point, adjust(q_b, tpr_b, fpr_b)


def jeffreys(rng: np.random.Generator, rate: float, n: int, draws: int) -> np.ndarray:
    """Plausible values of a rate seen as ``rate`` in ``n`` trials (Jeffreys posterior).

    Unlike resampling, it stays honest at the edges: 0 positives in 30 images does not mean
    the rate is exactly 0.
    """
    hits = rate * n
    return rng.beta(hits + 0.5, n - hits + 0.5, draws)


def adjust(q: float | np.ndarray, tpr: float | np.ndarray, fpr: float | np.ndarray) -> float | np.ndarray:
    """ACC: the share that explains the observed positive rate ``q``, clipped to [0, 1]."""
    spread = np.maximum(np.asarray(tpr) - np.asarray(fpr), 1e-6)  # a useless detector cannot be corrected
    result = np.clip((np.asarray(q) - np.asarray(fpr)) / spread, 0.0, 1.0)
    return float(result) if np.ndim(result) == 0 else result
