"""Default descriptor: frozen EfficientNet-Lite0 (ImageNet) feature maps → pooled regions → PCA-whitening.

The backbone is the detector's ONNX file (block 14, 192 channels, stride 32; see ``genscope.train.backbone``),
so the package ships no second network, only ``whitening.npz`` (150 KB). Per image:

1. flat borders are trimmed (padding, letterboxing, meme frames);
2. at two scales (longer side 224 and 320) the map of the image and of its mirror image (flipped back) are
   averaged, so the descriptor cannot tell an image from its mirror (``FAST``, dedup's default: the 224 px
   scale only, never upscaled: about 1/3 of the network cost, 1/6 on a 160 px thumbnail; ``Mode``);
3. each region's map is mean-pooled (the block output is a signed linear bottleneck, where mean pooling
   beat GeM p=3 and max pooling on the copy benchmark), the two scales' L2-normalised vectors are averaged;
4. PCA-whitening fitted on unlabelled images and edited copies of them (see ``fit.py``), then L2
   normalisation, so the inner product is the cosine similarity.

The global descriptor is region ``(0, 0, 1, 1)``. ``regions()`` also returns descriptors of overlapping
windows, for queries whose copied content fills only part of the frame (a crop pasted into a larger image).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image

from genscope.models.descriptor.preprocess import resized, trim_borders

HERE = Path(__file__).parent
BACKBONE = HERE.parent / "detector" / "weights" / "fast" / "backbone.onnx"
WHITENING = HERE / "whitening.npz"
SCALES = (224, 320)
# images of one shape per network call (twice that with the mirror images): on 160×120 JPEGs (measured without
# the mirrors), 2.5 ms per image at 4 against 3.3 at 1 and 3.1 at 16 (larger batches fall out of cache)
BATCH = 4
Box = tuple[float, float, float, float]  # x0, y0, x1, y1 as fractions of the (border-trimmed) image
FULL: Box = (0.0, 0.0, 1.0, 1.0)


def window_boxes(sizes: tuple[float, ...] = (0.5, 0.7), steps: int = 3) -> list[Box]:
    """The whole image, then ``steps × steps`` overlapping windows per relative size."""
    boxes: list[Box] = [FULL]
    for size in sizes:
        starts = np.linspace(0.0, 1.0 - size, steps)
        boxes += [(float(x), float(y), float(x + size), float(y + size)) for y in starts for x in starts]
    return boxes


REGIONS = window_boxes()


def l2(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


@cache
def backbone_sha256() -> str:
    return hashlib.sha256(BACKBONE.read_bytes()).hexdigest()


@dataclass(frozen=True)
class Mode:
    """How the backbone sees an image: at which scales (longer side, px), and whether a smaller image is
    upscaled to the scale. Each mode is its own descriptor version."""

    scales: tuple[int, ...] = SCALES
    upscale: bool = True

    def side(self, image: Image.Image, longer: int) -> int:
        return longer if self.upscale else min(longer, max(image.size))


FULL_MODE = Mode()
# dedup's default: ORB verifies the borderline band, so the descriptor mostly ranks candidates (thresholds of
# its own: dedup_pairs.FAST_RULE). The mirror pass stays: without it the grouping guard refused flipped copies
# (flip recall 13/50 on the held-out benchmark, pair recall 0.85)
FAST = Mode(scales=(224,), upscale=False)


class Lite0Features:
    """Raw (unwhitened) pooled features; shared by inference and by the whitening fit."""

    def __init__(self, threads: int | None = None, mode: Mode = FULL_MODE) -> None:
        from genscope.models.detector.features import make_session

        self.session = make_session(BACKBONE, threads)
        self.mode = mode

    def _run(self, arrays: list[np.ndarray]) -> np.ndarray:
        """``(n, C, h, w)`` maps of same-shape ``(h, w, 3)`` arrays, each averaged with its mirror image's
        (flipped back)."""
        batch = np.stack(arrays)
        batch = np.concatenate([batch, batch[:, :, ::-1]]).transpose(0, 3, 1, 2).astype(np.float32)
        (fmap,) = self.session.run(["fmap"], {"input": batch})
        n = len(arrays)
        return (fmap[:n] + fmap[n:, :, :, ::-1]) / 2

    def maps(self, image: Image.Image) -> tuple[list[np.ndarray], Box]:
        """Per scale, the ``(C, h, w)`` map of the border-trimmed image averaged with its mirror's; and the box
        kept by the trim (fractions of ``image``)."""
        image, kept = trim_borders(image)
        return [self._run([resized(image, self.mode.side(image, longer))])[0] for longer in self.mode.scales], kept

    def global_pooled(self, images: list[Image.Image]) -> np.ndarray:
        """``(n, C)``: what ``pooled(image, [FULL])`` gives, with images of one shape batched per call."""
        trimmed = [trim_borders(image)[0] for image in images]
        total = 0.0
        for longer in self.mode.scales:
            arrays = [resized(image, self.mode.side(image, longer)) for image in trimmed]
            by_shape: dict[tuple[int, ...], list[int]] = {}
            for i, x in enumerate(arrays):
                by_shape.setdefault(x.shape, []).append(i)
            pooled: list[np.ndarray] = [np.empty(0)] * len(arrays)
            for rows in by_shape.values():
                for start in range(0, len(rows), BATCH):
                    chunk = rows[start:start + BATCH]
                    for i, mean in zip(chunk, self._run([arrays[i] for i in chunk]).mean(axis=(2, 3)), strict=True):
                        pooled[i] = mean
            total = total + l2(np.stack(pooled))
        return l2(total)

    def pooled(self, image: Image.Image, boxes: list[Box]) -> tuple[np.ndarray, Box]:
        """``(len(boxes), C)``: each box (fractions of the trimmed image) mean-pooled per scale,
        L2-normalised, averaged over scales; and the trim box."""
        maps, kept = self.maps(image)
        return l2(sum(l2(pool(fmap, boxes)) for fmap in maps)), kept


def pool(fmap: np.ndarray, boxes: list[Box]) -> np.ndarray:
    _, h, w = fmap.shape
    rows = []
    for x0, y0, x1, y1 in boxes:
        r0, c0 = min(int(y0 * h), h - 1), min(int(x0 * w), w - 1)
        r1, c1 = max(r0 + 1, round(y1 * h)), max(c0 + 1, round(x1 * w))
        rows.append(fmap[:, r0:r1, c0:c1].mean(axis=(1, 2)))
    return np.stack(rows)


class Whitening:
    """``y = l2((x - mean) @ proj)``; ``proj`` comes from ``fit.py``."""

    def __init__(self, mean: np.ndarray, proj: np.ndarray, backbone: str = "") -> None:
        self.mean, self.proj, self.backbone = mean.astype(np.float32), proj.astype(np.float32), backbone

    @classmethod
    def load(cls, path: Path = WHITENING) -> Whitening:
        with np.load(path) as z:
            backbone = str(z["backbone_sha256"])
            if backbone != backbone_sha256():
                raise ValueError(f"{path} was fitted on another backbone.onnx; refit it with "
                                 "`python -m genscope.train.descriptor_whitening`")
            return cls(z["mean"], z["proj"], backbone)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return l2((x - self.mean) @ self.proj).astype(np.float32)


class Lite0Descriptor:
    dim = 0  # set from the whitening file

    def __init__(self, threads: int | None = None, whitening: str | Path | None = None, fast: bool = False) -> None:
        """``fast``: the ``FAST`` mode (dedup's default), a descriptor of its own name and version."""
        self.name = "lite0-fast-mean-pcaw" if fast else "lite0-mean-pcaw"
        self.features = Lite0Features(threads, FAST if fast else FULL_MODE)
        self.whiten = Whitening.load(Path(whitening) if whitening else WHITENING)
        self.dim = self.whiten.proj.shape[1]
        self.version = f"{self.name}:{self.whiten.backbone[:8]}"

    def embed(self, images: list[Image.Image]) -> np.ndarray:
        """``(n, dim)`` global descriptors."""
        if not images:
            return np.zeros((0, self.dim), np.float32)
        return self.whiten(self.features.global_pooled(images))

    def regions(self, image: Image.Image) -> tuple[np.ndarray, Box]:
        """``(len(REGIONS), dim)`` descriptors, the global one first, then the windows (one backbone pass);
        and the trim box that ``REGIONS`` are relative to (see ``region_box``)."""
        pooled, kept = self.features.pooled(image, REGIONS)
        return self.whiten(pooled), kept


def region_box(region: int, kept: Box) -> Box:
    """Window ``region`` of ``REGIONS`` as fractions of the original image, given the trim box."""
    x0, y0, x1, y1 = REGIONS[region]
    kx0, ky0, kx1, ky1 = kept
    w, h = kx1 - kx0, ky1 - ky0
    return (kx0 + x0 * w, ky0 + y0 * h, kx0 + x1 * w, ky0 + y1 * h)
