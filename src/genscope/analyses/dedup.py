"""Duplicates: exact copies by sha256 first (free), then near-copies judged pair by pair (``dedup_pairs``).

Groups are connected components of the duplicate pairs, joined strongest pair first, with a guard against
chaining: a pair merges two groups only when each of its images is, by the same rule, a duplicate of most of
the other group's sampled members (up to ``GUARD_SAMPLE``: the representative and the earliest), so a
collage that contains two unrelated photos does not pull them into one group (``merges_refused`` counts
such bridges). Each group's tightness is its members' lowest similarity to the representative.
``near_copies`` is each image's own count of duplicate pairs among its candidates (Somepalli et al. tie
replication to how many near-copies a training image has; counted up to about ``NEAREST`` per image), which
does not chain the way groups can. Memory grows with n (at most ``NEAREST`` candidates per image), not n².
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from genscope.analyses.dedup_pairs import DEFAULT_RULE, EXACT, PairJudge, Rule, candidates
from genscope.analyses.descriptors import Descriptors
from genscope.index.persist import faiss_module
from genscope.signals import column

PHASH, PHASH_MIRROR = column("phash", "hash"), column("phash", "mirror")

GROUPS_SCHEMA = pa.schema([("path", pa.string()), ("group_id", pa.int64()), ("group_size", pa.int64()),
                           ("representative", pa.string()), ("near_copies", pa.int64()),
                           ("exact_copies", pa.int64()), ("keep", pa.bool_()),
                           ("similarity_to_representative", pa.float32())])
PAIRS_SCHEMA = pa.schema([("path_a", pa.string()), ("path_b", pa.string()), ("similarity", pa.float32()),
                          ("phash_distance", pa.int32()), ("inliers", pa.int32()), ("evidence", pa.string()),
                          ("same_group", pa.bool_())])
GUARD_SAMPLE = 3


@dataclass
class Dedup:
    groups: pa.Table  # one row per image that has a duplicate (GROUPS_SCHEMA)
    pairs: pa.Table  # every pair judged, duplicate (evidence set) or not (PAIRS_SCHEMA)
    keep: list[str]  # one path per group plus every image without duplicates (failed files excluded)
    summary: dict[str, Any]


class UnionFind:
    """Disjoint sets that also track each set's representative (the member with the most pixels; ties: the
    lower index) and a sample of its members (the representative, then the earliest) for the guard."""

    def __init__(self, pixels: np.ndarray) -> None:
        self.parent = np.arange(len(pixels))
        self.pixels = pixels
        self.best = np.arange(len(pixels))
        self.samples: dict[int, list[int]] = {}

    def sample(self, i: int) -> list[int]:
        root = self.find(i)
        return self.samples.get(root, [root])

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:  # path compression keeps later finds near O(1)
            self.parent[i], i = root, self.parent[i]
        return int(root)

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        x, y = self.best[ra], self.best[rb]
        better = x if (self.pixels[x], -x) >= (self.pixels[y], -y) else y
        root = min(ra, rb)
        self.parent[max(ra, rb)] = root
        self.best[root] = better
        members = [better, *self.sample(ra), *self.sample(rb)]
        self.samples[root] = list(dict.fromkeys(members))[:GUARD_SAMPLE]
        self.samples.pop(max(ra, rb), None)


def dedup(records: pa.Table, found: Descriptors | None, *, rule: Rule = DEFAULT_RULE) -> Dedup:
    """Duplicate groups of the decoded rows of ``records``; ``found=None`` runs the exact-bytes pass only.
    Keypoint verification runs when ``found`` has the ``keypoints`` signal's columns."""
    # only the columns used here: sorting copies every column it is given (keypoints make the full table large)
    ok = records.select(["path", "sha256", "width", "height", "error"])
    ok = ok.filter(pc.is_null(ok.column("error"))).sort_by("path")
    paths = ok.column("path").to_pylist()
    digests = ok.column("sha256").to_pylist()
    pixels = (pc.multiply(pc.cast(ok.column("width"), pa.int64()), pc.cast(ok.column("height"), pa.int64()))
              .fill_null(0).to_numpy(zero_copy_only=False))
    sets = UnionFind(pixels)
    exact = Counter(digests)
    first: dict[str, int] = {}
    pairs: list[tuple[int, int, Any, str | None]] = []  # (row a, row b, judgement or None, evidence)
    for i, digest in enumerate(digests):
        if digest is not None:
            j = first.setdefault(digest, i)
            if j != i:
                sets.union(j, i)
                pairs.append((j, i, None, EXACT))
    near = np.zeros(len(paths), np.int64)
    stats: dict[str, Any] = {"candidate_pairs": 0, "keypoint_verifications": 0, "merges_refused": 0,
                             "keypoints": False}
    vectors, position = None, None
    if found is not None and found.paths:
        vectors, position, judged = _near_pairs(found, rule, {p: i for i, p in enumerate(paths)}, sets, stats)
        for a, b, judgement in judged:
            pairs.append((a, b, judgement, judgement.evidence))
            if judgement.evidence:
                near[[a, b]] += 1
    roots = np.array([sets.find(i) for i in range(len(paths))], dtype=np.int64)
    sizes = Counter(roots.tolist())
    in_group = [i for i in range(len(paths)) if sizes[roots[i]] > 1]
    group_ids = {root: gid for gid, root in enumerate(sorted({roots[i] for i in in_group}))}
    best = [int(sets.best[roots[i]]) for i in range(len(paths))]
    closeness = _closeness(in_group, best, vectors, position)
    groups = pa.table({
        "path": [paths[i] for i in in_group],
        "group_id": [group_ids[roots[i]] for i in in_group],
        "group_size": [sizes[roots[i]] for i in in_group],
        "representative": [paths[best[i]] for i in in_group],
        "near_copies": [int(near[i]) for i in in_group],
        "exact_copies": [exact[digests[i]] - 1 for i in in_group],
        "keep": [best[i] == i for i in in_group],
        "similarity_to_representative": closeness,
    }, schema=GROUPS_SCHEMA)
    keep = [p for i, p in enumerate(paths) if best[i] == i]
    summary = {
        "rule": asdict(rule),
        "descriptor": found.model if found is not None else None,
        "inputs": records.num_rows,
        "decoded": len(paths),
        "without_descriptor": len(found.missing) if found is not None else None,
        "exact_duplicate_files": sum(c - 1 for d, c in exact.items() if d is not None and c > 1),
        "near_duplicate_pairs": sum(1 for *_, e in pairs if e not in (None, EXACT)),
        "pairs_by_evidence": dict(Counter(e for *_, e in pairs if e)),
        **stats,
        "groups": len(group_ids),
        "images_in_groups": len(in_group),
        "keep": len(keep),
        "removed": len(paths) - len(keep),
        "largest_groups": [{"representative": paths[best[root]], "size": size}
                           for root, size in sizes.most_common(10) if size > 1],
        "loosest_groups": _loosest(groups),
    }
    return Dedup(groups=groups, pairs=_pairs_table(pairs, paths, roots), keep=keep, summary=summary)


