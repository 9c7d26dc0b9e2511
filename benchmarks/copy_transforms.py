"""The edits a copied image goes through, for ``copy_detection.py``: each takes (image, rng, other image)."""

from __future__ import annotations

import io
import random
from collections.abc import Callable

from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps

Transform = Callable[[Image.Image, random.Random, Image.Image], Image.Image]


def crop(image: Image.Image, rng: random.Random, area: float) -> Image.Image:
    """A random window keeping ``area`` of the pixels, aspect jittered a little."""
    aspect = rng.uniform(0.8, 1.25)
    w = min(image.width, round(image.width * (area * aspect) ** 0.5))
    h = min(image.height, round(image.height * (area / aspect) ** 0.5))
    x, y = rng.randint(0, image.width - w), rng.randint(0, image.height - h)
    return image.crop((x, y, x + w, y + h))


def jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def colour(image: Image.Image, rng: random.Random) -> Image.Image:
    image = ImageEnhance.Brightness(image).enhance(rng.uniform(0.6, 1.4))
    image = ImageEnhance.Contrast(image).enhance(rng.uniform(0.6, 1.4))
    return ImageEnhance.Color(image).enhance(rng.uniform(0.3, 1.8))


def rotate(image: Image.Image, rng: random.Random, low: float = 5, high: float = 15) -> Image.Image:
    """Turned by ``low``-``high`` degrees either way, canvas grown to fit (black corners)."""
    return image.rotate(rng.choice([-1, 1]) * rng.uniform(low, high), resample=Image.Resampling.BILINEAR,
                        expand=True)


def border(image: Image.Image, rng: random.Random) -> Image.Image:
    pad = [round(rng.uniform(0.05, 0.2) * max(image.size)) for _ in range(4)]
    fill = tuple(rng.randint(0, 255) for _ in range(3))
    return ImageOps.expand(image, border=tuple(pad), fill=fill)


def text(image: Image.Image, rng: random.Random) -> Image.Image:
    out = image.copy()
    draw = ImageDraw.Draw(out)
    size = max(12, image.height // 9)
    font = ImageFont.load_default(size=size)
    words = ["COPY", "sale", "genscope", "meme text here", "© 2026", "HELLO WORLD", "lorem ipsum"]
    for _ in range(rng.randint(1, 3)):
        xy = (rng.randint(0, image.width // 2), rng.randint(0, image.height - size))
        fill = tuple(rng.randint(0, 255) for _ in range(3))
        draw.text(xy, rng.choice(words), font=font, fill=fill, stroke_width=2, stroke_fill=(0, 0, 0))
    return out


def paste(image: Image.Image, rng: random.Random, canvas: Image.Image) -> Image.Image:
    """The image shrunk to ~60% of another photo's size and pasted into it."""
    out = canvas.resize((max(image.width, 256), max(image.height, 256)))
    scale = rng.uniform(0.55, 0.7)
    small = image.resize((max(8, round(out.width * scale)), max(8, round(out.height * scale))))
    out.paste(small, (rng.randint(0, out.width - small.width), rng.randint(0, out.height - small.height)))
    return out


def combo(image: Image.Image, rng: random.Random, other: Image.Image) -> Image.Image:
    return jpeg(colour(crop(ImageOps.mirror(image), rng, 0.6), rng), 50)


TRANSFORMS: dict[str, Transform] = {
    "crop50": lambda im, rng, _: crop(im, rng, 0.5),
    "rescale": lambda im, rng, _: im.resize((max(16, round(im.width * rng.uniform(0.3, 0.5))),
                                             max(16, round(im.height * rng.uniform(0.3, 0.5))))),
    "jpeg30": lambda im, rng, _: jpeg(im, 30),
    "colour": lambda im, rng, _: colour(im, rng),
    "grey": lambda im, rng, _: ImageOps.grayscale(im).convert("RGB"),
    "flip": lambda im, rng, _: ImageOps.mirror(im),
    "rotate": lambda im, rng, _: rotate(im, rng),
    "border": lambda im, rng, _: border(im, rng),
    "text": lambda im, rng, _: text(im, rng),
    "paste": paste,
    "combo": combo,
}
