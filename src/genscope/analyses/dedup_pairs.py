"""Which pairs of images are near-duplicates, and on what evidence: the descriptor, pHash, ORB keypoints.

The descriptor alone decides only above ``Rule.similarity``. Below it, down to ``Rule.floor``, a pair needs
a second witness: its pHashes within ``Rule.phash`` bits (either orientation, so flips count), or at least
``Rule.inliers`` ORB keypoints agreeing on one affine map (crops and rotations, which move pHash bits). The
cheap witnesses are asked first; keypoints only for pairs the others left open. Candidates come from the
index, never from all n² pairs: every pair above ``similarity`` (a range search), each image's
``neighbours`` nearest in the band, and every pHash pair within ``phash`` bits (a binary range search).
Thresholds: see ``docs/replication.md`` (chosen on the benchmark of ``benchmarks/dedup_thresholds.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genscope.index import DescriptorIndex, _faiss
from genscope.models.descriptor.local import KeypointSet, verify

EXACT, DESCRIPTOR, PHASH, KEYPOINTS = "exact", "descriptor", "phash", "keypoints"


@dataclass(frozen=True)
class Rule:
    """Defaults: chosen by ``benchmarks/dedup_thresholds.py`` on the benchmark's tuning split (docs/replication.md)."""

    similarity: float = 0.90  # the descriptor alone: a duplicate at or above
    floor: float = 0.15  # never a duplicate below, whatever else agrees
    phash: int = 10  # pHash Hamming distance (either orientation) that confirms a pair above the floor
    inliers: int = 10  # keypoint inliers that confirm a pair above the floor
    neighbours: int = 5  # per image, this many nearest in [floor, similarity) are examined

    def __post_init__(self) -> None:
        if not -1.0 <= self.floor <= self.similarity <= 1.0:
            raise ValueError(f"need -1 <= floor ({self.floor}) <= similarity ({self.similarity}) <= 1")
        if self.phash < -1 or self.inliers < 1 or self.neighbours < 0:
            raise ValueError("phash must be >= -1 (-1: pHash never decides), inliers >= 1, neighbours >= 0")


DEFAULT_RULE = Rule()


@dataclass
class Judgement:
    similarity: float
    phash_distance: int | None  # None: a side has no pHash
    inliers: int | None  # None: not verified (decided before, or no keypoints)
    evidence: str | None  # DESCRIPTOR, PHASH or KEYPOINTS; None: not a duplicate


class PairJudge:
    """Judges pairs of rows of one descriptor set (rows as in ``Descriptors.paths``); verifications are
    remembered, so asking twice (a candidate, then the grouping guard) costs once."""

    def __init__(self, vectors: np.ndarray, hashes: np.ndarray, mirrors: np.ndarray, has_hash: np.ndarray,
                 keypoints: KeypointSet | None, rule: Rule) -> None:
        self.vectors, self.hashes, self.mirrors, self.has_hash = vectors, hashes, mirrors, has_hash
        self.keypoints, self.rule = keypoints, rule
        self.verified = 0
        self._inliers: dict[tuple[int, int], int] = {}

    def __call__(self, i: int, j: int) -> Judgement:
        rule = self.rule
        similarity = float(self.vectors[i] @ self.vectors[j])
        distance = self.phash_distance(i, j)
        if similarity >= rule.similarity:
            return Judgement(similarity, distance, None, DESCRIPTOR)
        if similarity < rule.floor:
            return Judgement(similarity, distance, None, None)
        if distance is not None and distance <= rule.phash:
            return Judgement(similarity, distance, None, PHASH)
        inliers = self.inliers(i, j)
        return Judgement(similarity, distance, inliers,
                         KEYPOINTS if inliers is not None and inliers >= rule.inliers else None)

    def phash_distance(self, i: int, j: int) -> int | None:
        if not (self.has_hash[i] and self.has_hash[j]):
            return None
        direct = int(self.hashes[i] ^ self.hashes[j]).bit_count()
        return min(direct, int(self.hashes[i] ^ self.mirrors[j]).bit_count())

    def inliers(self, i: int, j: int) -> int | None:
        if self.keypoints is None:
            return None
        key = (min(i, j), max(i, j))
        if key not in self._inliers:
            a, b = self.keypoints[key[0]], self.keypoints[key[1]]
            self._inliers[key] = verify(a, b)[0] if a is not None and b is not None else 0
            self.verified += 1
        return self._inliers[key]


def candidates(vectors: np.ndarray, hashes: np.ndarray, mirrors: np.ndarray, has_hash: np.ndarray,
               rule: Rule) -> np.ndarray:
    """``(m, 2)`` row pairs ``i < j`` worth judging, each once (see the module docstring)."""
    found = [np.zeros((0, 2), np.int64)]
    if len(vectors) > 1:
        index = DescriptorIndex.build(vectors, [""] * len(vectors), kind="flat")
        qs, rs, _ = index.range_pairs(vectors, rule.similarity)
        found.append(np.column_stack([qs, rs]))
        if rule.neighbours and rule.floor < rule.similarity:
            sims, rows = index.search(vectors, rule.neighbours + 1)  # +1: the image itself
            band = (rows >= 0) & (sims >= rule.floor) & (sims < rule.similarity)
            found.append(np.column_stack([np.nonzero(band)[0], rows[band]]))
        if rule.phash >= 0 and has_hash.sum() > 1:
            found.append(_phash_pairs(hashes, mirrors, has_hash, rule.phash))
    pairs = np.concatenate(found).astype(np.int64)
    pairs = np.sort(pairs, axis=1)
    return np.unique(pairs[pairs[:, 0] != pairs[:, 1]], axis=0)


def _phash_pairs(hashes: np.ndarray, mirrors: np.ndarray, has_hash: np.ndarray, radius: int) -> np.ndarray:
    """Row pairs whose hashes (or one's hash and the other's mirror hash) are within ``radius`` bits."""
    faiss = _faiss()
    rows = np.nonzero(has_hash)[0]
    index = faiss.IndexBinaryFlat(64)
    index.add(_as_codes(hashes[rows]))
    out = []
    for queries in (hashes[rows], mirrors[rows]):
        lims, _, found = index.range_search(_as_codes(queries), radius + 1)  # FAISS keeps distances < radius
        owner = np.repeat(np.arange(len(rows)), np.diff(lims.astype(np.int64)))
        out.append(np.column_stack([rows[owner], rows[found.astype(np.int64)]]))
    return np.concatenate(out)


def _as_codes(hashes: np.ndarray) -> np.ndarray:
    """uint64 hashes as FAISS binary codes (8 bytes each; the byte order is the same for every code)."""
    return np.ascontiguousarray(hashes.astype(np.uint64)).view(np.uint8).reshape(-1, 8)
