"""Replication: each generated image's nearest references by descriptor similarity (Somepalli et al. 2023).

A generated image *replicates* when its top-1 similarity exceeds the threshold. Reads descriptor columns
only; the search goes through a :class:`~genscope.index.DescriptorIndex` (never a full similarity matrix).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from genscope.analyses.copy_score import NORM_RANK, PHASH_MATCH, scores
from genscope.analyses.descriptors import Descriptors, group_key
from genscope.index import DescriptorIndex, KeypointIndex
from genscope.models.descriptor.lite0 import FULL, region_box
from genscope.models.descriptor.local import MIN_INLIERS, Keypoints, verify

DEFAULT_K = 5
VERIFY_TOP, VOTE_TOP = 10, 10  # candidates verified per query: the descriptor's best and the keypoints' votes
QUANTILES = (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0)
MATCHES_SCHEMA = pa.schema([("query", pa.string()), ("reference", pa.string()), ("similarity", pa.float32()),
                            ("score", pa.float32()), ("phash_distance", pa.int32()), ("rank", pa.int32()),
                            ("inliers", pa.int32()), ("box", pa.list_(pa.float32(), 4))])


@dataclass
class Replication:
    matches: pa.Table  # query, reference, similarity, score, phash_distance, rank (1 = best), inliers, box
    top1: pa.Table  # one row per query: query, reference, similarity, replicated
    summary: dict[str, Any]


def wilson(successes: int, n: int, z: float = 1.959964) -> tuple[float, float] | None:
    """95% Wilson score interval for a proportion (sensible at 0 and n, unlike the normal approximation)."""
    if n == 0:
        return None
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def replicate(generated: Descriptors, index: DescriptorIndex, *, threshold: float, k: int = DEFAULT_K,
              group_by: str | None = None, exclude_same_path: bool = False, windows: bool = True,
              phashes: dict[str, int] | None = None, keypoints: KeypointIndex | None = None) -> Replication:
    """Top-``k`` references per generated image and the replication rate at ``threshold``.

    With ``windows`` (and window vectors in the records), each reference's similarity is the best over the
    whole query and its windows, and ``box`` says which part of the query matched (fractions of the image;
    the whole image when the global descriptor won). ``phashes`` (path → 64-bit pHash, from the records'
    ``phash.hash``) re-checks each candidate: ``phash_distance`` is the Hamming distance, and a match within
    ``PHASH_MATCH`` bits counts as a copy whatever the cosine (pHash is exact on global edits where the
    descriptor is weakest: colour, grey). With ``keypoints`` (the references' keypoint index) and keypoints
    in the generated records, references voted for by the query's keypoints join the candidates, and the
    descriptor's top ``VERIFY_TOP`` and the votes' top ``VOTE_TOP`` are verified geometrically: ``inliers``
    ≥ ``MIN_INLIERS`` is a copy whatever the cosine (a pasted object, a collage cell, a 45° rotation), and
    ``box`` is then the inliers' bounding box. ``score`` fuses the evidence into one number comparable across
    queries (``copy_score.scores``: per-query normalised cosine, pHash, inliers, keypoint votes); matches are
    ranked by it. ``exclude_same_path`` drops a query's own path from its matches."""
    _check_same_model(generated.model, index.meta.get("descriptor", {}))
    best = _candidates(generated, index, max(k, NORM_RANK) + (1 if exclude_same_path else 0), windows)
    local = _local_matches(generated, index, keypoints, best, windows) if keypoints is not None else None
    phashes = phashes or {}
    rows: list[tuple] = []
    for qi, query in enumerate(generated.paths):
        ranked = sorted(best[qi].items(), key=lambda kv: -kv[1][0])
        ranked = [(r, v) for r, v in ranked if not (exclude_same_path and index.paths[r] == query)]
        distances, found, boxes, votes = [], [], [], []
        for ref, (_, window) in ranked:
            a, b = phashes.get(query), phashes.get(index.paths[ref])
            distances.append(None if a is None or b is None else (a ^ b).bit_count())
            inliers, box, voted = local[qi].get(ref, (None, None, 0)) if local is not None else (None, None, 0)
            if inliers is None or inliers < MIN_INLIERS:
                box = list(region_box(window, generated.trim(qi))) if window else list(FULL)
            found.append(inliers)
            boxes.append(box)
            votes.append(voted)
        fused = scores([sim for _, (sim, _) in ranked], distances, found, votes)
        scored = sorted(zip(fused, ranked, distances, found, boxes, strict=True), key=lambda row: -row[0])
        rows += [(query, index.paths[ref], sim, score, distance, rank, inliers, box)
                 for rank, (score, (ref, (sim, _)), distance, inliers, box) in enumerate(scored[:k], start=1)]
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in MATCHES_SCHEMA]
    matches = pa.table([pa.array(c, f.type) for c, f in zip(columns, MATCHES_SCHEMA, strict=True)],
                       schema=MATCHES_SCHEMA)
    top = matches.filter(pc.equal(matches.column("rank"), 1))
    top_sims = np.asarray(top.column("similarity").to_numpy(zero_copy_only=False), dtype=np.float64)
    by_phash = _queries_where(top, matches, pc.less_equal(matches.column("phash_distance"), PHASH_MATCH))
    by_local = _queries_where(top, matches, pc.greater_equal(matches.column("inliers"), MIN_INLIERS))
    by_cosine = top_sims > threshold
    replicated = by_cosine | by_phash | by_local
    top = top.drop_columns(["rank", "box", "score", "phash_distance", "inliers"]).append_column(
        "replicated", pa.array(replicated))
    summary = {
        "threshold": threshold,
        "rule": f"top-1 similarity > {threshold}, or a top-{k} reference within {PHASH_MATCH} bits of 64-bit pHash"
                + (f", or one verified by at least {MIN_INLIERS} keypoint inliers" if local is not None else ""),
        "k": k,
        "descriptor": index.meta.get("descriptor", {}) or generated.model,
        "index": {key: index.meta.get(key) for key in ("factory", "count", "nprobe")} | {"exact": index.exact},
        "local_verification": local is not None,
        "generated": len(generated.paths) + len(generated.missing),
        "generated_with_descriptor": len(generated.paths),
        "generated_without_descriptor": len(generated.missing),
        "references": len(index.paths),
        **rate(int(replicated.sum()), len(top_sims)),
        "replicated_by_phash_only": int((by_phash & ~by_cosine).sum()),
        "replicated_by_keypoints_only": int((by_local & ~by_cosine & ~by_phash).sum()),
        "top1_similarity_quantiles": quantiles(top_sims),
    }
    if group_by:
        summary["by_group"] = rates_by_group(generated, top, group_by)
    return Replication(matches=matches, top1=top, summary=summary)


