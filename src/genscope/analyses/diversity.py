"""Precision, recall, density and coverage of generated images against real ones.

Naeem et al. (ICML 2020) on top of Kynkäänniemi et al. (NeurIPS 2019): each real image owns a
ball reaching its k-th nearest real neighbour. Precision: share of generated images inside some
real ball (realism). Recall: share of real images inside some generated ball (diversity; the
figure Hataya et al. found collapsing). Density: how many real balls hold a generated image, /k.
Coverage: share of real balls holding at least one generated image.

k-NN radii come from FAISS; the ball tests run block by block over exact distances, so memory
stays at ``block × n`` floats and no N×N matrix is ever built.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BLOCK = 512


@dataclass(frozen=True)
class Diversity:
    precision: float
    recall: float
    density: float
    coverage: float
    k: int
    real: int
    generated: int
    outside_real: np.ndarray  # per generated image: inside no real ball

    def as_dict(self) -> dict[str, float | int]:
        return {"precision": round(self.precision, 4), "recall": round(self.recall, 4),
                "density": round(self.density, 4), "coverage": round(self.coverage, 4), "k": self.k,
                "real": self.real, "generated": self.generated}


def knn_radii(points: np.ndarray, k: int) -> np.ndarray:
    """Distance from each point to its k-th nearest other point of the same set."""
    import faiss

    index = faiss.IndexFlatL2(points.shape[1])
    index.add(points)
    squared, _ = index.search(points, k + 1)  # the first neighbour is the point itself
    return np.sqrt(np.maximum(squared[:, k], 0.0))


def _ball_counts(queries: np.ndarray, centres: np.ndarray, radii: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per query: how many balls (centre, radius) contain it; per centre: whether any query is inside."""
    inside_count = np.zeros(len(queries), np.int64)
    hit = np.zeros(len(centres), bool)
    centre_norms = np.einsum("ij,ij->i", centres, centres)
    squared_radii = radii.astype(np.float64) ** 2
    for start in range(0, len(queries), BLOCK):
        block = queries[start:start + BLOCK]
        squared = (np.einsum("ij,ij->i", block, block)[:, None] + centre_norms[None, :]
                   - 2.0 * (block @ centres.T))
        inside = squared <= squared_radii[None, :] + 1e-6
        inside_count[start:start + BLOCK] = inside.sum(axis=1)
        hit |= inside.any(axis=0)
    return inside_count, hit


def prdc(real: np.ndarray, generated: np.ndarray, k: int = 5) -> Diversity:
    real = np.ascontiguousarray(real, dtype=np.float32)
    generated = np.ascontiguousarray(generated, dtype=np.float32)
    if len(real) <= k or len(generated) <= k:
        raise ValueError(f"need more than k={k} real and generated images (got {len(real)} and {len(generated)})")
    real_radii = knn_radii(real, k)
    generated_radii = knn_radii(generated, k)
    in_real_balls, real_covered = _ball_counts(generated, real, real_radii)
    real_in_generated_balls, _ = _ball_counts(real, generated, generated_radii)
    return Diversity(
        precision=float((in_real_balls > 0).mean()),
        recall=float((real_in_generated_balls > 0).mean()),
        density=float(in_real_balls.sum() / (k * len(generated))),
        coverage=float(real_covered.mean()),
        k=k, real=len(real), generated=len(generated),
        outside_real=in_real_balls == 0,
    )
