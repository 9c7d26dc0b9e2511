"""Partial copies for ``copy_collages.py``: the original is only part of the query, or heavily warped.

Each transform takes ``(image, rng, others)`` and returns ``(query, box)``: ``others`` are pictures that are
never references (the rest of a collage, a canvas, a blend partner); ``box`` is where the original's content
lies in the query, as fractions ``(x0, y0, x1, y1)`` (the whole query when it covers it all).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import numpy as np
from copy_transforms import colour, crop, jpeg
from PIL import Image, ImageDraw, ImageFont, ImageOps

Box = tuple[float, float, float, float]
Transform = Callable[[Image.Image, random.Random, Sequence[Image.Image]], tuple[Image.Image, Box]]
FULL: Box = (0.0, 0.0, 1.0, 1.0)


def collage(image: Image.Image, rng: random.Random, others: Sequence[Image.Image], cell: int = 320) -> tuple:
    """A 2×2 grid of ``cell``-px squares; one cell (at random) is the original, the others other pictures."""
    out = Image.new("RGB", (2 * cell, 2 * cell))
    slot = rng.randrange(4)
    pictures = list(others[:3])
    pictures.insert(slot, image)
    for i, picture in enumerate(pictures):
        out.paste(ImageOps.fit(picture, (cell, cell)), ((i % 2) * cell, (i // 2) * cell))
    x, y = (slot % 2) / 2, (slot // 2) / 2
    return out, (x, y, x + 0.5, y + 0.5)


def paste(image: Image.Image, rng: random.Random, others: Sequence[Image.Image], size: float = 0.4) -> tuple:
    """The original at about ``size`` of another photo's width, pasted at a random place."""
    out = others[0].resize((640, round(640 * others[0].height / others[0].width)))
    w = round(out.width * size * rng.uniform(0.9, 1.1))
    h = min(out.height, round(w * image.height / image.width))
    small = image.resize((w, h))
    x, y = rng.randint(0, out.width - w), rng.randint(0, out.height - h)
    out.paste(small, (x, y))
    return out, (x / out.width, y / out.height, (x + w) / out.width, (y + h) / out.height)


def rotate45(image: Image.Image, rng: random.Random, _: Sequence[Image.Image]) -> tuple:
    return image.rotate(rng.choice([-45, 45]), resample=Image.Resampling.BILINEAR, expand=True), FULL


def perspective(image: Image.Image, rng: random.Random, _: Sequence[Image.Image], strength: float = 0.25) -> tuple:
    """The picture seen at a slant: each corner moved inwards by up to ``strength`` of the side, black around."""
    w, h = image.size
    corners = np.array([(0, 0), (w, 0), (w, h), (0, h)], np.float64)
    inward = np.array([(1, 1), (-1, 1), (-1, -1), (1, -1)], np.float64)
    moved = corners + inward * np.array([[rng.uniform(0, strength) * w, rng.uniform(0, strength) * h]
                                         for _ in range(4)])
    # PIL wants the output → input map: solve the 8 homography coefficients from the 4 corner pairs
    rows, rhs = [], []
    for (x, y), (u, v) in zip(moved, corners, strict=True):
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        rhs += [u, v]
    coefficients = np.linalg.solve(np.array(rows), np.array(rhs))
    return image.transform((w, h), Image.Transform.PERSPECTIVE, tuple(coefficients),
                           Image.Resampling.BILINEAR), FULL


def blend(image: Image.Image, rng: random.Random, others: Sequence[Image.Image]) -> tuple:
    return Image.blend(image, others[0].resize(image.size), 0.5), FULL


def meme(image: Image.Image, rng: random.Random, _: Sequence[Image.Image]) -> tuple:
    """White bands above and below with black caption text, and a thin coloured frame."""
    band = max(24, image.height // 5)
    out = ImageOps.expand(image, border=(0, band, 0, band), fill="white")
    draw = ImageDraw.Draw(out)
    font = ImageFont.load_default(size=band * 2 // 3)
    captions = ["WHEN THE MODEL", "SAYS IT'S ORIGINAL", "nobody:", "me at 3am", "ONE DOES NOT SIMPLY"]
    draw.text((8, band // 8), rng.choice(captions), font=font, fill="black")
    draw.text((8, out.height - band + band // 8), rng.choice(captions), font=font, fill="black")
    frame = max(4, image.width // 60)
    out = ImageOps.expand(out, border=frame, fill=tuple(rng.randint(0, 255) for _ in range(3)))
    return out, (frame / out.width, (frame + band) / out.height, 1 - frame / out.width,
                 1 - (frame + band) / out.height)


def combo(image: Image.Image, rng: random.Random, others: Sequence[Image.Image]) -> tuple:
    """A 60% crop, colour change, 20° rotation, pasted at half size into another photo, JPEG 40."""
    part = image.rotate(rng.choice([-20, 20]), resample=Image.Resampling.BILINEAR, expand=True)
    out, box = paste(colour(crop(part, rng, 0.6), rng), rng, others, size=0.5)
    return jpeg(out, 40), box


TRANSFORMS: dict[str, Transform] = {
    "collage2x2": collage,
    "paste40": paste,
    "crop25": lambda im, rng, _: (crop(im, rng, 0.25), FULL),
    "rotate45": rotate45,
    "perspective": perspective,
    "blend50": blend,
    "meme": meme,
    "combo": combo,
}