def _queries_where(top: pa.Table, matches: pa.Table, condition: pa.ChunkedArray) -> np.ndarray:
    """Per top-1 row: whether any of its query's matches meets ``condition`` (nulls count as no)."""
    hits = set(matches.filter(pc.fill_null(condition, False)).column("query").to_pylist())
    return np.isin(top.column("query").to_numpy(zero_copy_only=False), list(hits))


def _local_matches(generated: Descriptors, index: DescriptorIndex, keypoints: KeypointIndex,
                   best: list[dict[int, tuple[float, int]]],
                   windows: bool) -> list[dict[int, tuple[int, list[float] | None, int]]] | None:
    """Per query: reference row → (inliers, query box, keypoint votes) for the descriptor's top ``VERIFY_TOP``
    candidates and the keypoints' top ``VOTE_TOP``; voted references missing from ``best`` are added to it
    with their cosine. None when the generated records have no keypoints."""
    found = generated.keypoints()
    if found is None:
        return None
    direct = generated.keypoints_direct()
    vectors = _query_vectors(generated, windows)
    out: list[dict[int, tuple[int, list[float] | None, int]]] = []
    for qi in range(len(found)):
        stored = found[qi]
        verified: dict[int, tuple[int, list[float] | None, int]] = {}
        if stored is not None:
            query, mirrored = Keypoints(stored.xy, stored.codes, direct[qi]).split()
            votes = dict(keypoints.vote(query, VOTE_TOP))
            voted = list(votes)
            extra = [row for row in voted if row not in best[qi]]
            if extra:
                sims = vectors[qi] @ index.vectors(extra).T  # (query vectors, extra refs)
                for j, row in enumerate(extra):
                    best[qi][row] = (float(sims[:, j].max()), int(sims[:, j].argmax()))
            top = sorted(best[qi], key=lambda r: -best[qi][r][0])[:VERIFY_TOP]
            for row in dict.fromkeys([*top, *voted]):
                reference = keypoints.keypoints(row)
                inliers, box = verify(query, reference)
                if len(mirrored) and row in top:  # a flipped copy: the descriptor (mirror-averaged) finds it
                    flipped = verify(mirrored, reference)
                    inliers, box = max((inliers, box), flipped, key=lambda found: found[0])
                verified[row] = (inliers, list(box) if box else None, votes.get(row, 0))
        out.append(verified)
    return out


