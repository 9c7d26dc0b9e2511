"""Copy-detection benchmark: micro-AP and recall@1 per transform, default descriptor vs 64-bit pHash.

    nice -n 10 .venv/bin/python benchmarks/copy_detection.py --out benchmarks/results/copy_detection

Built from ``../shared/data/detect``: the ``val`` images (never seen when the whitening was fitted on
``train``) are split at random into *originals* (in the reference set) and *outsiders* (not in it).
Every transform in ``copy_transforms.TRANSFORMS`` is applied to every original (a positive query) and to
every outsider (a negative query: its best match is always wrong). The reference set is the originals
plus every ``train`` image as a distractor. Each query's top-10 references are scored; micro-AP pools
those predictions over all queries of a transform and ranks them by similarity (DISC21 style), so it
also measures whether one global threshold separates copies from non-copies. recall@1 counts positive
queries whose best match is their original. ``descriptor`` ranks by cosine (the best of the whole query
and its windows, as ``genscope replicate`` does), ``descriptor_score`` by the per-query normalised score
(cosine minus the query's 5th-best cosine), ``fused`` by that plus 1 for a top-10 candidate within 10 bits
of pHash, ``genscope`` by the ``score`` of ``matches.parquet`` from genscope's own default pipeline (that,
plus ORB keypoint votes and verification: see ``copy_pipeline.py``), ``phash`` by 1 − Hamming/64 alone.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parent))
from copy_pipeline import Pipeline
from copy_transforms import TRANSFORMS

from genscope.analyses.replication import DEFAULT_K, NORM_RANK, PHASH_MATCH
from genscope.models.descriptor import load_descriptor
from genscope.signals.phash import phash

TOP_K = 10
EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp"}


def images_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in EXTENSIONS)


def load(path: Path, longest: int = 640) -> Image.Image:
    """RGB, at most ``longest`` px (keeps the benchmark's memory and time modest)."""
    with Image.open(path) as im:
        image = ImageOps.exif_transpose(im).convert("RGB")
    image.thumbnail((longest, longest))
    return image


@dataclass
class Benchmark:
    refs: list[Image.Image]  # originals first, then distractors
    n_originals: int
    outsiders: list[Image.Image]
    seed: int

    def queries(self, t: int, transform) -> tuple[list[Image.Image], np.ndarray]:
        """Transform ``t`` applied to every original (truth: its index) and every outsider (truth: -1);
        pasted copies land on an outsider's picture, so the canvas never matches a reference."""
        rng = random.Random(self.seed * 1000 + t)
        out = self.outsiders
        images = [transform(self.refs[i], rng, out[rng.randrange(len(out))]) for i in range(self.n_originals)]
        images += [transform(im, rng, out[(j + 1) % len(out)]) for j, im in enumerate(out)]
        return images, np.array([*range(self.n_originals), *[-1] * len(out)])


def build(data: Path, n_originals: int, seed: int) -> Benchmark:
    val = images_under(data / "val")
    random.Random(seed).shuffle(val)
    refs = [load(p) for p in val[:n_originals] + images_under(data / "train")]
    return Benchmark(refs, n_originals, [load(p) for p in val[n_originals:]], seed)


def normalised(similarity: np.ndarray, rank: int = NORM_RANK) -> np.ndarray:
    """Each row minus its ``rank``-th largest value, as ``matches.parquet``'s ``score``."""
    return similarity - -np.partition(-similarity, rank - 1, axis=1)[:, rank - 1:rank]


def fused(score: np.ndarray, hamming_sim: np.ndarray, top: int = TOP_K) -> np.ndarray:
    """``score`` + 1 where a top-``top`` candidate is within ``PHASH_MATCH`` bits of pHash, as ``replicate`` does."""
    in_top = score >= -np.partition(-score, top - 1, axis=1)[:, top - 1:top]
    return score + ((hamming_sim >= 1 - PHASH_MATCH / 64) & in_top)


def micro_ap(scores: np.ndarray, correct: np.ndarray, n_positive: int) -> float:
    """Average precision of all predictions ranked together; recall counts positive queries."""
    order = np.argsort(-scores, kind="stable")
    hits = correct[order].astype(np.float64)
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float((precision * hits).sum() / max(n_positive, 1))


def evaluate(similarity: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """``similarity``: (queries, refs); ``truth``: the true ref index per query or -1."""
    k = min(TOP_K, similarity.shape[1])
    top = np.argsort(-similarity, axis=1)[:, :k]
    scores = np.take_along_axis(similarity, top, axis=1)
    correct = top == truth[:, None]
    positive = truth >= 0
    return {"micro_ap": round(micro_ap(scores.ravel(), correct.ravel(), int(positive.sum())), 4),
            "recall_at_1": round(float(correct[positive, 0].mean()), 4)}


def phash_similarity(queries: list[Image.Image], refs: np.ndarray) -> np.ndarray:
    q = np.array([phash(im) for im in queries], dtype=np.uint64)
    xor = q[:, None] ^ refs[None, :]
    bits = np.unpackbits(xor.view(np.uint8).reshape(len(q), len(refs), 8), axis=2).sum(axis=2)
    return 1.0 - bits / 64.0


def arguments(doc: str, out: str) -> argparse.Namespace:
    """The options both copy benchmarks take; ``out`` is the default results folder."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/detect")
    p.add_argument("--out", type=Path, default=Path(out))
    p.add_argument("--originals", type=int, default=90)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--backend", default="lite0", help="descriptor backend (lite0, sscd, sscd_distilled)")
    p.add_argument("--threads", type=int, default=1)
    return p.parse_args()


def pool_all(results: dict, pooled: dict, truths: list[np.ndarray]) -> np.ndarray:
    """Add each method's ``all`` row (every transform's queries pooled); return the pooled truth."""
    truth_all = np.concatenate(truths)
    for method, rows in results.items():
        rows["all"] = evaluate(np.concatenate(pooled[method]), truth_all)
    return truth_all


def run_facts(args: argparse.Namespace, descriptor, bench, truths: list[np.ndarray]) -> dict:
    """The head of both benchmarks' metrics JSON: descriptor, reference and query counts."""
    return {"descriptor": {"backend": args.backend, "name": descriptor.name, "version": descriptor.version,
                           "dim": descriptor.dim, "windows": hasattr(descriptor, "regions")},
            "references": len(bench.refs), "originals": args.originals, "queries_per_transform": len(truths[0])}


def main() -> int:
    args = arguments(__doc__, "benchmarks/results/copy_detection")

    started = time.time()
    bench = build(args.data, args.originals, args.seed)
    descriptor = load_descriptor(args.backend, threads=args.threads)
    t0 = time.time()
    pipeline = Pipeline(descriptor, bench.refs, threads=args.threads)
    ref_hash = np.array([phash(im) for im in bench.refs], dtype=np.uint64)
    n_embedded = len(bench.refs)
    results: dict[str, dict[str, dict[str, float]]] = {m: {} for m in ("descriptor", "descriptor_score", "fused",
                                                                         "genscope", "phash")}
    pooled: dict[str, list[np.ndarray]] = {name: [] for name in results}
    truths = []
    for t, (name, transform) in enumerate(TRANSFORMS.items()):
        images, truth = bench.queries(t, transform)
        cosine, full, _ = pipeline.scores(images)
        hamming_sim = phash_similarity(images, ref_hash)
        sims = {"descriptor": cosine, "descriptor_score": normalised(cosine),
                "fused": fused(normalised(cosine), hamming_sim), "genscope": full, "phash": hamming_sim}
        n_embedded += len(images)
        for method, sim in sims.items():
            results[method][name] = evaluate(sim, truth)
            pooled[method].append(sim)
        truths.append(truth)
        print(name, {m: r[name] for m, r in results.items()}, flush=True)
    embed_s = time.time() - t0
    truth_all = pool_all(results, pooled, truths)
    summary = {
        **run_facts(args, descriptor, bench, truths),
        "positive_queries_per_transform": args.originals,
        "results": results,
        "precision_at_threshold": precision_at_thresholds(np.concatenate(pooled["descriptor"]), truth_all),
        "precision_at_threshold_with_phash_rule": precision_at_thresholds(
            np.concatenate(pooled["descriptor"]), truth_all, np.concatenate(pooled["phash"])),
        "images_per_s_descriptor_phash_keypoints": round(n_embedded / embed_s, 1),
        "threads": args.threads,
        "wall_s": round(time.time() - started, 1),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"metrics-{args.backend}.json").write_text(json.dumps(summary, indent=2) + "\n")
    print({method: r["all"] for method, r in results.items()})
    print(args.out / f"metrics-{args.backend}.json")
    return 0


def precision_at_thresholds(similarity: np.ndarray, truth: np.ndarray,
                            hamming_sim: np.ndarray | None = None) -> list[dict[str, float]]:
    """At each threshold: of the queries called copies, the share matched to their true original (precision),
    and the share of positive queries called copies of their original (recall). A query is a copy when its
    top-1 similarity exceeds the threshold; with ``hamming_sim``, also (as ``genscope replicate`` decides)
    when a top-``DEFAULT_K`` candidate is within ``PHASH_MATCH`` bits, that candidate being its match."""
    rows_idx = np.arange(len(similarity))
    best = similarity.argmax(axis=1)
    score = similarity[rows_idx, best]
    phash_hit = np.zeros(len(best), bool)
    if hamming_sim is not None:
        top = np.argsort(-similarity, axis=1)[:, :DEFAULT_K]
        close = np.take_along_axis(hamming_sim, top, axis=1) >= 1 - PHASH_MATCH / 64
        phash_hit = close.any(axis=1)
        best = np.where(phash_hit, top[rows_idx, close.argmax(axis=1)], best)
    correct = best == truth
    rows = []
    for threshold in np.round(np.arange(0.3, 0.96, 0.05), 2):
        above = (score > threshold) | phash_hit
        rows.append({"threshold": float(threshold),
                     "precision": round(float(correct[above].mean()), 4) if above.any() else None,
                     "recall": round(float((correct & above).sum() / max((truth >= 0).sum(), 1)), 4),
                     "share_above": round(float(above.mean()), 4)})
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
