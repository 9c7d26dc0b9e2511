"""The shipped real-vs-generated detectors: ONNX Runtime + NumPy + Pillow, offline.

    det = Detector.load()                      # the default model ("clip"); Detector.load("fast") for the small one
    det.predict(["a.jpg", pil_image])          # → [{"ai_score", "verdict", "threshold", "generator"}, ...]

Two models share this class, the heads and the calibration; they differ in what the features are:

- ``clip`` (default, weights in ``weights/clip/``): a linear probe on the CLIP ViT-B/16 image tower's
  512-d embedding, CLS token and mean patch token (int8 ONNX fetched once by ``genscope models fetch``), seen
  as CLIP sees images (shortest side 224, centre crop). It generalises to generators it never saw (see
  MODEL_CARD.md); ~20 images/s here.
- ``fast`` (weights in ``weights/fast/``): EfficientNet-Lite0 statistics + residual cues on native-resolution
  192 px windows (``crops``); ~90 images/s, but weaker on recent generators.

``ai_score`` is a calibrated probability that the image is generated (Platt scaling fitted on
group-aware out-of-fold predictions). ``verdict`` is ``"generated"`` when ``ai_score >= hi``,
``"real"`` when ``ai_score < lo``, ``"uncertain"`` in between, with ``(lo, hi)`` = ``uncertain`` in
``config.json``; ``threshold`` is the single cut used for accuracy/F1 figures. ``generator`` maps each
family the model knows to a probability *given that the image is generated*.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, ImageOps

from genscope.models.detector.clip_encoder import (
    EMBED_ONLY,
    SIDE,
    ClipEncoder,
    clip_views,
    detail_view,
    scaled_size,
    view_origins,
)
from genscope.models.detector.crops import (
    BLANK_TEXTURE,
    CROP,
    BlankWindows,
    Preprocess,
    image_windows,
    pad_to_crop,
    require_min_side,
    texture,
)
from genscope.models.detector.features import FeatureExtractor
from genscope.models.detector.head import Head

WEIGHTS = Path(__file__).with_name("weights")
MODELS = {"clip": WEIGHTS / "clip", "clip-detail": WEIGHTS / "clip-detail", "fast": WEIGHTS / "fast"}
DEFAULT = "clip"
DEFAULT_MODEL = MODELS[DEFAULT]
ImageInput = str | Path | Image.Image

if TYPE_CHECKING:
    from genscope.analyses.quantify import Calibration


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


def model_dir(model: str | Path | None) -> Path:
    """A model directory from a name in ``MODELS`` (``None`` = the default) or a path holding ``config.json``."""
    if model is None or str(model) in MODELS:
        return MODELS[str(model or DEFAULT)]
    path = Path(model)
    if not (path / "config.json").is_file():
        raise ValueError(f"{model}: neither a model name ({', '.join(MODELS)}) nor a model directory with config.json")
    return path


@dataclass
class Detector:
    extractor: Callable[[np.ndarray], np.ndarray]  # views (n, S, S, 3) uint8 → features (n, D)
    head: Head
    config: dict[str, Any]
    path: Path

    @classmethod
    def load(cls, model: str | Path | None = None, threads: int | None = None) -> Detector:
        """Load a model by name (``clip``, ``fast``; ``None`` = ``clip``) or directory (``head.npz``,
        ``config.json`` and the backbone it names). ``threads`` = ONNX Runtime intra-op threads (default: all
        cores available to this process). A missing CLIP tower is fetched once, or ``ModelNotAvailable``."""
        path, config = model_config(model)
        if config.get("kind") == "clip":
            extractor: Callable[[np.ndarray], np.ndarray] = ClipEncoder(
                encoder_file(path, config), threads, tuple(config.get("features", EMBED_ONLY)))
        else:
            if config.get("crop") != CROP:
                raise ValueError(f"{path}: model trained with {config.get('crop')} px windows, code uses {CROP}")
            extractor = FeatureExtractor(path / "backbone.onnx", threads)
        return cls(extractor, Head.load(path / "head.npz"), config, path)

    @property
    def kind(self) -> str:
        return str(self.config.get("kind", "windows"))

    @property
    def detail(self) -> bool:
        """Whether the head reads ``detail_view``'s features next to each whole-image view's (CLIP only)."""
        return bool(self.config.get("detail", False))

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
        """The uint8 views the model scores for one RGB image (``preprocess`` applies to the fast model)."""
        n = n_crops or int(self.config["n_crops"])
        if self.kind != "clip":
            return image_windows(image, n, preprocess)
        require_min_side(image)
        views = clip_views(image, n)
        if not any(texture(v) >= BLANK_TEXTURE for v in views):
            raise BlankWindows(f"this {image.width}x{image.height} image is flat (blank or a plain background): "
                               "nothing to judge")
        if self.detail:  # each view is scored together with the detail view: (k, 2, S, S, 3)
            detail = detail_view(image)
            return np.stack([np.stack([v, detail]) for v in views])
        return views

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
        """Heat map in [0, 1], shaped like the image (H, W): where the evidence for "generated" lies.
        Grad-CAM for the fast model; occlusion sensitivity for the CLIP probe (ONNX has no gradients)."""
        img = open_rgb(image)
        require_min_side(img)
        return self._explain_occlusion(img) if self.kind == "clip" else self._explain_gradcam(img)

    def _explain_occlusion(self, img: Image.Image) -> np.ndarray:
        from genscope.models.detector.occlusion import occlusion_map

        # the views tile the shortest-side-224 image along its long axis, so the whole image is explained
        nw, nh = scaled_size(img.size)
        heat, hits = np.zeros((nh, nw)), np.zeros((nh, nw))

        # a detail model: the detail view's features stay fixed while the whole-image view is occluded
        fixed = self.extractor(detail_view(img)[None]) if self.detail else np.zeros((1, 0), np.float32)

        def logits(v: np.ndarray) -> np.ndarray:
            feats = self.extractor(v)
            return self.head.window_logits(np.concatenate([feats, np.repeat(fixed, len(feats), axis=0)], axis=1))

        for view, (x0, y0) in zip(clip_views(img, 3), view_origins(img.size, 3), strict=True):
            heat[y0:y0 + SIDE, x0:x0 + SIDE] += occlusion_map(view, logits)
            hits[y0:y0 + SIDE, x0:x0 + SIDE] += 1
        heat = heat / np.maximum(hits, 1)
        heat = np.asarray(Image.fromarray(heat.astype(np.float32)).resize(img.size, Image.Resampling.BILINEAR))
        return heat / heat.max() if heat.max() > 0 else np.zeros_like(heat)

    def _explain_gradcam(self, img: Image.Image) -> np.ndarray:
        """Grad-CAM heat map in [0, 1], shaped like the image (H, W).

        Target: the last pooled stage (block 14, 192 channels, stride 32). The head is linear in the
        spatial mean of that map, so the gradient of the logit with respect to each position is the
        channel's weight / positions; its spatial mean (Grad-CAM's channel weight) is exact here without
        backprop. (The std-pooled terms average to zero gradient; earlier stages and residual cues are not
        attributed.) The image is tiled with windows at native resolution; overlaps are averaged."""
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


def model_config(model: str | Path | None = None) -> tuple[Path, dict[str, Any]]:
    """A model's directory and its ``config.json``."""
    path = model_dir(model)
    return path, json.loads((path / "config.json").read_text())


