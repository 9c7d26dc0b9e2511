"""Which pairs of images are near-duplicates, and on what evidence: the descriptor, pHash, ORB keypoints.

The descriptor alone decides only above ``Rule.similarity``. Below it, down to ``Rule.floor``, a pair needs
a second witness: its pHashes within ``Rule.phash`` bits (either orientation, so flips count), or at least
``Rule.inliers`` ORB keypoints agreeing on one affine map (crops and rotations, which move pHash bits). The
cheap witnesses are asked first; keypoints only for pairs the others left open. Candidates come from the
index, never from all n² pairs: among each image's ``NEAREST`` nearest neighbours, those above
``similarity`` and the first ``neighbours`` in the band; and its ``NEAREST`` nearest pHashes (direct or
mirrored) within ``phash`` bits.
Thresholds: see ``docs/replication.md`` (chosen on the benchmark of ``benchmarks/dedup_thresholds.py``).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from genscope.index import DescriptorIndex
from genscope.index.persist import faiss_module
from genscope.models.descriptor.local import KeypointSet, verify

EXACT, DESCRIPTOR, PHASH, KEYPOINTS = "exact", "descriptor", "phash", "keypoints"
# Per image, at most this many nearest neighbours (by descriptor, and by pHash) become candidates: enough to
# connect any group, and memory stays O(n) even for a folder of thousands of near-identical images
NEAREST = 32


@dataclass(frozen=True)
class Rule:
    """Defaults: chosen by ``benchmarks/dedup_thresholds.py`` on the benchmark's tuning split (docs/replication.md)."""

    similarity: float = 0.95  # the descriptor alone: a duplicate at or above
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
# lite0-fast (dedup's default descriptor, with native-size keypoints): the same benchmark, the same grid
FAST_RULE = Rule(similarity=0.9)


@dataclass(slots=True)  # one per candidate pair (~25 per image): slots halve each one's memory
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
        judgement = self._cheap(i, j)
        if judgement is not None:
            return judgement
        similarity, distance = float(self.vectors[i] @ self.vectors[j]), self.phash_distance(i, j)
        inliers = self.inliers(i, j)
        return Judgement(similarity, distance, inliers,
                         KEYPOINTS if inliers is not None and inliers >= self.rule.inliers else None)

    def _cheap(self, i: int, j: int) -> Judgement | None:
        """The judgement when the descriptor or pHash settles it; None when only keypoints can."""
        rule = self.rule
        similarity = float(self.vectors[i] @ self.vectors[j])
        distance = self.phash_distance(i, j)
        if similarity >= rule.similarity:
            return Judgement(similarity, distance, None, DESCRIPTOR)
        if similarity < rule.floor:
            return Judgement(similarity, distance, None, None)
        if distance is not None and distance <= rule.phash:
            return Judgement(similarity, distance, None, PHASH)
        return None

    def verify_open(self, pairs: np.ndarray, threads: int) -> None:
        """Verify, on ``threads`` threads, the keypoints of every pair in ``pairs`` that only keypoints can
        settle, so judging them afterwards reads the cache (OpenCV's matching releases the GIL)."""
        if self.keypoints is None:
            return
        todo = list(dict.fromkeys((min(i, j), max(i, j)) for i, j in pairs.tolist()
                                  if (min(i, j), max(i, j)) not in self._inliers and self._cheap(i, j) is None))
        with ThreadPoolExecutor(max(1, threads)) as pool:
            self._inliers.update(zip(todo, pool.map(self.verify_pair, todo), strict=True))
        self.verified += len(todo)

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
            self._inliers[key] = self.verify_pair(key)
            self.verified += 1
        return self._inliers[key]

    def verify_pair(self, key: tuple[int, int]) -> int:
        """Inliers of rows ``key`` (0 where one has no keypoints); uncached."""
        a, b = self.keypoints[key[0]], self.keypoints[key[1]]
        return verify(a, b)[0] if a is not None and b is not None else 0


def candidates(vectors: np.ndarray, hashes: np.ndarray, mirrors: np.ndarray, has_hash: np.ndarray,
               rule: Rule) -> np.ndarray:
    """``(m, 2)`` row pairs ``i < j`` worth judging, each once (see the module docstring)."""
    found = [np.zeros((0, 2), np.int64)]
    if len(vectors) > 1:
        index = DescriptorIndex.build(vectors, [""] * len(vectors), kind="flat")
        sims, rows = index.search(vectors, min(len(vectors), NEAREST + 1))  # +1: the image itself
        strong = (rows >= 0) & (sims >= rule.similarity)
        band = (rows >= 0) & (sims >= rule.floor) & (sims < rule.similarity)
        band &= np.cumsum(band, axis=1) <= rule.neighbours  # each image's nearest few in the band
        for mask in (strong, band):
            found.append(np.column_stack([np.nonzero(mask)[0], rows[mask]]))
        if rule.phash >= 0 and has_hash.sum() > 1:
            found.append(_phash_pairs(hashes, mirrors, has_hash, rule.phash))
    pairs = np.concatenate(found).astype(np.int64)
    pairs = np.sort(pairs, axis=1)
    return np.unique(pairs[pairs[:, 0] != pairs[:, 1]], axis=0)


def _phash_pairs(hashes: np.ndarray, mirrors: np.ndarray, has_hash: np.ndarray, radius: int) -> np.ndarray:
    """Row pairs whose hashes (or one's hash and the other's mirror hash) are within ``radius`` bits, up to
    ``NEAREST`` per row."""
    faiss = faiss_module()
    rows = np.nonzero(has_hash)[0]
    index = faiss.IndexBinaryFlat(64)
    index.add(_as_codes(hashes[rows]))
    out = []
    for queries in (hashes[rows], mirrors[rows]):
        distance, found = index.search(_as_codes(queries), min(len(rows), NEAREST + 1))
        near = (found >= 0) & (distance <= radius)
        out.append(np.column_stack([rows[np.nonzero(near)[0]], rows[found[near]]]))
    return np.concatenate(out)


def _as_codes(hashes: np.ndarray) -> np.ndarray:
    """uint64 hashes as FAISS binary codes (8 bytes each; the byte order is the same for every code)."""
    return np.ascontiguousarray(hashes.astype(np.uint64)).view(np.uint8).reshape(-1, 8)
