"""Who appears: per group of images (a prompt, any column), the faces found and the share of each skin-tone
category with bootstrap intervals over images, the effective number of categories, and with a reference (real
images) the total-variation distance, its interval and a permutation test. Reads only records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from genscope.analyses.audit import column_values
from genscope.errors import InputError
from genscope.models.faces.skintone import CATEGORY_NAMES
from genscope.signals import column

FACES = column("faces", "faces")
FACES_ERROR = column("faces", "error")
PROMPT = column("provenance", "metadata.prompt")
NO_GROUP = "(none)"
BOOTSTRAP = 1000
PERMUTATIONS = 1000
_CELLS = 4_000_000  # resamples × images held at once: bounds the bootstrap's memory on large groups
_INDEX = {name: i for i, name in enumerate(CATEGORY_NAMES)}


class BiasError(InputError):
    """Records a bias audit cannot use (no faces signal, an unknown --by column)."""


@dataclass
class Bias:
    summary: dict[str, Any]
    groups: pa.Table  # one row per group, most skewed first
    faces: pa.Table  # one row per face


def run_bias(table: pa.Table, *, by: str = "prompt", reference: pa.Table | None = None,
             recall: dict[str, float] | None = None, min_confidence: float = 0.0, seed: int = 0) -> Bias:
    """``recall``: the detector's recall per ITA category (from ``benchmarks/faces_recall.py`` on faces like these);
    each found face then stands for 1/recall faces, so a band the detector misses more is not under-counted.
    ``min_confidence``: faces the detector was less sure of are left out (stricter than the scan's threshold
    without rescanning: its least confident boxes are where silhouettes and lights pass for faces)."""
    rng = np.random.default_rng(seed)
    weights = recall_weights(recall)
    found, judged = tone_counts(table, min_confidence)
    counts = found * weights
    keys = group_keys(table, by)
    ref, ref_found, ref_keys = None, 0, None
    if reference is not None:
        ref_counts, ref_judged = tone_counts(reference, min_confidence)
        ref, ref_found = ref_counts[ref_judged] * weights, int(ref_counts[ref_judged].sum())
        ref_keys = reference_keys(reference, by, ref_judged)
    rows = []
    for key in sorted(set(keys[judged])):
        members = judged & (keys == key)
        matched = ref_keys is not None and key != NO_GROUP and bool((ref_keys == key).any())
        group_ref = ref[ref_keys == key] if matched else ref
        row = group_row(key, counts[members], int(found[members].sum()), group_ref, rng)
        if ref is not None:
            row["reference"] = "matched" if matched else "pooled"
        rows.append(row)
    rank = "tv" if ref is not None else "effective_categories"
    rows.sort(key=lambda r: -r["tv"] if ref is not None else r["effective_categories"])
    summary = {
        "by": by, "categories": list(CATEGORY_NAMES), "images": table.num_rows, "judged": int(judged.sum()),
        "not_judged": int((~judged).sum()), "faces": int(found[judged].sum()), "groups": len(rows), "ranked_by": rank,
        "recall_correction": recall, "min_confidence": min_confidence,
        "overall": shares_with_interval(counts[judged], rng),
        "reference": None if ref is None else {"images": len(ref), "faces": ref_found,
                                               "shares": shares_with_interval(ref, rng)},
        "per_group": rows,
    }
    return Bias(summary, groups_table(rows), faces_table(table, keys, min_confidence))


def recall_weights(recall: dict[str, float] | None) -> np.ndarray:
    if recall is None:
        return np.ones(len(CATEGORY_NAMES))
    unknown = set(recall) - set(CATEGORY_NAMES)
    if unknown or not all(isinstance(v, int | float) and 0 < v <= 1 for v in recall.values()):
        raise BiasError(f"recall must map ITA categories ({', '.join(CATEGORY_NAMES)}) to numbers in (0, 1]; "
                        f"got {recall!r}")
    return np.array([1 / recall.get(name, 1.0) for name in CATEGORY_NAMES])


def tone_counts(table: pa.Table, min_confidence: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Per image the number of measured faces in each ITA category (n, 6), and whether the faces signal judged the
    image (it ran and did not fail on it)."""
    if FACES not in table.column_names:
        raise BiasError("these records have no faces: scan with `--signals …,faces` first")
    counts = np.zeros((table.num_rows, len(CATEGORY_NAMES)))
    for i, faces in enumerate(table.column(FACES).to_pylist()):
        for face in faces or ():
            if face["ita_category"] in _INDEX and face["confidence"] >= min_confidence:
                counts[i, _INDEX[face["ita_category"]]] += 1
    failed = table.column(FACES_ERROR).is_valid() if FACES_ERROR in table.column_names else None
    judged = table.column(FACES).is_valid().to_numpy(zero_copy_only=False)
    if failed is not None:
        judged &= ~failed.to_numpy(zero_copy_only=False)
    return counts, judged


def group_keys(table: pa.Table, by: str) -> np.ndarray:
    """``prompt`` is the generation prompt read from provenance metadata where any image has one, else a ``prompt``
    column or meta key."""
    from_metadata = by == "prompt" and PROMPT in table.column_names and table.column(PROMPT).null_count < len(table)
    name = PROMPT if from_metadata else by
    try:
        values = column_values(table, name)
    except InputError as exc:
        hint = ("; prompts come from generation metadata (scan with the provenance signal) or a manifest column "
                "named prompt, else give --by COLUMN") if by == "prompt" else ""
        raise BiasError(f"{exc}{hint}") from None
    return np.array([NO_GROUP if v is None or v == "" else str(v) for v in values], dtype=object)


