"""The debiasing pipeline every training window goes through, whatever its label.

Random crop at native resolution → (order drawn at random) re-encode as JPEG q60–100 with 4:4:4 or
4:2:0 chroma, or WebP q60–100, or keep lossless → down-scale by 0.4–0.95 for 60 % of the windows.
Container, size and the original compression then carry no label information: both labels end up in
the same formats.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from genscope.models.detector.crops import CROP, pad_to_crop

# share of windows down-scaled, so a resized upload looks familiar: 0.5 left a 0.05 AUC drop under a 0.5x
# resize; 0.65-0.8 closed it but cost ~0.008 native-resolution AUC; 0.6 with 32 windows per image kept both
P_SCALE = 0.6
SCALE_RANGE = (0.4, 0.95)


def reencode(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    kind = rng.random()
    buf = io.BytesIO()
    quality = int(rng.integers(60, 101))
    if kind < 0.1:
        return img
    if kind < 0.7:
        img.save(buf, "JPEG", quality=quality, subsampling=int(rng.choice([0, 2])))
    else:
        img.save(buf, "WEBP", quality=quality)
    buf.seek(0)
    return Image.open(buf).convert("RGB")


def random_window(img: Image.Image, rng: np.random.Generator) -> np.ndarray:
    """One augmented ``(CROP, CROP, 3)`` uint8 window of an RGB image."""
    scale = 1.0 if rng.random() < 1 - P_SCALE else float(rng.uniform(*SCALE_RANGE))
    w, h = img.size
    side = min(round(CROP / scale), w, h)
    x0, y0 = int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1))
    win = img.crop((x0, y0, x0 + side, y0 + side))
    out = max(1, round(side * scale))

    def shrink(im: Image.Image) -> Image.Image:
        return im.resize((out, out), Image.Resampling.BICUBIC) if out != side else im

    win = reencode(shrink(win), rng) if rng.random() < 0.5 else shrink(reencode(win, rng))
    arr = pad_to_crop(np.asarray(win))[:CROP, :CROP]
    return arr[:, ::-1] if rng.random() < 0.5 else arr
