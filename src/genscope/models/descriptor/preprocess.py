"""Image → arrays for the descriptor: flat borders trimmed, resized so the longer side is a given size."""

from __future__ import annotations

import numpy as np
from PIL import Image

FLAT_STD = 6.0  # grey-level spread below which an edge row/column counts as padding
MAX_TRIM = 0.35  # never trim more than this share of a side: a flat sky is not a border


def trim_borders(image: Image.Image) -> tuple[Image.Image, tuple[float, float, float, float]]:
    """Drop uniform bands at the edges (letterboxing, padding, meme frames), keeping at least 30% per axis.
    Also returns the kept box as fractions of the input (x0, y0, x1, y1)."""
    grey = np.asarray(image.convert("L"), dtype=np.float32)
    rows = _flat_run(grey, grey.std(axis=1), grey.mean(axis=1))
    cols = _flat_run(grey.T, grey.std(axis=0), grey.mean(axis=0))
    top, bottom = rows
    left, right = cols
    box = (left / image.width, top / image.height, 1 - right / image.width, 1 - bottom / image.height)
    if top == bottom == left == right == 0:
        return image, box
    return image.crop((left, top, image.width - right, image.height - bottom)), box


def _flat_run(grey: np.ndarray, std: np.ndarray, mean: np.ndarray) -> tuple[int, int]:
    limit = int(len(std) * MAX_TRIM)

    def run(order: np.ndarray) -> int:
        n = 0
        for i in order[:limit]:
            if std[i] > FLAT_STD or abs(mean[i] - mean[order[0]]) > FLAT_STD:
                break
            n += 1
        return n

    index = np.arange(len(std))
    return run(index), run(index[::-1])


def resized(image: Image.Image, longer: int) -> np.ndarray:
    """``(h, w, 3)`` uint8 with ``max(h, w) == longer`` (aspect kept, at least 32 px on the short side)."""
    scale = longer / max(image.size)
    size = (max(32, round(image.width * scale)), max(32, round(image.height * scale)))
    return np.asarray(image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0))
