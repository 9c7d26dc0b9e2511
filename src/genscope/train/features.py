"""Extract (once) and cache the features of ``k`` augmented windows per training image."""

from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from genscope.models.detector.crops import CROP
from genscope.models.detector.features import FeatureExtractor
from genscope.train.augment import random_window
from genscope.train.data import Row

CACHE_VERSION = "5"  # bump when the augmentation or the features change


def load_rgb(path: Path) -> Image.Image:
    """Decode the first frame, apply EXIF orientation, drop metadata by converting to RGB."""
    with Image.open(path) as im:
        im.seek(0)
        return ImageOps.exif_transpose(im).convert("RGB")


def augmented_features(rows: list[Row], extractor: FeatureExtractor, onnx_path: Path, k: int, seed: int,
                       cache_dir: Path | None) -> np.ndarray:
    """``(len(rows), k, D)`` features; row ``i`` uses the seed ``(seed, i)`` so results don't depend on order
    of extraction, and the cache key covers the rows, ``k``, the seed and the backbone bytes."""
    key = hashlib.sha256(f"{CACHE_VERSION}:{CROP}:{k}:{seed}".encode())
    key.update(hashlib.sha256(onnx_path.read_bytes()).digest())
    for r in rows:
        key.update(f"{r.path}:{r.label}\n".encode())
    cache = cache_dir / f"feats-{key.hexdigest()[:16]}.npy" if cache_dir else None
    if cache and cache.exists():
        return np.load(cache)
    out, start = [], time.time()
    for i, row in enumerate(rows):
        rng = np.random.default_rng([seed, i])
        img = load_rgb(row.path)
        windows = np.stack([random_window(img, rng) for _ in range(k)])
        out.append(extractor(windows))
        if (i + 1) % 50 == 0 or i + 1 == len(rows):
            print(f"  features {i + 1}/{len(rows)} images, {time.time() - start:.0f} s", file=sys.stderr)
    feats = np.stack(out)
    if cache:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, feats)
    return feats
