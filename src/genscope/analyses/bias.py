"""Who appears: per group of images (a prompt, any column), the faces found and the share of each skin-tone
category with bootstrap intervals over images, the effective number of categories, and with a reference (real
images) the total-variation distance, its interval and a permutation test. Reads only records, batch by batch: what
it keeps is per image with a face a row of counts, and the faces themselves."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from genscope.analyses.audit import NO_GROUP, column_values
from genscope.analyses.batches import Records
from genscope.analyses.bias_recall import RecallCorrection
from genscope.errors import InputError
from genscope.models.faces.skintone import CATEGORY_NAMES
from genscope.signals import column
from genscope.signals.faces import FACE

FACES = column("faces", "faces")
FACES_ERROR = column("faces", "error")
PROMPT = column("provenance", "metadata.prompt")
LOCATED = ("path", "shard", "offset", "bytes", "width")  # what re-reads an image for the report's face crops
BOOTSTRAP = 1000
PERMUTATIONS = 1000
_CELLS = 4_000_000  # resamples × images held at once: bounds the bootstrap's memory on large groups
_INDEX = pa.array(CATEGORY_NAMES)


class BiasError(InputError):
    """Records a bias audit cannot use (no faces signal, an unknown --by column)."""


@dataclass
class Bias:
    summary: dict[str, Any]
    groups: pa.Table  # one row per group, most skewed first
    faces: pa.Table  # one row per face
    located: pa.Table | None  # path, shard, offset, bytes, width of the images with a face kept; None: not in records


@dataclass
class Images:
    """A set of images as the statistics see it: per image with a measured face its faces per (tone category, size
    band) cell, and how many images have none (they count in resamples and permutations but hold no faces)."""

    cells: np.ndarray  # (images with faces, categories × bands) int32
    empty: int

    @property
    def count(self) -> int:
        return len(self.cells) + self.empty


@dataclass
class Tallies:
    """Compact per-image tallies of a whole set of records, by group."""

    codes: np.ndarray  # group code of each image with faces
    cells: np.ndarray  # its faces per cell
    empty: np.ndarray  # judged images without a measured face, per group code
    groups: dict[str, int] = field(default_factory=dict)  # group → code
    grouped: bool = True  # False: the records lack the --by column; every image is in one pool
    images: int = 0
    not_judged: int = 0

    def group(self, key: str) -> Images:
        code = self.groups[key]
        return Images(self.cells[self.codes == code], int(self.empty[code]))

    def pooled(self) -> Images:
        return Images(self.cells, int(self.empty.sum()))


def run_bias(records: pa.Table | Records, *, by: str = "prompt", reference: pa.Table | Records | None = None,
             recall: dict[str, Any] | None = None, min_confidence: float = 0.0, seed: int = 0) -> Bias:
    """``records``: a table, or records read a batch at a time (``Records``). ``recall``: the detector's recall per ITA
    category (``{"dark": 0.8, …}``), or per category and face size as ``benchmarks/faces_recall.py`` writes it; each
    found face then stands for 1/recall faces, so a band the detector misses more is not under-counted.
    ``min_confidence``: faces the detector was less sure of are left out (stricter than the scan's threshold
    without rescanning: its least confident boxes are where silhouettes and lights pass for faces)."""
    rng = np.random.default_rng(seed)
    correction = RecallCorrection.parse(recall)
    found, faces, located = tally(Records.of(records), by, correction, min_confidence, keep_faces=True)
    ref = None if reference is None else tally(Records.of(reference), by, correction, min_confidence,
                                               group_required=False)[0]
    rows = []
    for key in sorted(found.groups):
        matched = ref is not None and ref.grouped and key != NO_GROUP and key in ref.groups
        group_ref = None if ref is None else ref.group(key) if matched else ref.pooled()
        row = group_row(key, found.group(key), group_ref, correction, rng)
        if ref is not None:
            row["reference"] = "matched" if matched else "pooled"
        rows.append(row)
    rank = "tv" if ref is not None else "effective_categories"
    rows.sort(key=lambda r: -r["tv"] if ref is not None else r["effective_categories"])
    summary = {
        "by": by, "categories": list(CATEGORY_NAMES), "images": found.images,
        "judged": found.images - found.not_judged, "not_judged": found.not_judged, "faces": int(found.cells.sum()),
        "groups": len(rows), "ranked_by": rank, "recall_correction": correction.describe(found.cells.sum(0)),
        "min_confidence": min_confidence,
        "overall": shares_with_interval(found.pooled(), correction, rng),
        "reference": None if ref is None else {"images": ref.images - ref.not_judged, "faces": int(ref.cells.sum()),
                                               "shares": shares_with_interval(ref.pooled(), correction, rng)},
        "per_group": rows,
    }
    return Bias(summary, groups_table(rows), faces, located)


def tally(records: Records, by: str, correction: RecallCorrection, min_confidence: float = 0.0, *,
          keep_faces: bool = False, group_required: bool = True) -> tuple[Tallies, pa.Table | None, pa.Table | None]:
    """One pass over the records: per image with measured faces its group and cell counts, per group the judged
    images without any, and (``keep_faces``) one row per face kept plus where its image is. An image is judged when
    the faces signal ran on it and did not fail. ``group_required=False``: records without the ``by`` column are
    one pool (a reference that lacks it) rather than an error."""
    name = group_column(records, by)
    out = Tallies(codes=np.zeros(0, np.int32), cells=np.zeros((0, correction.cells), np.int32),
                  empty=np.zeros(0, np.int64))
    codes, cells, faces, located = [], [], [], []
    empty, judged_images = np.zeros(0, np.int64), np.zeros(0, np.int64)  # per group code
    seen_faces = seen_group = False
    tables = records.batches([*LOCATED, "meta", FACES, FACES_ERROR, name])
    for batch in (batch for table in tables for batch in table.to_batches()):  # the tallies work on single arrays
        if FACES not in batch.schema.names:
            out.images += batch.num_rows
            out.not_judged += batch.num_rows
            continue
        seen_faces = True
        keys, found_group = batch_keys(batch, name)
        seen_group |= found_group
        lists = batch.column(FACES)
        judged = lists.is_valid().to_numpy(zero_copy_only=False)
        if FACES_ERROR in batch.schema.names:
            judged &= ~batch.column(FACES_ERROR).is_valid().to_numpy(zero_copy_only=False)
        image_cells = cell_counts(lists, judged, correction, min_confidence)
        with_faces = image_cells.any(axis=1)
        batch_codes = np.array([out.groups.setdefault(k, len(out.groups)) for k in keys], dtype=np.int32)
        codes.append(batch_codes[with_faces])
        cells.append(image_cells[with_faces])
        empty = _grown(empty, len(out.groups)) + np.bincount(batch_codes[judged & ~with_faces],
                                                              minlength=len(out.groups))
        judged_images = _grown(judged_images, len(out.groups)) + np.bincount(batch_codes[judged],
                                                                            minlength=len(out.groups))
        out.images += batch.num_rows
        out.not_judged += int((~judged).sum())
        if keep_faces:
            kept = face_rows(batch, keys, min_confidence)
            faces.append(kept)
            if set(LOCATED) <= set(batch.schema.names):
                located.append(pa.Table.from_batches([batch.select(list(LOCATED))]).filter(
                    pa.array(np.isin(batch.column("path").to_numpy(zero_copy_only=False),
                                     kept.column("path").to_numpy(zero_copy_only=False)))))
    if not seen_faces and out.images:  # no rows at all (an empty scan) is an empty audit, not an error
        raise BiasError("these records have no faces: scan with `--signals …,faces` first")
    if not seen_group and out.images:
        if group_required:
            hint = ("; prompts come from generation metadata (scan with the provenance signal) or a manifest column "
                    "named prompt, else give --by COLUMN") if by == "prompt" else ""
            raise BiasError(f"no column or meta key {by!r} in these records{hint}")
        out.grouped = False
    out.groups = {key: code for key, code in out.groups.items() if judged_images[code]}  # only unjudged: no row
    if codes:
        out.codes, out.cells = np.concatenate(codes), np.concatenate(cells)
    out.empty = empty
    schema = pa.schema([("path", pa.string()), ("group", pa.string()), ("face", pa.int32()), *FACE])
    return (out, pa.concat_tables([schema.empty_table(), *faces]),
            pa.concat_tables(located) if located and len(located) == len(faces) else None)


def _grown(counts: np.ndarray, size: int) -> np.ndarray:
    return np.pad(counts, (0, size - len(counts)))


def group_column(records: Records, by: str) -> str:
    """``prompt`` is the generation prompt read from provenance metadata where any image has one, else a ``prompt``
    column or meta key: a first pass reads that one column."""
    if by == "prompt" and PROMPT in records.columns and any(table.column(PROMPT).null_count < table.num_rows
                                                            for table in records.batches([PROMPT])):
        return PROMPT
    return by


def batch_keys(batch: pa.RecordBatch, name: str) -> tuple[list[str], bool]:
    """The group of every image of the batch, and whether the batch holds the column or meta key at all."""
    try:
        values = column_values(pa.Table.from_batches([batch]), name)
    except InputError:
        return [NO_GROUP] * batch.num_rows, False
    return [NO_GROUP if v is None or v == "" else str(v) for v in values], True


def cell_counts(lists: pa.ListArray, judged: np.ndarray, correction: RecallCorrection,
                min_confidence: float) -> np.ndarray:
    """Per image of the batch its measured faces per (ITA category, size band) cell, (images, cells) int32; faces
    without a tone (too few skin pixels) or under ``min_confidence`` are left out, as are images not judged."""
    flat = pc.list_flatten(lists)
    parent = pc.list_parent_indices(lists).to_numpy()
    category = pc.index_in(flat.field("ita_category"), value_set=_INDEX).to_numpy(zero_copy_only=False)
    confidence = flat.field("confidence").to_numpy(zero_copy_only=False)
    keep = ~np.isnan(category) & (confidence >= min_confidence) & judged[parent]
    cell = category[keep].astype(np.int64) * correction.bands + correction.band_of(
        flat.field("size").to_numpy(zero_copy_only=False)[keep])
    counts = np.zeros((len(lists), correction.cells), np.int32)
    np.add.at(counts, (parent[keep], cell), 1)
    return counts


def face_rows(batch: pa.RecordBatch, keys: list[str], min_confidence: float) -> pa.Table:
    """One row per face kept: the image's path, its group, the face's index in the image and its fields."""
    lists = batch.column(FACES)
    flat = pc.list_flatten(lists)
    parent = pc.list_parent_indices(lists).to_numpy()
    index = np.arange(len(parent)) - np.searchsorted(parent, parent)  # parents ascend: a face's rank in its image
    fields = {f.name: flat.field(f.name) for f in flat.type}
    table = pa.table({"path": batch.column("path").take(parent), "group": pa.array(keys).take(parent),
                      "face": pa.array(index, pa.int32()), **fields})
    return table.filter(pc.greater_equal(table.column("confidence"), min_confidence))


def shares(counts: np.ndarray) -> np.ndarray:
    total = counts.sum(axis=-1, keepdims=True)
    return np.divide(counts, total, out=np.zeros(counts.shape), where=total > 0)


def bootstrap_sums(images: Images, rng: np.random.Generator, rounds: int = BOOTSTRAP) -> np.ndarray:
    """Cell totals of ``rounds`` resamples of the images with replacement, in blocks of bounded size. The images
    without faces are one bucket drawn with their joint probability: the same resample, without a row each."""
    n, cells = images.count, images.cells
    if not len(cells):
        return np.zeros((rounds, cells.shape[1]))
    p = np.full(len(cells) + 1, 1 / n)
    p[-1] = images.empty / n
    block = max(1, _CELLS // len(p))
    out = [rng.multinomial(n, p, size=min(block, rounds - start))[:, :-1] @ cells
           for start in range(0, rounds, block)]
    return np.concatenate(out).astype(np.float64)


def shares_with_interval(images: Images, correction: RecallCorrection,
                         rng: np.random.Generator) -> dict[str, Any]:
    """Face shares per category and their 95 % percentile intervals, resampling images (faces in one image are
    not independent: the same photo, the same lighting); with a measured recall, each resample also draws the
    recall from what it was measured on, so the interval carries that uncertainty too."""
    point = shares(correction.tones(images.cells.sum(axis=0)))
    boot = bootstrap_sums(images, rng)
    boot = correction.tones(boot, correction.draw(rng, len(boot)))
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
    images are shuffled between the two, keeping their sizes. ``group``/``ref``: ``Images`` with recall-weighted
    tone counts per face image; how many of the face images land in the group is hypergeometric, which of them
    uniform: the same shuffle without a row per faceless image."""
    pooled = np.concatenate([group.cells, ref.cells])
    total, faced, size = pooled.sum(0), len(pooled), group.count
    observed = tv_distance(shares(group.cells.sum(0)), shares(ref.cells.sum(0)))
    hits = 0
    for _ in range(rounds):
        k = rng.hypergeometric(faced, group.count + ref.count - faced, size) if faced else 0
        a = pooled[rng.permutation(faced)[:k]].sum(0)
        hits += tv_distance(shares(a), shares(total - a)) >= observed - 1e-12
    return (hits + 1) / (rounds + 1)