def _near_pairs(found: Descriptors, rule: Rule, row_of: dict[str, int], sets: UnionFind, stats: dict[str, Any]):
    """Judge the candidate pairs of ``found`` and join the duplicates into ``sets``, strongest first, each
    merge of two groups checked by the guard. Returns (vectors, records row → descriptor row,
    [(records row a, records row b, Judgement)])."""
    rows = np.array([row_of[p] for p in found.paths])
    position = {int(r): k for k, r in enumerate(rows)}
    hashes, mirrors, has_hash = _hashes(found)
    keypoints = found.keypoints()
    judge = PairJudge(found.vectors, hashes, mirrors, has_hash, keypoints, rule)
    todo = candidates(found.vectors, hashes, mirrors, has_hash, rule)
    judge.verify_open(todo, faiss_module().omp_get_max_threads())  # --search-threads
    judged = [(int(rows[i]), int(rows[j]), judge(int(i), int(j))) for i, j in todo]
    for a, b, _ in sorted((t for t in judged if t[2].evidence), key=lambda t: -t[2].similarity):
        if sets.find(a) == sets.find(b):
            continue
        if not _guard_allows(judge, sets, a, b, position):
            stats["merges_refused"] += 1
            continue
        sets.union(a, b)
    stats.update(candidate_pairs=len(todo), keypoint_verifications=judge.verified, keypoints=keypoints is not None)
    return found.vectors, position, judged


