"""Crop policy of the detector: what pixels the network sees, shared by training and inference.

Generator traces live in the highest frequencies, which a global resize destroys, so the default
(``preprocess="crop"``) reads square windows of ``CROP`` pixels at native resolution:

- an image at least ``CROP`` on both sides gives ``n_crops`` windows spread evenly along its long
  axis and centred on the short one (1 = centre; 2, the shipped default, = both ends; 3 = both ends
  and the centre), never resampled;
- a side shorter than ``CROP`` is mirror-padded to ``CROP`` (not up-scaled: interpolation would paint
  its own traces); the training pipeline pads small crops the same way, so the head has seen padding;
- an image under ``MIN_SIDE`` pixels on a side is refused (``ImageTooSmall``): mirror-padding a few
  pixels gives flat, repeated windows that look nothing like a photo, and the head scored a 1x1 image
  0.999 "generated"; a score there would be noise presented as evidence;
- windows without texture (a blank image, or an image whose windows land on a plain background) are
  refused too (``BlankWindows``): the head called a plain white image 0.9999996 "generated", and
  nothing in flat pixels says how they were made. The least textured image in the shared data
  scores 0.31 on the same measure, far above ``BLANK_TEXTURE``;
- ``preprocess="resize"`` instead resizes the whole image to ``CROP`` x ``CROP`` (bicubic), one window:
  the studies' "resize" arm, kept to reproduce the crop-vs-resize comparison.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from PIL import Image

from genscope.errors import CodedError

CROP = 192  # a multiple of 32 (the backbone stride) and of 8 (the JPEG block)
MIN_SIDE = 32  # the smallest training images are ~100 px thumbnails; below 32 px there is no texture left
BLANK_TEXTURE = 0.05  # mean absolute grey difference of neighbouring pixels, in 0-255 levels
Preprocess = Literal["crop", "resize"]


class CannotJudge(CodedError, ValueError):
    """The image holds nothing the detector can judge; ``code`` names why (an error code suffix)."""

    code = "cannot_judge"

    def __init__(self, message: str) -> None:
        super().__init__(type(self).code, message)


class ImageTooSmall(CannotJudge):
    """The image has fewer than ``MIN_SIDE`` pixels on a side: too little to judge."""

    code = "too_small"


class BlankWindows(CannotJudge):
    """Every window the detector would look at is flat: no texture to judge."""

    code = "blank"


def pad_to_crop(arr: np.ndarray, size: int = CROP) -> np.ndarray:
    """Mirror-pad an HxWx3 array so both sides are at least ``size`` (centred)."""
    # one mirror pass at most doubles a side, so tiny images take a few passes
    while arr.shape[0] < size or arr.shape[1] < size:
        h, w = arr.shape[:2]
        ph, pw = min(max(0, size - h), h), min(max(0, size - w), w)
        arr = np.pad(arr, ((ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)), mode="symmetric")
    return arr


def window_origins(w: int, h: int, n: int, size: int = CROP) -> list[tuple[int, int]]:
    """Top-left corners of ``n`` windows spread along the long axis, centred on the short one."""
    span_w, span_h = max(0, w - size), max(0, h - size)
    if span_w >= span_h:
        xs = np.linspace(0, span_w, n) if n > 1 else np.array([span_w / 2])
        return [(round(x), span_h // 2) for x in xs]
    ys = np.linspace(0, span_h, n) if n > 1 else np.array([span_h / 2])
    return [(span_w // 2, round(y)) for y in ys]


def require_min_side(image: Image.Image) -> None:
    """Raise ``ImageTooSmall`` for an image with a side under ``MIN_SIDE`` pixels."""
    if min(image.size) < MIN_SIDE:
        raise ImageTooSmall(f"image is {image.width}x{image.height} px; the detector needs at least "
                            f"{MIN_SIDE} px on each side to judge it")


def texture(window: np.ndarray) -> float:
    """Mean absolute difference of neighbouring grey pixels (0-255 levels) of an HxWx3 window."""
    grey = window.astype(np.float32).mean(axis=2)
    return float(np.abs(np.diff(grey, axis=1)).mean() + np.abs(np.diff(grey, axis=0)).mean()) / 2


def image_windows(image: Image.Image, n_crops: int = 3, preprocess: Preprocess = "crop") -> np.ndarray:
    """The ``(k, CROP, CROP, 3)`` uint8 windows the network sees for one RGB image."""
    require_min_side(image)
    if image.mode != "RGB":
        image = image.convert("RGB")
    if preprocess == "resize":
        windows = np.asarray(image.resize((CROP, CROP), Image.Resampling.BICUBIC))[None]
    elif preprocess == "crop":
        arr = pad_to_crop(np.asarray(image))
        h, w = arr.shape[:2]
        # a window count above what fits without overlap only repeats pixels; small images get one
        fit = max(1, (max(w, h) + CROP // 2) // CROP)
        origins = window_origins(w, h, min(n_crops, fit))
        windows = np.stack([arr[y:y + CROP, x:x + CROP] for x, y in origins])
    else:
        raise ValueError(f"preprocess must be 'crop' or 'resize', not {preprocess!r}")
    if not any(texture(w) >= BLANK_TEXTURE for w in windows):  # stops at the first textured window
        raise BlankWindows(f"the detector's {len(windows)} window(s) of this {image.width}x{image.height} image are "
                           "flat (a blank image or a plain background): nothing to judge")
    return windows
