"""Binary-classification metrics in NumPy (no scikit-learn at runtime)."""

from __future__ import annotations

import numpy as np


def auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC by the rank-sum formula, ties counted half; NaN when one class is missing."""
    y, score = np.asarray(y), np.asarray(score, dtype=np.float64)
    pos, neg = int(y.sum()), int(len(y) - y.sum())
    if not pos or not neg:
        return float("nan")
    order = np.argsort(score, kind="mergesort")
    ranks = np.empty(len(score))
    sorted_s = score[order]
    # average ranks over tied runs
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_s)) + 1]
    ends = np.r_[starts[1:], len(score)]
    for s, e in zip(starts, ends, strict=True):
        ranks[order[s:e]] = (s + e + 1) / 2.0
    return float((ranks[y == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


def average_precision(y: np.ndarray, score: np.ndarray) -> float:
    order = np.argsort(-np.asarray(score), kind="mergesort")
    y = np.asarray(y)[order]
    if not y.sum():
        return float("nan")
    precision = np.cumsum(y) / np.arange(1, len(y) + 1)
    return float((precision * y).sum() / y.sum())


def bootstrap_auc_ci(y: np.ndarray, score: np.ndarray, n: int = 1000, seed: int = 0,
                     groups: np.ndarray | None = None) -> tuple[float, float]:
    """95 % percentile interval; resamples whole groups when given (images of a group are not independent)."""
    rng = np.random.default_rng(seed)
    y, score = np.asarray(y), np.asarray(score)
    keys = np.asarray(groups) if groups is not None else np.arange(len(y))
    uniq, inverse = np.unique(keys, return_inverse=True)
    members = [np.flatnonzero(inverse == g) for g in range(len(uniq))]
    stats = []
    for _ in range(n):
        idx = np.concatenate([members[g] for g in rng.integers(0, len(uniq), len(uniq))])
        a = auc(y[idx], score[idx])
        if not np.isnan(a):
            stats.append(a)
    return float(np.percentile(stats, 2.5)), float(np.percentile(stats, 97.5))


def tpr_at_fpr(y: np.ndarray, score: np.ndarray, fpr: float) -> float:
    """Share of positives above the threshold that lets through at most ``fpr`` of the negatives."""
    y, score = np.asarray(y), np.asarray(score)
    neg = np.sort(score[y == 0])[::-1]
    if not len(neg) or not y.sum():
        return float("nan")
    k = int(np.floor(fpr * len(neg)))
    thr = neg[k] if k < len(neg) else -np.inf
    return float((score[y == 1] > thr).mean())


def expected_calibration_error(y: np.ndarray, prob: np.ndarray, bins: int = 10) -> float:
    y, prob = np.asarray(y), np.asarray(prob)
    idx = np.minimum((prob * bins).astype(int), bins - 1)
    return float(sum(abs(prob[idx == b].mean() - y[idx == b].mean()) * (idx == b).mean()
                     for b in range(bins) if (idx == b).any()))


def threshold_metrics(y: np.ndarray, prob: np.ndarray, threshold: float) -> dict[str, float]:
    y, pred = np.asarray(y).astype(bool), np.asarray(prob) >= threshold
    tp, fp = int((pred & y).sum()), int((pred & ~y).sum())
    fn, tn = int((~pred & y).sum()), int((~pred & ~y).sum())
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
    return {"accuracy": (tp + tn) / len(y), "precision": precision, "recall": recall, "f1": f1,
            "tp": tp, "fp": fp, "fn": fn, "tn": tn}


def roc_curve(y: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(FPR, TPR) at every distinct threshold, from (0, 0) to (1, 1); tied scores form one step."""
    y, score = np.asarray(y).astype(bool), np.asarray(score, dtype=np.float64)
    order = np.argsort(-score, kind="mergesort")
    y, score = y[order], score[order]
    last = np.r_[np.flatnonzero(np.diff(score)), len(score) - 1]  # last index of each tied run
    tp, fp = np.cumsum(y)[last], np.cumsum(~y)[last]
    return np.r_[0.0, fp / max(fp[-1], 1)], np.r_[0.0, tp / max(tp[-1], 1)]


def pr_curve(y: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(recall, precision) at every distinct threshold, starting at recall 0 with the first precision."""
    y, score = np.asarray(y).astype(bool), np.asarray(score, dtype=np.float64)
    order = np.argsort(-score, kind="mergesort")
    y, score = y[order], score[order]
    last = np.r_[np.flatnonzero(np.diff(score)), len(score) - 1]
    tp = np.cumsum(y)[last]
    precision = tp / (last + 1)
    return np.r_[0.0, tp / max(int(y.sum()), 1)], np.r_[precision[0], precision]


def reliability_bins(y: np.ndarray, prob: np.ndarray, bins: int = 10) -> list[tuple[float, float, int]]:
    """(mean predicted probability, observed share of positives, count) of each non-empty bin, the same
    bins as ``expected_calibration_error``."""
    y, prob = np.asarray(y), np.asarray(prob)
    idx = np.minimum((prob * bins).astype(int), bins - 1)
    return [(float(prob[idx == b].mean()), float(y[idx == b].mean()), int((idx == b).sum()))
            for b in range(bins) if (idx == b).any()]