def reference_keys(reference: pa.Table, by: str, judged: np.ndarray) -> np.ndarray | None:
    """The reference's own groups when it has the ``by`` column: a group is then compared with real images of the
    same prompt or value; without it, or for a group the reference lacks, with all reference faces pooled."""
    try:
        return group_keys(reference, by)[judged]
    except BiasError:
        return None


def shares(counts: np.ndarray) -> np.ndarray:
    total = counts.sum(axis=-1, keepdims=True)
    return np.divide(counts, total, out=np.zeros(counts.shape), where=total > 0)


def bootstrap_sums(counts: np.ndarray, rng: np.random.Generator, rounds: int = BOOTSTRAP) -> np.ndarray:
    """Category totals of ``rounds`` resamples of the images (rows) with replacement, in blocks of bounded size."""
    n = len(counts)
    if n == 0:
        return np.zeros((rounds, counts.shape[1]))
    block = max(1, _CELLS // n)
    out = [rng.multinomial(n, np.full(n, 1 / n), size=min(block, rounds - start)) @ counts
           for start in range(0, rounds, block)]
    return np.concatenate(out)


def shares_with_interval(counts: np.ndarray, rng: np.random.Generator) -> dict[str, Any]:
    """Face shares per category and their 95 % percentile intervals, resampling images (faces in one image are
    not independent: the same photo, the same lighting)."""
    point = shares(counts.sum(axis=0))
    boot = bootstrap_sums(counts, rng)
    boot = boot[boot.sum(axis=1) > 0]  # a resample without faces has no shares: leave it out, not count it as 0
    low, high = np.percentile(shares(boot), [2.5, 97.5], axis=0) if len(boot) else (point, point)
    return {name: {"share": round(float(point[i]), 4), "low": round(float(low[i]), 4), "high": round(float(high[i]), 4)}
            for i, name in enumerate(CATEGORY_NAMES)}


def effective_categories(share: np.ndarray) -> float:
    """exp(Shannon entropy): 1 when every face falls in one category, 6 when all six are equally common."""
    nonzero = share[share > 0]
    return float(np.exp(-(nonzero * np.log(nonzero)).sum())) if len(nonzero) else 0.0


def tv_distance(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    return 0.5 * np.abs(p - q).sum(axis=-1)


def permutation_p(group: np.ndarray, ref: np.ndarray, rng: np.random.Generator, rounds: int = PERMUTATIONS) -> float:
    """Chance of a TV distance at least this large if group and reference images came from one distribution:
    images are shuffled between the two, keeping their sizes."""
    pooled = np.concatenate([group, ref])
    observed = tv_distance(shares(group.sum(0)), shares(ref.sum(0)))
    hits = 0
    for _ in range(rounds):
        order = rng.permutation(len(pooled))
        a, b = pooled[order[:len(group)]].sum(0), pooled[order[len(group):]].sum(0)
        hits += tv_distance(shares(a), shares(b)) >= observed - 1e-12
    return (hits + 1) / (rounds + 1)


def group_row(key: str, counts: np.ndarray, faces: int, ref: np.ndarray | None,
              rng: np.random.Generator) -> dict[str, Any]:
    """``counts``: per image and category, weighted for recall; ``faces``: the faces found, unweighted."""
    share = shares(counts.sum(axis=0))
    row = {"group": key, "images": len(counts), "images_with_faces": int((counts.sum(1) > 0).sum()),
           "faces": faces, "shares": shares_with_interval(counts, rng),
           "effective_categories": round(effective_categories(share), 3)}
    if ref is not None:
        a, b = bootstrap_sums(counts, rng), bootstrap_sums(ref, rng)
        both = (a.sum(axis=1) > 0) & (b.sum(axis=1) > 0)
        boot = tv_distance(shares(a[both]), shares(b[both]))
        low, high = (round(float(v), 4) for v in np.percentile(boot, [2.5, 97.5])) if len(boot) else (None, None)
        row |= {"tv": round(float(tv_distance(share, shares(ref.sum(0)))), 4), "tv_low": low, "tv_high": high,
                "p_value": round(permutation_p(counts, ref, rng), 4) if counts.sum() and ref.sum() else None}
    return row


def groups_table(rows: list[dict[str, Any]]) -> pa.Table:
    flat = []
    for row in rows:
        out = {k: v for k, v in row.items() if k != "shares"}
        for name, cell in row["shares"].items():
            out |= {f"{name}": cell["share"], f"{name}_low": cell["low"], f"{name}_high": cell["high"]}
        flat.append(out)
    return pa.Table.from_pylist(flat)


def faces_table(table: pa.Table, keys: np.ndarray, min_confidence: float = 0.0) -> pa.Table:
    """One row per face kept: the image's path, its group, the face's index in the image and its fields."""
    rows = [{"path": path, "group": key, "face": i, **face}
            for path, key, faces in zip(table.column("path").to_pylist(), keys, table.column(FACES).to_pylist(),
                                        strict=True)
            for i, face in enumerate(faces or ()) if face["confidence"] >= min_confidence]
    schema = pa.schema([("path", pa.string()), ("group", pa.string()), ("face", pa.int32()),
                        *table.schema.field(FACES).type.value_type])
    return pa.Table.from_pylist(rows, schema=schema)
