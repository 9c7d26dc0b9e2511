"""The fused copy score and the plausibility check on keypoint maps (pure functions, no images)."""

from __future__ import annotations

import numpy as np
import pytest

from genscope.analyses.copy_score import (
    INLIERS_FULL,
    INLIERS_NONE,
    LOCAL_BONUS,
    PHASH_BONUS,
    best_other,
    inlier_evidence,
    scores,
)
from genscope.models.descriptor.local import plausible


def test_inlier_evidence_rises_from_none_to_full():
    assert inlier_evidence(None) == inlier_evidence(0) == inlier_evidence(INLIERS_NONE) == 0.0
    assert 0 < inlier_evidence(12) < inlier_evidence(30) < 1.0
    assert inlier_evidence(INLIERS_FULL) == inlier_evidence(10 * INLIERS_FULL) == pytest.approx(1.0)


def test_best_other_is_the_largest_of_the_rest():
    assert best_other([3.0, 1.0, 2.0]) == [2.0, 3.0, 3.0]
    assert best_other([2.0, 2.0]) == [2.0, 2.0]
    assert best_other([5.0]) == [0.0] and best_other([]) == []


def test_a_dominant_verified_match_outranks_descriptor_and_shared_evidence():
    cos = [0.30, 0.25, 0.20, 0.15, 0.10]
    none = [None] * 5
    plain = scores(cos, none, none, [0] * 5)
    assert plain[0] == pytest.approx(0.20) and plain[4] == pytest.approx(0.0)  # cosine − the 5th-best
    copy = scores(cos, none, [None, None, 200, None, None], [0, 0, 30, 0, 0])
    assert max(range(5), key=copy.__getitem__) == 2 and copy[2] > LOCAL_BONUS
    # a query whose layout lends 20 inliers to two references at once (both are grids, say) gains less
    shared = scores(cos, none, [20, 20, None, None, None], [5, 5, 0, 0, 0])
    single = scores(cos, none, [20, None, None, None, None], [5, 0, 0, 0, 0])
    assert max(shared) < max(single)
    grey = scores(cos, [30, 30, 4, 30, 30], none, [0] * 5)
    assert grey[2] == pytest.approx(0.10 + PHASH_BONUS)
    assert scores([], [], [], []) == []


def test_plausible_rejects_degenerate_maps():
    spread = np.array([[0.1, 0.1], [0.9, 0.2], [0.5, 0.8]])
    similarity = np.array([[2.0, 0.0, 0.1], [0.0, 2.0, 0.0]])
    assert plausible(similarity, spread)
    squashed = np.array([[2.0, 0.0, 0.0], [0.0, 0.01, 0.5]])  # everything onto one line
    assert not plausible(squashed, spread)
    assert not plausible(similarity, np.array([[0.5, 0.1], [0.5, 0.9], [0.51, 0.5]]))  # points on one line
