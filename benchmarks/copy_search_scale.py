"""Search at scale: 10k queries against 1M reference descriptors, FAISS vs brute-force NumPy, and dedup of 100k.

    nice -n 10 .venv/bin/python benchmarks/copy_search_scale.py --out benchmarks/results/copy_search_scale

Synthetic L2-normalised vectors with the default descriptor's dimension, clustered (2,000 centres) so
that neighbours are not all equally far; queries are noisy copies of random references. Times are wall
clock on this machine (2 cores, shared); peak RSS is the whole process (vectors included).
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np

from genscope.index import DescriptorIndex
from genscope.signals.descriptor import LITE0_DIM


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def synthetic(n: int, dim: int, rng: np.random.Generator, centres: int = 2000) -> np.ndarray:
    means = unit(rng.standard_normal((centres, dim), dtype=np.float32))
    out = np.empty((n, dim), np.float32)
    for start in range(0, n, 100_000):  # in blocks: never a second n × dim temporary
        stop = min(n, start + 100_000)
        noise = rng.standard_normal((stop - start, dim), dtype=np.float32) * 0.08
        out[start:stop] = unit(means[rng.integers(0, centres, stop - start)] + noise)
    return out


def numpy_topk(queries: np.ndarray, refs: np.ndarray, k: int, chunk: int = 256) -> np.ndarray:
    """Brute force in chunks of queries (a full 10k × 1M matrix would be 40 GB)."""
    rows = np.empty((len(queries), k), np.int64)
    for start in range(0, len(queries), chunk):
        sims = queries[start:start + chunk] @ refs.T
        part = np.argpartition(-sims, k, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(sims, part, axis=1), axis=1)
        rows[start:start + chunk] = np.take_along_axis(part, order, axis=1)
    return rows


def peak_rss_gb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2)


def timed(fn):
    t = time.perf_counter()
    value = fn()
    return value, round(time.perf_counter() - t, 2)


def faiss_run(refs: np.ndarray, queries: np.ndarray, k: int, kind: str) -> tuple[np.ndarray, dict]:
    index, build_s = timed(lambda: DescriptorIndex.build(refs, [""] * len(refs), kind=kind, nprobe=16))
    (_, rows), search_s = timed(lambda: index.search(queries, k))
    return rows, {"factory": index.meta["factory"], "build_s": build_s, "search_s": search_s,
                  "queries_per_s": round(len(queries) / search_s, 1)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--refs", type=int, default=1_000_000)
    p.add_argument("--queries", type=int, default=10_000)
    p.add_argument("--dedup", type=int, default=100_000)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--dim", type=int, default=LITE0_DIM)
    p.add_argument("--numpy-queries", type=int, default=2_000, help="brute force on a subset, scaled up")
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/copy_search_scale"))
    args = p.parse_args()
    rng = np.random.default_rng(0)
    refs = synthetic(args.refs, args.dim, rng)
    picks = rng.integers(0, args.refs, args.queries)
    queries = unit(refs[picks] + rng.standard_normal((args.queries, args.dim), dtype=np.float32) * 0.02)
    result: dict = {"refs": args.refs, "queries": args.queries, "dim": args.dim, "k": args.k}

    rows, result["flat"] = faiss_run(refs, queries, args.k, "flat")
    result["flat"]["recall_at_1_of_source"] = round(float((rows[:, 0] == picks).mean()), 4)
    sub = queries[:args.numpy_queries]
    np_rows, np_s = timed(lambda: numpy_topk(sub, refs, args.k))
    result["numpy"] = {"search_s_estimated_for_all_queries": round(np_s * args.queries / len(sub), 1),
                       "queries_timed": len(sub),
                       "top1_agrees_with_flat": round(float((np_rows[:, 0] == rows[:len(sub), 0]).mean()), 4)}
    for kind in ("ivf", "ivfpq"):
        approx, result[kind] = faiss_run(refs, queries, args.k, kind)
        result[kind]["top1_agrees_with_flat"] = round(float((approx[:, 0] == rows[:, 0]).mean()), 4)
    dd = refs[:args.dedup]
    dd_index = DescriptorIndex.build(dd, [""] * len(dd), kind="flat")
    (pairs_q, _, _), result["dedup_range_search_s"] = timed(lambda: dd_index.range_pairs(dd, 0.95))
    result["dedup_vectors"] = len(dd)
    result["dedup_pairs_at_0.95"] = int(len(pairs_q) - len(dd))
    result["peak_rss_gb"] = peak_rss_gb()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "metrics.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
