"""Heat maps a person can read: a smooth colour map blended over the image, which stays visible.

``blend`` draws the map alone (report thumbnails, whose legend is HTML); ``explained`` adds what a
picture on its own needs: the score printed on the image, a colour bar and a legend.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

# ColorBrewer RdYlBu, reversed: blue = little evidence, red = most; readable with the common colour blindnesses
STOPS = (0.0, 0.25, 0.5, 0.75, 1.0)
COLOURS = np.array([(49, 54, 149), (116, 173, 209), (254, 224, 144), (244, 109, 67), (165, 0, 38)], np.float32)
GRADIENT_CSS = "linear-gradient(to right, " + ", ".join(
    f"rgb({r:.0f},{g:.0f},{b:.0f}) {100 * s:.0f}%" for s, (r, g, b) in zip(STOPS, COLOURS, strict=True)) + ")"
MIN_ALPHA, MAX_ALPHA = 0.25, 0.7  # even the coolest area is tinted (so blue reads as "looked, found little")
MIN_WIDTH = 480  # a smaller image is enlarged so the printed text stays legible


def colour_map(heat: np.ndarray) -> np.ndarray:
    """``heat`` in [0, 1] → RGB float32 of the same shape plus a channel axis."""
    heat = np.clip(heat, 0.0, 1.0)
    return np.stack([np.interp(heat, STOPS, COLOURS[:, c]) for c in range(3)], axis=-1).astype(np.float32)


def smooth(heat: np.ndarray) -> np.ndarray:
    """A Gaussian blur over about a fifteenth of the short side: removes the seams where occlusion cells or
    detector windows meet, keeps the regions; rescaled to [0, 1] again."""
    radius = max(1.0, min(heat.shape) / 15)
    grey = Image.fromarray((np.clip(heat, 0, 1) * 255).round().astype(np.uint8))  # 256 levels: plenty to look at
    blurred = np.asarray(grey.filter(ImageFilter.GaussianBlur(radius)), dtype=np.float32)
    low, high = float(blurred.min()), float(blurred.max())
    return (blurred - low) / (high - low) if high > low else np.zeros_like(blurred)


def blend(image: Image.Image, heat: np.ndarray) -> Image.Image:
    """The smoothed map over the image; the stronger the evidence, the more opaque the colour."""
    base = np.asarray(image.convert("RGB"), dtype=np.float32)
    if heat.shape != base.shape[:2]:
        resized = Image.fromarray(heat.astype(np.float32)).resize(image.size, Image.Resampling.BILINEAR)
        heat = np.asarray(resized)
    heat = smooth(heat)
    grey = base.mean(axis=-1, keepdims=True)
    muted = 0.5 * base + 0.5 * grey  # half the saturation: the map's hues stand out from the image's own
    alpha = (MIN_ALPHA + (MAX_ALPHA - MIN_ALPHA) * heat)[..., None]
    return Image.fromarray(np.clip(muted * (1 - alpha) + colour_map(heat) * alpha, 0, 255).astype(np.uint8))


def explained(image: Image.Image, heat: np.ndarray, *, score: float, verdict: str, method: str) -> Image.Image:
    """The blended map with the score printed on it and, below, a colour bar with its legend."""
    if image.width < MIN_WIDTH:
        image = image.resize((MIN_WIDTH, round(image.height * MIN_WIDTH / image.width)), Image.Resampling.LANCZOS)
    picture = blend(image, heat)
    width = picture.width
    size = max(14, width // 36)
    font = ImageFont.load_default(size=size)
    small = ImageFont.load_default(size=max(12, size * 4 // 5))
    pad = size // 2
    legend_h = pad * 4 + size * 2 + small.size * 2
    canvas = Image.new("RGB", (width, picture.height + legend_h), (255, 255, 255))
    canvas.paste(picture, (0, 0))
    draw = ImageDraw.Draw(canvas)
    label = f"AI score {score:.3f} · {verdict}"  # as the CLI prints it: 0.995 is not 1.00
    box = draw.textbbox((pad, pad), label, font=font)
    draw.rounded_rectangle((box[0] - pad // 2, box[1] - pad // 2, box[2] + pad // 2, box[3] + pad // 2),
                           radius=pad // 2, fill=(29, 36, 51))
    draw.text((pad, pad), label, font=font, fill=(255, 255, 255))
    top = picture.height + pad
    bar_x0, bar_x1 = pad * 2, width - pad * 2
    bar = colour_map(np.linspace(0, 1, bar_x1 - bar_x0)[None, :].repeat(size, axis=0))
    canvas.paste(Image.fromarray(bar.astype(np.uint8)), (bar_x0, top))
    draw.rectangle((bar_x0, top, bar_x1 - 1, top + size - 1), outline=(90, 90, 90))
    ticks = top + size + pad // 2
    draw.text((bar_x0, ticks), "little evidence", font=small, fill=(29, 36, 51))
    draw.text((bar_x1, ticks), "most evidence of generation", font=small, fill=(29, 36, 51), anchor="ra")
    draw.text((bar_x0, ticks + small.size + pad // 2), method, font=small, fill=(91, 100, 114))
    return canvas
