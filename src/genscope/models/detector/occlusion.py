"""Occlusion sensitivity: where a model looked, for models whose gradients are not available.

Grey out one cell of a grid at a time and record how much the generated-logit drops; cells whose
removal lowers the logit most are where the evidence is. Model-agnostic and honest for a ViT on ONNX
Runtime (no autograd), at the price of ``grid**2`` extra forwards (49 for the default 7 × 7).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
from PIL import Image


def occlusion_map(view: np.ndarray, logits: Callable[[np.ndarray], np.ndarray], grid: int = 7) -> np.ndarray:
    """Heat in [0, 1] over an ``(S, S, 3)`` uint8 view; ``logits`` maps ``(n, S, S, 3)`` views to ``(n,)``."""
    side = view.shape[0]
    edges = np.linspace(0, side, grid + 1).round().astype(int)
    fill = view.reshape(-1, 3).mean(axis=0).astype(np.uint8)  # the view's mean colour: no new edges or hues
    masked = []
    for y0, y1 in itertools.pairwise(edges):
        for x0, x1 in itertools.pairwise(edges):
            v = view.copy()
            v[y0:y1, x0:x1] = fill
            masked.append(v)
    base = float(logits(view[None])[0])
    drop = np.maximum(base - logits(np.stack(masked)), 0).reshape(grid, grid)
    # bicubic up-sampling of the cell grid: a smooth map without tile seams
    heat = np.asarray(Image.fromarray(drop.astype(np.float32)).resize((side, side), Image.Resampling.BICUBIC))
    heat = np.maximum(heat, 0)
    return heat / heat.max() if heat.max() > 0 else heat
