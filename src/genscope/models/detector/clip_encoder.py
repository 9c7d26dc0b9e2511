"""Image → CLIP ViT-B/16 image embedding, identical in training and inference.

The tower is the int8 ONNX export fetched by ``genscope models fetch`` (``models/registry.py``). CLIP's
own preprocessing: shortest side resized to 224 (bicubic), centre crop, CLIP mean/std. A probe on these
embeddings generalises across generators because CLIP learned content, not one generator's traces
(UniversalFakeDetect, Ojha et al., CVPR 2023); the resize is therefore no loss here, unlike for the
fast model's native-resolution windows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from genscope.models.detector.crops import window_origins
from genscope.models.detector.features import make_session

SIDE = 224
MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)


def scaled_size(size: tuple[int, int], side: int = SIDE) -> tuple[int, int]:
    """The size of an image whose shortest side is resized to ``side``."""
    w, h = size
    scale = side / min(w, h)
    return max(side, round(w * scale)), max(side, round(h * scale))


def shortest_side_to(image: Image.Image, side: int = SIDE) -> Image.Image:
    """The RGB image with its shortest side resized to ``side`` (bicubic)."""
    # reducing_gap: a box pre-shrink before the bicubic pass, ~3x faster on large photos, same result to 1 level
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    return rgb.resize(scaled_size(image.size, side), Image.Resampling.BICUBIC, reducing_gap=3.0)


def clip_view(image: Image.Image, side: int = SIDE) -> np.ndarray:
    """The ``(side, side, 3)`` uint8 view CLIP sees: shortest side to ``side``, centre crop."""
    resized = shortest_side_to(image, side)
    x0, y0 = (resized.width - side) // 2, (resized.height - side) // 2
    return np.asarray(resized.crop((x0, y0, x0 + side, y0 + side)))


def detail_view(image: Image.Image, side: int = SIDE) -> np.ndarray:
    """The ``(side, side, 3)`` uint8 view of the image's centre at twice ``clip_view``'s magnification: the
    centre square of half the shorter side, resized to ``side``. Relative to the image, not to its pixels, so
    a resized or draft-decoded copy gives the same view; it keeps textures the whole-image view averages away
    (GAN faces: see MODEL_CARD.md)."""
    w, h = image.size
    c = max(1, min(w, h) // 2)
    x0, y0 = (w - c) // 2, (h - c) // 2
    return clip_view(image.crop((x0, y0, x0 + c, y0 + c)), side)


def to_pixel_values(views: np.ndarray) -> np.ndarray:
    """``(n, S, S, 3)`` uint8 → ``(n, 3, S, S)`` float32, CLIP-normalised."""
    x = (views.astype(np.float32) / 255.0 - MEAN) / STD
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


# What a probe can read from one forward pass of the tower, each block L2-normalised: the projected
# ``image_embeds`` (512), the last layer's CLS token (768) and the mean of its 196 patch tokens (768). The two
# token blocks keep more of what CLIP sees below the level of content: with them the probe's normalised val
# AUC went 0.950 → 0.958 and the held-out StyleGAN face sets 0.76-0.80 → 0.84-0.86 (MODEL_CARD.md).
FEATURES = ("image_embeds", "cls_token", "patch_mean")
EMBED_ONLY = ("image_embeds",)  # models trained before the token blocks


def feature_dim(features: tuple[str, ...]) -> int:
    """Values per view for these feature blocks: 512 for the embedding, 768 for each token block."""
    return sum(512 if f == "image_embeds" else 768 for f in features)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / max(float(np.linalg.norm(x)), 1e-12)


class ClipEncoder:
    """Runs the ONNX image tower; returns the ``features`` blocks of each view, each block a unit vector."""

    def __init__(self, onnx_path: str | Path, threads: int | None = None,
                 features: tuple[str, ...] = EMBED_ONLY) -> None:
        unknown = set(features) - set(FEATURES)
        if unknown or not features:
            raise ValueError(f"unknown CLIP feature blocks {sorted(unknown)}; known: {', '.join(FEATURES)}")
        self.onnx_path = Path(onnx_path)
        self.features = tuple(features)
        self.session = make_session(onnx_path, threads)
        self.input_name = self.session.get_inputs()[0].name
        outputs = self.session.get_outputs()
        # image_embeds is (batch, 512); the token map is the one 3-D output, (batch, 197, 768)
        self.outputs = [outputs[0].name, *[o.name for o in outputs[1:] if len(o.shape) == 3][:1]]
        if len(self.outputs) < 2 and self.features != EMBED_ONLY:
            raise ValueError(f"{onnx_path}: the tower has no token map output, needed for {self.features}")
        self.dim = feature_dim(self.features)

    def __call__(self, views: np.ndarray) -> np.ndarray:
        """``(n, S, S, 3)`` uint8 views → ``(n, dim)`` float32; ``(n, k, S, S, 3)`` (k views of each of n images,
        e.g. ``clip_view`` and ``detail_view``) → ``(n, k * dim)``, each image's views side by side.

        One view per call: the int8 tower quantizes activations with one scale per tensor, computed over the
        whole batch, so batching views would make an image's score depend on its neighbours (0.81 alone vs
        0.78 in a batch of 32). Batch 1 costs nothing measurable here (24.7 vs 23.8 views/s on 2 threads)."""
        if views.ndim == 5:
            n, k = views.shape[:2]
            return self(views.reshape(n * k, *views.shape[2:])).reshape(n, k * self.dim)
        out = np.zeros((len(views), self.dim), np.float32)
        wanted = self.outputs if self.features != EMBED_ONLY else self.outputs[:1]
        for i, v in enumerate(views):
            got = self.session.run(wanted, {self.input_name: to_pixel_values(v[None])})
            out[i] = np.concatenate([_unit(_block(got, f).astype(np.float32)) for f in self.features])
        return out


def _block(outputs: list[np.ndarray], feature: str) -> np.ndarray:
    """One feature block of a single view from the tower's outputs ``[image_embeds, token map]``."""
    if feature == "image_embeds":
        return outputs[0][0]
    return outputs[1][0, 0] if feature == "cls_token" else outputs[1][0, 1:].mean(axis=0)


def clip_views(image: Image.Image, n_views: int = 1, side: int = SIDE) -> np.ndarray:
    """``(k, side, side, 3)`` uint8 views: the centre view, or ``n_views`` crops spread along the long axis of
    the shortest-side-to-``side`` image (fewer when they would mostly overlap), so a panorama is seen whole."""
    if n_views <= 1:
        return clip_view(image, side)[None]
    resized = np.asarray(shortest_side_to(image, side))
    return np.stack([resized[y:y + side, x:x + side] for x, y in view_origins(image.size, n_views, side)])


def view_origins(size: tuple[int, int], n_views: int, side: int = SIDE) -> list[tuple[int, int]]:
    """Top-left corners of the ``clip_views`` in the shortest-side-to-``side`` image."""
    nw, nh = scaled_size(size, side)
    fit = max(1, (max(nw, nh) + side // 2) // side)
    return window_origins(nw, nh, min(n_views, fit), side)
