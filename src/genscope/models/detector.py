"""The shipped real-vs-generated detector: ONNX Runtime + NumPy + Pillow, offline.

    det = Detector.load()                      # shipped weights (models/detector/)
    det.predict(["a.jpg", pil_image])          # → [{"ai_score", "verdict", "threshold", "generator"}, ...]

``ai_score`` is a calibrated probability that the image is generated (Platt scaling fitted on
group-aware out-of-fold predictions). ``verdict`` is ``"generated"`` when ``ai_score >= hi``,
``"real"`` when ``ai_score < lo``, ``"uncertain"`` in between, with ``(lo, hi)`` = ``uncertain`` in
``config.json`` (0.3, 0.7 shipped); ``threshold`` (0.5) is the single cut used for accuracy/F1 figures.
``generator`` maps each family the model knows to a probability *given that the image is generated*.
Windows and the small-image policy are described in ``detector_crops``.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from genscope.models.detector_crops import CROP, Preprocess, image_windows, pad_to_crop, require_min_side
from genscope.models.detector_features import FeatureExtractor
from genscope.models.detector_head import Head

DEFAULT_MODEL = Path(__file__).with_name("detector")
ImageInput = str | Path | Image.Image


def open_rgb(src: ImageInput) -> Image.Image:
    """First frame, EXIF orientation applied, 8-bit RGB."""
    if isinstance(src, Image.Image):
        return src if src.mode == "RGB" else src.convert("RGB")
    with Image.open(src) as im:
        im.seek(0)
        return ImageOps.exif_transpose(im).convert("RGB")


def verdict(score: float, band: tuple[float, float]) -> str:
    lo, hi = band
    if score >= hi:
        return "generated"
    return "real" if score < lo else "uncertain"


@dataclass
class Detector:
    extractor: FeatureExtractor
    head: Head
    config: dict[str, Any]
    path: Path

    @classmethod
    def load(cls, path: str | Path | None = None, threads: int | None = None) -> Detector:
        """Load a model directory (``backbone.onnx``, ``head.npz``, ``config.json``); ``None`` = shipped.
        ``threads`` = ONNX Runtime intra-op threads (default: all cores available to this process)."""
        path = Path(path) if path else DEFAULT_MODEL
        config = json.loads((path / "config.json").read_text())
        if config.get("crop") != CROP:
            raise ValueError(f"{path}: model trained with {config.get('crop')} px windows, code uses {CROP}")
        extractor = FeatureExtractor(path / "backbone.onnx", threads)
        return cls(extractor, Head.load(path / "head.npz"), config, path)

    @property
    def threshold(self) -> float:
        return float(self.config["threshold"])

    @property
    def band(self) -> tuple[float, float]:
        lo, hi = self.config["uncertain"]
        return float(lo), float(hi)

    @property
    def families(self) -> list[str]:
        return list(self.config["families"])

    def windows(self, image: Image.Image, preprocess: Preprocess = "crop",
                n_crops: int | None = None) -> np.ndarray:
        return image_windows(image, n_crops or int(self.config["n_crops"]), preprocess)

    def score_windows(self, per_image: Sequence[np.ndarray]) -> list[dict[str, Any]]:
        """Results for images given as their stacked windows; one backbone call per batch of windows."""
        if not per_image:
            return []
        feats = self.extractor(np.concatenate(per_image))
        bounds = np.cumsum([0] + [len(w) for w in per_image])
        results = []
        for a, b in itertools.pairwise(bounds):
            logit = float(self.head.window_logits(feats[a:b]).mean())
            score = float(self.head.calibrate(logit))
            fam = self.head.family_probs(feats[a:b])
            results.append({"ai_score": score, "verdict": verdict(score, self.band),
                            "threshold": self.threshold,
                            "generator": {f: float(p) for f, p in zip(self.families, fam, strict=True)}})
        return results

    def predict(self, images: Iterable[ImageInput], preprocess: Preprocess = "crop",
                n_crops: int | None = None, batch_images: int = 16) -> list[dict[str, Any]]:
        """One dict per input, in order. An input that cannot be read gives ``{"error": "<Type>: <msg>"}``
        with ``ai_score``/``verdict`` set to ``None``, instead of raising."""
        if preprocess not in ("crop", "resize"):
            raise ValueError(f"preprocess must be 'crop' or 'resize', not {preprocess!r}")
        out: list[dict[str, Any]] = []
        pending: list[tuple[int, np.ndarray]] = []

        def flush() -> None:
            for (i, _), res in zip(pending, self.score_windows([w for _, w in pending]), strict=True):
                out[i] = res
            pending.clear()

        for src in images:
            out.append({})
            try:
                pending.append((len(out) - 1, self.windows(open_rgb(src), preprocess, n_crops)))
            except Exception as exc:  # untrusted files fail in many ways; one bad file must not stop a batch
                out[-1] = {"ai_score": None, "verdict": None, "threshold": self.threshold, "generator": {},
                           "error": f"{type(exc).__name__}: {exc}"}
            if len(pending) >= batch_images:
                flush()
        flush()
        return out

    def explain(self, image: ImageInput) -> np.ndarray:
        """Grad-CAM heat map in [0, 1], shaped like the image (H, W).

        Target: the last pooled stage (block 14, 192 channels, stride 32). The head is linear in the
        spatial mean of that map, so the gradient of the logit with respect to each position is the
        channel's weight / positions; its spatial mean (Grad-CAM's channel weight) is exact here without
        backprop. (The std-pooled terms average to zero gradient; earlier stages and residual cues are not
        attributed.) The image is tiled with windows at native resolution; overlaps are averaged."""
        img = open_rgb(image)
        require_min_side(img)
        arr = pad_to_crop(np.asarray(img))
        h, w = arr.shape[:2]
        xs = np.unique(np.linspace(0, w - CROP, max(1, -(-w // CROP))).round().astype(int))
        ys = np.unique(np.linspace(0, h - CROP, max(1, -(-h // CROP))).round().astype(int))
        heat, hits = np.zeros((h, w)), np.zeros((h, w))
        for y0 in ys:
            row = np.stack([arr[y0:y0 + CROP, x0:x0 + CROP] for x0 in xs])
            x = np.ascontiguousarray(row.transpose(0, 3, 1, 2), dtype=np.float32)
            pooled, fmap = self.extractor.session.run(None, {"input": x})
            c = fmap.shape[1]
            start = pooled.shape[1] - 2 * c  # layout: ..., mean(last stage), std(last stage)
            alpha = self.head.coef[start:start + c] / self.head.scale[start:start + c]
            cams = np.maximum(np.einsum("c,nchw->nhw", alpha, fmap), 0)
            for x0, cam in zip(xs, cams, strict=True):
                up = Image.fromarray(cam.astype(np.float32)).resize((CROP, CROP), Image.Resampling.BILINEAR)
                heat[y0:y0 + CROP, x0:x0 + CROP] += np.asarray(up)
                hits[y0:y0 + CROP, x0:x0 + CROP] += 1
        heat /= np.maximum(hits, 1)
        top, left = (h - img.height) // 2, (w - img.width) // 2  # padding is centred
        heat = heat[top:top + img.height, left:left + img.width]
        return heat / heat.max() if heat.max() > 0 else heat


def overlay(image: Image.Image, heat: np.ndarray, alpha: float = 0.5) -> Image.Image:
    """The heat map drawn over the image in red-yellow (cool areas keep the image)."""
    base = np.asarray(image.convert("RGB"), dtype=np.float32)
    colour = np.stack([np.ones_like(heat), heat, np.zeros_like(heat)], axis=-1) * 255
    mix = (alpha * heat)[..., None]
    return Image.fromarray(np.clip(base * (1 - mix) + colour * mix, 0, 255).astype(np.uint8))