def _guard_allows(judge: PairJudge, sets: UnionFind, a: int, b: int, position: dict[int, int]) -> bool:
    """Whether pair (a, b) may merge their groups: each is a duplicate of most of the other group's sampled
    members (a collage of two unrelated photos is a duplicate of each, but they are not of each other)."""
    checks = [(b, x) for x in sets.sample(a) if x != a] + [(a, y) for y in sets.sample(b) if y != b]
    votes = sum(_still_duplicates(judge, position.get(i), position.get(j)) for i, j in checks)
    return not checks or 2 * votes > len(checks)


def _still_duplicates(judge: PairJudge, i: int | None, j: int | None) -> bool:
    return i is not None and j is not None and judge(i, j).evidence is not None


def _hashes(found: Descriptors) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pHash, mirror pHash, has a pHash) per descriptor row; records from before ``phash.mirror`` use the
    hash itself as the mirror (flips then match by descriptor and keypoints only)."""
    columns = found.rows.column_names
    n = len(found.paths)
    if PHASH not in columns:
        return np.zeros(n, np.uint64), np.zeros(n, np.uint64), np.zeros(n, bool)
    direct = found.rows.column(PHASH)
    mirror = found.rows.column(PHASH_MIRROR) if PHASH_MIRROR in columns else direct
    has = pc.and_(pc.is_valid(direct), pc.is_valid(mirror)).to_numpy(zero_copy_only=False)
    return (np.asarray(direct.fill_null(0).to_numpy(zero_copy_only=False), np.uint64),
            np.asarray(mirror.fill_null(0).to_numpy(zero_copy_only=False), np.uint64), np.asarray(has, bool))


def _closeness(members: list[int], best: list[int], vectors: np.ndarray | None,
               position: dict[int, int] | None) -> list[float | None]:
    """Each member's descriptor similarity to its group's representative (None without descriptors)."""
    out: list[float | None] = []
    for i in members:
        a, b = (position.get(i), position.get(best[i])) if position is not None else (None, None)
        out.append(None if a is None or b is None else round(float(vectors[a] @ vectors[b]), 4))
    return out


def _loosest(groups: pa.Table, count: int = 10) -> list[dict[str, Any]]:
    """The groups whose farthest member is least similar to the representative: the ones to review first."""
    if not groups.num_rows:
        return []
    tight = groups.group_by(["group_id", "representative", "group_size"]).aggregate(
        [("similarity_to_representative", "min")])
    tight = tight.filter(pc.is_valid(tight.column("similarity_to_representative_min")))
    top = tight.sort_by([("similarity_to_representative_min", "ascending")]).slice(0, count).to_pylist()
    return [{"representative": g["representative"], "size": g["group_size"],
             "tightness": round(g["similarity_to_representative_min"], 4)} for g in top]


def _pairs_table(pairs: list[tuple[int, int, Any, str | None]], paths: list[str], roots: np.ndarray) -> pa.Table:
    def field(name: str) -> list[Any]:
        return [getattr(j, name) if j is not None else None for _, _, j, _ in pairs]

    return pa.table({
        "path_a": [paths[a] for a, *_ in pairs],
        "path_b": [paths[b] for _, b, *_ in pairs],
        "similarity": field("similarity"),
        "phash_distance": field("phash_distance"),
        "inliers": field("inliers"),
        "evidence": [e for *_, e in pairs],
        "same_group": [bool(roots[a] == roots[b]) for a, b, *_ in pairs],
    }, schema=PAIRS_SCHEMA)