# A JPEG may decode at a reduced DCT scale that keeps this many pixels on its shorter side. Twice the CLIP
# view, not the view itself: the 224 px view is then resized from a decode close to the full one. On 457 val
# JPEGs (benchmarks/detector_decode_scale.py) keeping 448 px moved scores by 0.007 on average (3 verdicts
# flipped, AUC 0.9686 vs 0.9693 full), keeping 224 px by 0.017 (9 flipped, 0.9674), at the same decode time.
DECODE_SIDE = 2 * SIDE


def view_side(model: str | Path | None = None) -> int | None:
    """Pixels the model needs on an image's shorter side when decoding (CLIP: ``DECODE_SIDE``), or None: the
    full image (the fast model reads native-resolution pixels)."""
    return DECODE_SIDE if model_config(model)[1].get("kind") == "clip" else None


def ensure_model(model: str | Path | None = None) -> Path:
    """The model's directory, after fetching what it needs (the CLIP tower) and checking it is there; raises
    ``ValueError`` for an unknown model and ``ModelNotAvailable`` when the tower cannot be had."""
    path, config = model_config(model)
    if config.get("kind") == "clip":
        encoder_file(path, config)
    return path


def encoder_file(path: Path, config: dict[str, Any]) -> Path:
    """The CLIP tower a model names: a file inside its directory (tests, custom towers) or a registry entry."""
    local = path / config["encoder"]
    if local.is_file():
        return local
    from genscope.models.registry import model_file

    return model_file(config["encoder"])


def calibration(model: str | Path | None = None) -> Calibration | None:
    """The model's held-out scores (``calibration.npz``: out-of-fold scores of its training images), which
    ``genscope audit`` uses to correct counts for the detector's error rates; None when the model has none."""
    from genscope.analyses.quantify import Calibration

    path = model_dir(model) / "calibration.npz"
    return Calibration.load(path) if path.exists() else None

