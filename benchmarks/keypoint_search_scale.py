"""Keypoint voting at scale: FAISS binary index of reference ORB codes, exact (flat) vs inverted lists.

    nice -n 10 .venv/bin/python benchmarks/keypoint_search_scale.py --refs 100000 --queries 200

Synthetic 256-bit codes, clustered (each code is one of 50,000 centres with 15% of its bits flipped, so that
near neighbours exist as with real ORB codes); each reference has ``VOTE_KEYPOINTS`` codes in the index, each
query ``QUERY_KEYPOINTS`` codes of which ``VOTE_KEYPOINTS`` are its source reference's codes with 5% of the
bits flipped (copied content). Reports build time, seconds per query of ``KeypointIndex.vote`` and how often the source
gets the most votes. Times are wall clock on this shared 2-core machine; peak RSS is the whole process.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np

from genscope import keypoint_index
from genscope.index.keypoints import VOTE_KEYPOINTS, KeypointIndex
from genscope.models.descriptor.local import CODE_BYTES, QUERY_KEYPOINTS, Keypoints, KeypointSet


def flip(codes: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    bits = np.unpackbits(codes, axis=1)
    bits ^= (rng.random(bits.shape) < share).astype(np.uint8)
    return np.packbits(bits, axis=1)


def synthetic_refs(n: int, rng: np.random.Generator, centres: np.ndarray) -> KeypointSet:
    total = n * VOTE_KEYPOINTS
    codes = np.empty((total, CODE_BYTES), np.uint8)
    for start in range(0, total, 1_000_000):  # in blocks: the unpacked bits are 8× larger
        stop = min(total, start + 1_000_000)
        codes[start:stop] = flip(centres[rng.integers(0, len(centres), stop - start)], 0.15, rng)
    offsets = np.arange(n + 1, dtype=np.int64) * VOTE_KEYPOINTS
    return KeypointSet(offsets, np.zeros((total, 2), np.float32), codes, np.ones(n, bool))


def run(refs: KeypointSet, queries: list[Keypoints], sources: np.ndarray, ivf: bool) -> dict:
    keypoint_index.AUTO_IVF = 0 if ivf else 10**12  # force the kind measured
    t = time.perf_counter()
    index = KeypointIndex.build(refs)
    build_s = time.perf_counter() - t
    t = time.perf_counter()
    top = [index.vote(q, top=10) for q in queries]
    search_s = time.perf_counter() - t
    found = np.mean([bool(v) and v[0][0] == s for v, s in zip(top, sources, strict=True)])
    return {"kind": type(index.index).__name__, "build_s": round(build_s, 1),
            "s_per_query": round(search_s / len(queries), 4), "source_top1": round(float(found), 4)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--refs", type=int, default=100_000)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--flat", action="store_true", help="also time the exact flat index (slow beyond ~20k refs)")
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/copy_search_scale"))
    args = p.parse_args()
    rng = np.random.default_rng(0)
    centres = rng.integers(0, 256, (50_000, CODE_BYTES), dtype=np.uint8)
    refs = synthetic_refs(args.refs, rng, centres)
    sources = rng.integers(0, args.refs, args.queries)
    queries = []
    for s in sources:
        own = flip(refs.codes[refs.offsets[s]:refs.offsets[s + 1]], 0.05, rng)
        other = flip(centres[rng.integers(0, len(centres), QUERY_KEYPOINTS - len(own))], 0.15, rng)
        queries.append(Keypoints(np.zeros((QUERY_KEYPOINTS, 2), np.float32), np.concatenate([own, other])))
    result = {"refs": args.refs, "codes_indexed": len(refs.codes), "queries": args.queries,
              "query_codes": QUERY_KEYPOINTS, "ivf": run(refs, queries, sources, ivf=True)}
    if args.flat:
        result["flat"] = run(refs, queries, sources, ivf=False)
    result["peak_rss_gb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"keypoints-{args.refs}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
