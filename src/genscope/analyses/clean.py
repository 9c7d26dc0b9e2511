"""Choose what to keep so that the kept set's estimated generated share stays under a target.

Lowering the cut removes more generated images (1 − TPR(t) of them stay) and more real ones
(FPR(t) of them go). With the collection's estimated generated count G (adjusted count, see
``quantify``) the kept set at cut t holds about G·(1 − TPR(t)) generated images among
``kept(t)``; the highest cut whose residual share is at or under the target keeps the most.
Intervals come from the same bootstrap as the share: calibration counts and the collection. The
point estimates take each rate's posterior mean, the centre of that same bootstrap: with no missed
generated image in the calibration the raw miss rate is 0, which would put the estimate below its
own interval.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from genscope.analyses.quantify import Calibration, adjusted_share, jeffreys


@dataclass(frozen=True)
class CleanPlan:
    cut: float  # keep rows scoring below this
    target: float
    kept: int
    dropped_proven: int  # dropped on provenance evidence alone
    dropped_by_score: int
    unassessed: int  # no score and no proof (undecodable): never kept
    residual_share: float  # estimated generated share of the kept set
    residual_low: float
    residual_high: float
    real_dropped: float  # estimated real images dropped by the cut
    real_dropped_low: float
    real_dropped_high: float
    reachable: bool  # False: even the strictest cut misses the target
    promised: bool  # the 95 % interval's upper bound, not only the estimate, is within the target

    def as_dict(self) -> dict[str, float | int | bool]:
        return {k: (round(v, 5) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def plan_clean(scores: np.ndarray, proven: np.ndarray, calibration: Calibration, threshold: float,
               target: float, *, draws: int = 2000, seed: int = 0) -> CleanPlan:
    scores = np.asarray(scores, dtype=np.float64)
    proven = np.asarray(proven, dtype=bool)
    assessed = ~proven & ~np.isnan(scores)
    pool = np.sort(scores[assessed])
    n = len(pool)
    rng = np.random.default_rng(seed)
    share, share_b = adjusted_share(pool, calibration, threshold, draws, rng)
    cuts = np.unique(np.concatenate([pool, [np.inf]]))[::-1]  # from "keep all" downwards
    positives = np.sort(calibration.scores[calibration.labels])
    negatives = np.sort(calibration.scores[~calibration.labels])
    # an empty keep-list meets any target and helps nobody: only cuts that keep something count, and when
    # none meets the target the one with the smallest residual is reported as not reachable
    chosen = (np.inf, n, 1.0, 1.0, share) if not n else None
    for cut in cuts:
        kept = int(np.searchsorted(pool, cut, side="left"))
        if not kept:
            continue
        tpr = 1.0 - np.searchsorted(positives, cut, side="left") / len(positives)
        fpr = 1.0 - np.searchsorted(negatives, cut, side="left") / len(negatives)
        residual = min(1.0, share * n * _posterior_mean(1 - tpr, len(positives)) / kept)  # never above the kept
        if chosen is None or residual < chosen[4]:
            chosen = (cut, kept, tpr, fpr, residual)
        if residual <= target:
            break
    cut, kept, tpr, fpr, residual = chosen
    tpr_b = jeffreys(rng, tpr, calibration.positives, draws)
    fpr_b = jeffreys(rng, fpr, calibration.negatives, draws)
    residual_b = np.minimum(1.0, share_b * n * (1 - tpr_b) / max(kept, 1))
    real_b = (1 - share_b) * n * fpr_b
    high = float(np.percentile(residual_b, 97.5))
    return CleanPlan(
        cut=float(cut), target=target, kept=kept, dropped_proven=int(proven.sum()), dropped_by_score=n - kept,
        unassessed=int((~proven & np.isnan(scores)).sum()),
        residual_share=float(residual), residual_low=float(np.percentile(residual_b, 2.5)), residual_high=high,
        real_dropped=float((1 - share) * n * _posterior_mean(fpr, len(negatives))),
        real_dropped_low=float(np.percentile(real_b, 2.5)), real_dropped_high=float(np.percentile(real_b, 97.5)),
        reachable=bool(residual <= target), promised=bool(high <= target))


def _posterior_mean(rate: float, n: int) -> float:
    """The mean of the Jeffreys posterior that ``jeffreys`` draws from: never exactly 0 or 1."""
    return (rate * n + 0.5) / (n + 1)
