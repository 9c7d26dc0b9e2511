"""The image conditions the detector is evaluated under (and, for ``normalise``, trained on).

``normalise`` is the condition that counts: a 384 px centre crop re-saved as JPEG q90 4:4:4, so container,
size and original compression carry no information. ``CONDITIONS`` adds the degradations a robust detector
must survive; ``ROBUSTNESS`` names the ones whose AUC loss is reported. Pillow only: the report shows these
conditions without importing training code.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from PIL import Image

Transform = Callable[[Image.Image], Image.Image]


def _jpeg(img: Image.Image, quality: int, subsampling: int = -1) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, subsampling=subsampling)
    buf.seek(0)
    return Image.open(buf).convert("RGB")


def normalise(img: Image.Image, side: int = 384) -> Image.Image:
    """Centre crop of ``side`` px (or the short side, if smaller) re-saved as JPEG q90 4:4:4."""
    w, h = img.size
    cw, ch = min(side, w), min(side, h)
    x0, y0 = (w - cw) // 2, (h - ch) // 2
    return _jpeg(img.crop((x0, y0, x0 + cw, y0 + ch)), 90, subsampling=0)


def _resize(img: Image.Image, f: float) -> Image.Image:
    return img.resize((max(1, round(img.width * f)), max(1, round(img.height * f))), Image.Resampling.BICUBIC)


def _roundtrip(img: Image.Image, side: int = 128) -> Image.Image:
    f = side / max(img.size)
    return _resize(img, f).resize(img.size, Image.Resampling.BICUBIC) if f < 1 else img


CONDITIONS: dict[str, Transform] = {
    "raw": lambda im: im,
    "normalised": normalise,
    "jpeg_q75": lambda im: _jpeg(im, 75),
    "jpeg_q50": lambda im: _jpeg(im, 50),
    "resize_0.5": lambda im: _resize(im, 0.5),
    "roundtrip_128": _roundtrip,
    "normalised_jpeg_q75": lambda im: _jpeg(normalise(im), 75),
    "normalised_jpeg_q50": lambda im: _jpeg(normalise(im), 50),
    "normalised_resize_0.5": lambda im: _resize(normalise(im), 0.5),
    "normalised_roundtrip_128": lambda im: _roundtrip(normalise(im)),
}
ROBUSTNESS = ("jpeg_q75", "jpeg_q50", "resize_0.5", "roundtrip_128")
