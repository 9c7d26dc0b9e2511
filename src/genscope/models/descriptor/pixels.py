"""Images → one uint8 batch for a descriptor network: resized (squashed, or shorter side) and centre-cropped."""

from __future__ import annotations

import numpy as np
from PIL import Image


def pixels(images: list[Image.Image], resize: int | tuple[int, int], crop: tuple[int, int] | None = None,
           resample: Image.Resampling = Image.Resampling.BILINEAR) -> np.ndarray:
    """``(n, h, w, 3)`` uint8. ``resize``: ``(width, height)`` to squash to, or the shorter side's length
    (aspect kept, as Hugging Face image processors' ``shortest_edge``); then the centre ``crop`` (width, height)
    if given. Every image must come out the same size, so give ``crop`` when ``resize`` is a side length."""
    return np.stack([_one(im.convert("RGB"), resize, crop, resample) for im in images])


def _one(image: Image.Image, resize: int | tuple[int, int], crop: tuple[int, int] | None,
         resample: Image.Resampling) -> np.ndarray:
    if isinstance(resize, int):
        shorter = max(resize, *(crop or (0, 0)))  # never smaller than the crop
        scale = shorter / min(image.size)
        size = (max(shorter, int(image.width * scale)), max(shorter, int(image.height * scale)))
    else:
        size = resize
    image = image.resize(size, resample)
    if crop is not None and crop != image.size:
        left, top = (image.width - crop[0]) // 2, (image.height - crop[1]) // 2
        image = image.crop((left, top, left + crop[0], top + crop[1]))
    return np.asarray(image)


def squares(images: list[Image.Image], size: int) -> np.ndarray:
    """``(n, size, size, 3)`` uint8: each image squashed to a square (SSCD's own evaluation does the same)."""
    return pixels(images, (size, size))