def _query_vectors(generated: Descriptors, windows: bool) -> list[np.ndarray]:
    """Per query: its global vector then its window vectors (row i = window number i)."""
    vecs, owners, _ = generated.windows() if windows else (None, np.zeros(0, np.int64), None)
    parts = np.split(vecs, np.searchsorted(owners, np.arange(1, len(generated.paths)))) if len(owners) else None
    return [np.concatenate([v[None, :], parts[qi]]) if parts else v[None, :]
            for qi, v in enumerate(generated.vectors)]


def _candidates(generated: Descriptors, index: DescriptorIndex, depth: int,
                windows: bool) -> list[dict[int, tuple[float, int]]]:
    """Per query: reference row → (best similarity over the whole image and its windows, window number).
    The union of each vector's top ``depth`` holds the exact top ``depth`` of that maximum."""
    best: list[dict[int, tuple[float, int]]] = [{} for _ in generated.paths]
    n = len(generated.paths)
    sources = [(generated.vectors, np.arange(n), np.zeros(n, np.int64))]
    if windows:
        sources.append(generated.windows())
    for vecs, owners, numbers in sources:
        if not len(vecs):
            continue
        sims, rows = index.search(vecs, depth)
        for sim_row, ref_row, query, window in zip(sims, rows, owners, numbers, strict=True):
            seen = best[query]
            for sim, ref in zip(sim_row.tolist(), ref_row.tolist(), strict=True):
                if ref >= 0 and (ref not in seen or sim > seen[ref][0]):
                    seen[ref] = (sim, int(window))
    return best


def quantiles(values: np.ndarray) -> dict[str, float]:
    if not len(values):
        return {}
    return {str(q): round(float(v), 4) for q, v in zip(QUANTILES, np.quantile(values, QUANTILES), strict=True)}


def rate(replicated: int, n: int) -> dict[str, Any]:
    ci = wilson(replicated, n)
    return {"replicated": replicated, "replication_rate": replicated / n if n else None,
            "replication_rate_ci95": [round(ci[0], 6), round(ci[1], 6)] if ci else None}


def rates_by_group(generated: Descriptors, top1: pa.Table, key: str) -> dict[str, dict[str, Any]]:
    """Replication rate per metadata value (e.g. per prompt), largest groups first."""
    metas = dict(zip(generated.paths, generated.rows.column("meta").to_pylist(), strict=True))
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for query, hit in zip(top1.column("query").to_pylist(), top1.column("replicated").to_pylist(), strict=True):
        value = group_key(metas.get(query), key)
        if value is not None:
            counts[value][0] += int(hit)
            counts[value][1] += 1
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1][1], -kv[1][0], kv[0]))
    return {value: {"images": n} | rate(hits, n) for value, (hits, n) in ordered}


def _check_same_model(query: dict[str, Any], reference: dict[str, Any]) -> None:
    for key in ("name", "version"):
        a, b = query.get(key), reference.get(key)
        if a and b and a != b:
            raise ValueError(f"descriptor {key} differs: generated images have {a!r}, the reference index {b!r}; "
                             "rescan one side with the same descriptor")
