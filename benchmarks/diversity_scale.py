"""Precision/recall/density/coverage at scale, against a brute-force NumPy baseline.

    python benchmarks/diversity_scale.py                 # 100k vs 100k, 256-d; baseline on 10k
    python benchmarks/diversity_scale.py --n 20000 --baseline 5000

Vectors are synthetic (clustered, L2-normalised, like descriptor embeddings); the generated set
covers only some of the real clusters, so recall falls below precision. Peak RSS is this process's.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np

from genscope.analyses.diversity import prdc


def clustered(rng: np.random.Generator, n: int, centres: np.ndarray, spread: float) -> np.ndarray:
    points = centres[rng.integers(0, len(centres), n)] + rng.normal(0, spread, (n, centres.shape[1]))
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)


def brute_force(real: np.ndarray, fake: np.ndarray, k: int = 5) -> tuple[float, float, float, float]:
    """The textbook version: full distance matrices in memory."""
    def dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.sqrt(np.maximum((a * a).sum(1)[:, None] + (b * b).sum(1)[None] - 2 * a @ b.T, 0))

    d_rr, d_ff, d_fr = dist(real, real), dist(fake, fake), dist(fake, real)
    r_real = np.sort(d_rr, axis=1)[:, k]
    r_fake = np.sort(d_ff, axis=1)[:, k]
    inside = d_fr <= r_real[None] + 1e-6
    return (float(inside.any(1).mean()), float((d_fr <= r_fake[:, None] + 1e-6).any(0).mean()),
            float(inside.sum() / (k * len(fake))), float(inside.any(0).mean()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--baseline", type=int, default=10_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(500, args.dim))
    real = clustered(rng, args.n, centres, 0.6)
    fake = clustered(rng, args.n, centres[:150], 0.6)  # a narrower generator: 150 of 500 modes

    small_real, small_fake = real[: args.baseline], fake[: args.baseline]
    started = time.perf_counter()
    ours_small = prdc(small_real, small_fake)
    ours_small_s = time.perf_counter() - started
    started = time.perf_counter()
    brute = brute_force(small_real, small_fake)
    brute_s = time.perf_counter() - started
    same = np.allclose([ours_small.precision, ours_small.recall, ours_small.density, ours_small.coverage], brute)
    print(json.dumps({"n": args.baseline, "genscope_s": round(ours_small_s, 2), "brute_force_s": round(brute_s, 2),
                      "ratio_brute_over_genscope": round(brute_s / ours_small_s, 2), "identical": bool(same),
                      "genscope": ours_small.as_dict(), "brute_force": [round(v, 4) for v in brute]}), flush=True)

    started = time.perf_counter()
    result = prdc(real, fake)
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"n": args.n, "dim": args.dim, "seconds": round(elapsed, 1), "peak_rss_mb": round(peak_mb),
                      "result": result.as_dict()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
