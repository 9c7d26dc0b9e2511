"""Memorization (Carlini et al. 2023): prompts whose many generations come out near-identical.

For each group of generations (e.g. one prompt, many seeds) with at least ``min_size`` images, find the
largest set whose members are all pairwise at least ``threshold`` similar (a clique, grown greedily from
the best-connected image; exact cliques are NP-hard and groups are small), and its tightness (mean pairwise
similarity). The similarity matrix is per group (g × g), never over the whole collection.
Key phrases: for each caption word, the share of its generations that sit in a flagged clique.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from genscope.analyses.descriptors import Descriptors, group_key

MAX_GROUP = 4096  # a larger group is subsampled (a g × g float32 matrix of 4096² is 64 MB)
WORD = re.compile(r"[a-z][a-z'-]{2,}")


@dataclass
class Memorization:
    groups: list[dict[str, Any]]  # ranked, most memorized first
    phrases: list[dict[str, Any]]
    summary: dict[str, Any]


def largest_clique(sims: np.ndarray, threshold: float) -> list[int]:
    """Greedy: start from the image with most neighbours, add the candidate linked to all members with the
    highest mean similarity to them, until none is left."""
    adjacent = sims >= threshold
    np.fill_diagonal(adjacent, False)
    if not adjacent.any():
        return [0] if len(sims) else []
    members = [int(adjacent.sum(axis=1).argmax())]
    candidates = adjacent[members[0]].copy()
    while candidates.any():
        pick = int(np.flatnonzero(candidates)[sims[np.ix_(np.flatnonzero(candidates), members)].mean(axis=1).argmax()])
        members.append(pick)
        candidates &= adjacent[pick]
        candidates[pick] = False
    return sorted(members)


def memorization(found: Descriptors, *, group_by: str = "prompt", threshold: float, min_size: int = 4,
                 flag_share: float = 0.5, seed: int = 0) -> Memorization:
    """Groups ranked by the share of their images in the largest near-identical clique, then its tightness.
    A group is flagged when that share reaches ``flag_share`` (and the clique has at least 2 images)."""
    metas = found.rows.column("meta").to_pylist() if "meta" in found.rows.column_names else [None] * len(found.paths)
    members: dict[str, list[int]] = defaultdict(list)
    for row, meta in enumerate(metas):
        value = group_key(meta, group_by)
        if value is not None:
            members[value].append(row)
    rng = np.random.default_rng(seed)
    groups = []
    for value, rows in members.items():
        if len(rows) < min_size:
            continue
        if len(rows) > MAX_GROUP:
            rows = sorted(rng.choice(rows, MAX_GROUP, replace=False).tolist())
        vectors = found.vectors[rows]
        sims = vectors @ vectors.T
        clique = largest_clique(sims, threshold)
        inner = sims[np.ix_(clique, clique)]
        size = len(clique)
        tightness = float((inner.sum() - size) / (size * (size - 1))) if size > 1 else None
        share = size / len(rows) if size > 1 else 0.0
        groups.append({"group": value, "images": len(rows), "clique_size": size if size > 1 else 0,
                       "clique_share": round(share, 4), "tightness": None if tightness is None else round(tightness, 4),
                       "flagged": size > 1 and share >= flag_share,
                       "clique": [found.paths[rows[i]] for i in clique] if size > 1 else []})
    groups.sort(key=lambda g: (-g["clique_share"], -(g["tightness"] or 0.0), g["group"]))
    phrases = key_phrases(groups)
    summary = {"group_by": group_by, "threshold": threshold, "min_size": min_size, "flag_share": flag_share,
               "descriptor": found.model, "images": len(found.paths),
               "images_with_group": sum(len(r) for r in members.values()), "groups": len(members),
               "groups_scored": len(groups), "groups_flagged": sum(g["flagged"] for g in groups)}
    return Memorization(groups=groups, phrases=phrases, summary=summary)


def key_phrases(groups: list[dict[str, Any]], min_groups: int = 2) -> list[dict[str, Any]]:
    """Caption words ranked by the share of their groups that are flagged (words in ≥ ``min_groups`` groups)."""
    seen: Counter[str] = Counter()
    flagged: Counter[str] = Counter()
    for g in groups:
        words = set(WORD.findall(g["group"].lower()))
        seen.update(words)
        if g["flagged"]:
            flagged.update(words)
    rows = [{"word": w, "groups": n, "flagged": flagged[w], "flagged_share": round(flagged[w] / n, 4)}
            for w, n in seen.items() if n >= min_groups]
    return sorted(rows, key=lambda r: (-r["flagged_share"], -r["groups"], r["word"]))
