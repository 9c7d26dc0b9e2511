"""CLIP embeddings of every training image under a fixed set of views, computed once and cached per file.

Views (each a deterministic function of the file bytes, seeded by their sha256):
- ``raw``: the image as it is;
- ``norm``: the 384 px centre crop re-saved as JPEG q90 4:4:4 (the normalised evaluation condition);
- ``aug0``, ``aug1``: the debiasing pipeline of ``train.augment`` (JPEG/WebP re-encode, down-scale), so the
  head learns that container and compression say nothing about the label.
For a detail model each view also gives its ``detail_view`` (the centre at twice the magnification).
The cache key is the file's sha256, so a renamed or moved file is not recomputed, and the encoder's
hash, so another tower never reuses stale vectors.
"""

from __future__ import annotations

import hashlib
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from genscope.models.detector.clip_encoder import FEATURES, ClipEncoder, clip_view, detail_view, feature_dim
from genscope.models.detector.conditions import normalise
from genscope.train.augment import reencode
from genscope.train.features import load_rgb

VIEWS = ("raw", "norm", "aug0", "aug1")
CACHE_VERSION = "3"  # bump when a view or the encoder call changes (2: one view per call; 3: feature blocks)


def augmented(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Re-encode and/or down-scale (0.4–0.95×, 60 % of draws), in a random order."""
    def shrink(im: Image.Image) -> Image.Image:
        if rng.random() >= 0.6:
            return im
        f = float(rng.uniform(0.4, 0.95))
        return im.resize((max(8, round(im.width * f)), max(8, round(im.height * f))), Image.Resampling.BICUBIC)

    return reencode(shrink(img), rng) if rng.random() < 0.5 else shrink(reencode(img, rng))


def shown_images(path: Path, sha256: str) -> dict[str, Image.Image]:
    """The image of each of ``VIEWS`` for one file; the augmentations are seeded by its hash."""
    img = load_rgb(path)
    rng = np.random.default_rng(int.from_bytes(bytes.fromhex(sha256)[:8], "little"))
    return {"raw": img, "norm": normalise(img), "aug0": augmented(img, rng), "aug1": augmented(img, rng)}


def views_of(path: Path, sha256: str, detail: bool = False) -> np.ndarray:
    """``(len(VIEWS), 224, 224, 3)`` uint8 views of one file, or with ``detail`` ``(len(VIEWS), 2, 224, 224, 3)``:
    each view's ``clip_view`` and ``detail_view``, as a detail model reads them."""
    shown = shown_images(path, sha256)
    if detail:
        return np.stack([np.stack([clip_view(shown[v]), detail_view(shown[v])]) for v in VIEWS])
    return np.stack([clip_view(shown[v]) for v in VIEWS])


def encoder_key(onnx_path: Path, features: tuple[str, ...], detail: bool = False) -> str:
    h = hashlib.sha256(f"{CACHE_VERSION}:{','.join(features)}{':detail' if detail else ''}".encode())
    with open(onnx_path, "rb") as f:
        h.update(f.read(1 << 20))  # the first MiB and the size identify the export without hashing 90 MB
    h.update(str(onnx_path.stat().st_size).encode())
    return h.hexdigest()[:12]


def clip_embeddings(paths: list[Path], onnx_path: Path, cache_dir: Path, threads: int | None = None,
                    progress: bool = True, features: tuple[str, ...] = FEATURES, detail: bool = False) -> np.ndarray:
    """``(len(paths), len(VIEWS), D)`` features (``detail``: each view's features, then its detail view's);
    cached as ``cache_dir/<encoder, features, detail>/<sha256>.npy``."""
    folder = cache_dir / encoder_key(onnx_path, features, detail)
    folder.mkdir(parents=True, exist_ok=True)
    out = np.zeros((len(paths), len(VIEWS), feature_dim(features) * (2 if detail else 1)), np.float32)
    todo: list[tuple[int, Path, str]] = []  # hashes, not bytes: thousands of files stay out of memory
    for i, p in enumerate(paths):
        sha = hashlib.sha256(Path(p).read_bytes()).hexdigest()
        if (folder / f"{sha}.npy").exists():
            out[i] = np.load(folder / f"{sha}.npy")
        else:
            todo.append((i, Path(p), sha))
    if not todo:
        return out
    encoder = ClipEncoder(onnx_path, threads, features)
    start = time.time()
    # decoding and augmenting release the GIL; two threads keep the encoder fed
    with ThreadPoolExecutor(2) as pool:
        for n, ((i, _, sha), views) in enumerate(
                zip(todo, pool.map(lambda t: views_of(t[1], t[2], detail), todo), strict=True), 1):
            out[i] = encoder(views)
            np.save(folder / f"{sha}.npy", out[i])
            if progress and (n % 100 == 0 or n == len(todo)):
                print(f"  clip embeddings {n}/{len(todo)}, {time.time() - start:.0f} s", file=sys.stderr, flush=True)
    return out
