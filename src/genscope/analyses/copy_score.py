"""One score per (query, reference) candidate from all the copy evidence, comparable across queries.

``matches.parquet`` ranks by it and the copy benchmarks pool it over every query (micro-AP), so each term is
calibrated per query, as SSCD's evaluation normalises cosine: evidence that a query has for *every*
candidate alike (a query close to everything, a query whose grid layout or texture lends a dozen inliers to
several references) is discounted, and only what sets one reference apart counts.

    score = cosine − the query's NORM_RANK-th best cosine
            + PHASH_BONUS                                 when pHash is within PHASH_MATCH bits
            + LOCAL_BONUS × (e(inliers) − ½ e(the query's best other inliers))
            + VOTE_WEIGHT × max(0, ln(1 + votes) − ln(1 + the query's best other votes))
            + inliers / 1000                              (ties)

with ``e`` the inlier evidence: 0 up to ``INLIERS_NONE`` inliers, rising with log(inliers) to 1 at
``INLIERS_FULL``. Constants were chosen on the collage benchmark with seed 0 (see docs/replication.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

NORM_RANK = 5  # cosine is measured against the query's 5th-best cosine
PHASH_MATCH = 10  # 64-bit pHash within this many bits: a global copy (colour/grey/JPEG/resize) for certain
PHASH_BONUS, LOCAL_BONUS = 1.0, 2.0
INLIERS_NONE, INLIERS_FULL = 6, 48  # unrelated photo pairs reach about 6 inliers; copies usually dozens
OTHER_INLIERS = 0.5  # share of the query's best other inlier evidence subtracted
VOTE_WEIGHT = 0.5


def inlier_evidence(inliers: int | None) -> float:
    """0 at or below ``INLIERS_NONE`` (or unverified), 1 at ``INLIERS_FULL`` and above, log-linear between."""
    if not inliers or inliers <= INLIERS_NONE:
        return 0.0
    return min(1.0, math.log(inliers / INLIERS_NONE) / math.log(INLIERS_FULL / INLIERS_NONE))


def best_other(values: Sequence[float]) -> list[float]:
    """For each value, the largest of the *other* values (0 when there is none)."""
    order = sorted(range(len(values)), key=lambda i: -values[i])
    first = order[0] if order else -1
    top = values[first] if order else 0.0
    second = values[order[1]] if len(order) > 1 else 0.0
    return [second if i == first else top for i in range(len(values))]


def scores(cosines: Sequence[float], phash_distances: Sequence[int | None], inliers: Sequence[int | None],
           votes: Sequence[int]) -> list[float]:
    """The fused score of each of one query's candidates (parallel sequences, any order)."""
    if not cosines:
        return []
    ranked = sorted(cosines, reverse=True)
    floor = ranked[min(NORM_RANK, len(ranked)) - 1]
    evidence = [inlier_evidence(n) for n in inliers]
    logs = [math.log1p(v) for v in votes]
    out = []
    for cos, distance, n, e, other_e, log_votes, other_votes in zip(
            cosines, phash_distances, inliers, evidence, best_other(evidence), logs, best_other(logs), strict=True):
        score = cos - floor
        if distance is not None and distance <= PHASH_MATCH:
            score += PHASH_BONUS
        score += LOCAL_BONUS * (e - OTHER_INLIERS * other_e) + (n or 0) / 1000
        score += VOTE_WEIGHT * max(0.0, log_votes - other_votes)
        out.append(score)
    return out
