"""Duplicates: exact copies by sha256 first (free), then near-copies by descriptor similarity.

Near-copy pairs come from an index range search (every pair with similarity ≥ threshold, chunk by chunk),
so memory grows with the number of duplicate pairs, not with n². Groups are the connected components of
those pairs; ``near_copies`` is each image's own neighbour count (Somepalli et al. tie replication to how
many near-copies a training image has), which does not chain the way groups can.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from genscope.analyses.descriptors import Descriptors
from genscope.index import DescriptorIndex, Kind

DEFAULT_THRESHOLD = 0.95  # SSCD's duplicate convention; see docs/replication.md for the default descriptor
GROUPS_SCHEMA = pa.schema([("path", pa.string()), ("group_id", pa.int64()), ("group_size", pa.int64()),
                           ("representative", pa.string()), ("near_copies", pa.int64()),
                           ("exact_copies", pa.int64()), ("keep", pa.bool_())])


@dataclass
class Dedup:
    groups: pa.Table  # one row per image that has a duplicate (GROUPS_SCHEMA)
    keep: list[str]  # one path per group plus every image without duplicates (failed files excluded)
    summary: dict[str, Any]


class UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = np.arange(n)

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:  # path compression keeps later finds near O(1)
            self.parent[i], i = root, self.parent[i]
        return int(root)

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def dedup(records: pa.Table, found: Descriptors | None, *, threshold: float = DEFAULT_THRESHOLD,
          kind: Kind = "auto") -> Dedup:
    """Duplicate groups of the decoded rows of ``records``; ``found=None`` runs the exact-bytes pass only."""
    ok = records.filter(pc.is_null(records.column("error"))).sort_by("path")
    paths = ok.column("path").to_pylist()
    position = {p: i for i, p in enumerate(paths)}
    uf = UnionFind(len(paths))
    exact = Counter(ok.column("sha256").to_pylist())
    first: dict[str, int] = {}
    for i, digest in enumerate(ok.column("sha256").to_pylist()):
        if digest is not None:
            uf.union(first.setdefault(digest, i), i)
    near = np.zeros(len(paths), np.int64)
    n_pairs = 0
    if found is not None and found.paths:
        index = DescriptorIndex.build(found.vectors, found.paths, kind=kind)
        qs, rs, _ = index.range_pairs(found.vectors, threshold)
        keep = qs < rs  # each unordered pair once, self-matches dropped
        qs, rs = qs[keep], rs[keep]
        n_pairs = len(qs)
        rows = np.array([position[p] for p in found.paths])
        np.add.at(near, rows[qs], 1)
        np.add.at(near, rows[rs], 1)
        for a, b in zip(rows[qs], rows[rs], strict=True):
            uf.union(int(a), int(b))
    roots = np.array([uf.find(i) for i in range(len(paths))], dtype=np.int64)
    sizes = Counter(roots.tolist())
    pixels = (pc.multiply(pc.cast(ok.column("width"), pa.int64()), pc.cast(ok.column("height"), pa.int64()))
              .to_numpy(zero_copy_only=False))
    representative = _representatives(roots, pixels)
    digests = ok.column("sha256").to_pylist()
    in_group = [i for i in range(len(paths)) if sizes[roots[i]] > 1]
    group_ids = {root: gid for gid, root in enumerate(sorted({roots[i] for i in in_group}))}
    groups = pa.table({
        "path": [paths[i] for i in in_group],
        "group_id": [group_ids[roots[i]] for i in in_group],
        "group_size": [sizes[roots[i]] for i in in_group],
        "representative": [paths[representative[roots[i]]] for i in in_group],
        "near_copies": [int(near[i]) for i in in_group],
        "exact_copies": [exact[digests[i]] - 1 for i in in_group],
        "keep": [representative[roots[i]] == i for i in in_group],
    }, schema=GROUPS_SCHEMA)
    keep = [p for i, p in enumerate(paths) if representative[roots[i]] == i]
    summary = {
        "threshold": threshold,
        "descriptor": found.model if found is not None else None,
        "inputs": records.num_rows,
        "decoded": len(paths),
        "without_descriptor": len(found.missing) if found is not None else None,
        "exact_duplicate_files": sum(c - 1 for d, c in exact.items() if d is not None and c > 1),
        "near_duplicate_pairs": n_pairs,
        "groups": len(group_ids),
        "images_in_groups": len(in_group),
        "keep": len(keep),
        "removed": len(paths) - len(keep),
        "largest_groups": [{"representative": paths[representative[root]], "size": size}
                           for root, size in sizes.most_common(10) if size > 1],
    }
    return Dedup(groups=groups, keep=keep, summary=summary)


def _representatives(roots: np.ndarray, pixels: np.ndarray) -> dict[int, int]:
    """Per group, the member with the most pixels (ties: first in path order): the copy worth keeping."""
    best: dict[int, int] = {}
    for i, root in enumerate(roots.tolist()):
        j = best.get(root)
        if j is None or (pixels[i] or 0) > (pixels[j] or 0):
            best[root] = i
    return best