def group_row(key: str, images: Images, ref: Images | None, correction: RecallCorrection,
              rng: np.random.Generator) -> dict[str, Any]:
    share = shares(correction.tones(images.cells.sum(axis=0)))
    row = {"group": key, "images": images.count, "images_with_faces": len(images.cells),
           "faces": int(images.cells.sum()), "shares": shares_with_interval(images, correction, rng),
           "effective_categories": round(effective_categories(share), 3)}
    if ref is not None:
        weights = correction.draw(rng, BOOTSTRAP)  # one recall per resample, shared by group and reference
        a = correction.tones(bootstrap_sums(images, rng), weights)
        b = correction.tones(bootstrap_sums(ref, rng), weights)
        both = (a.sum(axis=1) > 0) & (b.sum(axis=1) > 0)
        boot = tv_distance(shares(a[both]), shares(b[both]))
        low, high = (round(float(v), 4) for v in np.percentile(boot, [2.5, 97.5])) if len(boot) else (None, None)
        weighted = [Images(correction.tones(s.cells), s.empty) for s in (images, ref)]
        row |= {"tv": round(float(tv_distance(share, shares(weighted[1].cells.sum(0)))), 4), "tv_low": low,
                "tv_high": high,
                "p_value": round(permutation_p(*weighted, rng), 4) if images.cells.sum() and ref.cells.sum() else None}
    return row


def groups_table(rows: list[dict[str, Any]]) -> pa.Table:
    flat = []
    for row in rows:
        out = {k: v for k, v in row.items() if k != "shares"}
        for name, cell in row["shares"].items():
            out |= {f"{name}": cell["share"], f"{name}_low": cell["low"], f"{name}_high": cell["high"]}
        flat.append(out)
    return pa.Table.from_pylist(flat)
