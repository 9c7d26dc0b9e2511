"""Skin tone from pixels: sRGB → CIELAB, the Individual Typology Angle (ITA°), its six categories, and the nearest
colour of the 10-point Monk Skin Tone scale. Pure NumPy; nothing here knows about faces or detectors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# ITA° = atan((L* − 50) / b*) in degrees. Category lower bounds from Chardon, Cretois & Hourseau (1991) as used by
# Del Bino & Bernerd (2013): > 55 very light, 41–55 light, 28–41 intermediate, 10–28 tan, −30–10 brown, < −30 dark.
ITA_CATEGORIES: tuple[tuple[str, float], ...] = (
    ("very_light", 55.0), ("light", 41.0), ("intermediate", 28.0), ("tan", 10.0), ("brown", -30.0),
    ("dark", -np.inf),
)
CATEGORY_NAMES: tuple[str, ...] = tuple(name for name, _ in ITA_CATEGORIES)

# Monk Skin Tone scale, MST 1–10: the reference sRGB colours Google publishes with the scale (skintone.google,
# "The Monk Skin Tone Scale", Ellis Monk 2019/2022): f6ede4 f3e7db f7ead0 eadaba d7bd96 a07e56 825c43 604134 3a312a
# 292420.
MONK_HEX: tuple[str, ...] = ("f6ede4", "f3e7db", "f7ead0", "eadaba", "d7bd96", "a07e56", "825c43", "604134",
                             "3a312a", "292420")

# sRGB (D65) → XYZ, IEC 61966-2-1; the white point is D65's XYZ with Y = 1.
_RGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                        [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]])
_WHITE = _RGB_TO_XYZ.sum(axis=1)
_EPSILON, _KAPPA = 216 / 24389, 24389 / 27


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """8-bit sRGB (..., 3) → CIELAB (..., 3) under D65."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = linear @ _RGB_TO_XYZ.T / _WHITE
    f = np.where(xyz > _EPSILON, np.cbrt(xyz), (_KAPPA * xyz + 16) / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def lab_to_srgb(lab: np.ndarray) -> np.ndarray:
    """CIELAB → sRGB in [0, 255] as floats (not rounded, not clipped): the inverse, for making test patches."""
    lab = np.asarray(lab, dtype=np.float64)
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], axis=-1)
    xyz = np.where(f**3 > _EPSILON, f**3, (116 * f - 16) / _KAPPA) * _WHITE
    linear = xyz @ np.linalg.inv(_RGB_TO_XYZ).T
    c = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * np.abs(linear) ** (1 / 2.4) - 0.055)
    return 255 * c


MONK_LAB = srgb_to_lab(np.array([[int(h[i:i + 2], 16) for i in (0, 2, 4)] for h in MONK_HEX]))


def ita(lightness: float, b: float) -> float:
    """ITA° from L* and b*; ``atan2`` keeps the angle defined at b* = 0 (±90°)."""
    return float(np.degrees(np.arctan2(lightness - 50.0, b)))


def ita_category(angle: float) -> str:
    return next(name for name, low in ITA_CATEGORIES if angle > low)


def monk(lab: np.ndarray) -> int:
    """The Monk tone (1–10) whose reference colour is nearest in CIELAB (ΔE*76)."""
    return int(np.argmin(np.linalg.norm(MONK_LAB - np.asarray(lab), axis=1))) + 1


@dataclass(frozen=True)
class Tone:
    ita: float
    category: str
    monk: int
    lab: tuple[float, float, float]  # the median skin colour
    pixels: int  # skin pixels measured


MIN_SKIN_PIXELS = 30


def skin_tone(rgb: np.ndarray, trim: float = 0.1) -> Tone | None:
    """Tone of the skin among ``rgb`` pixels (N, 3): keeps pixels in the skin hue quadrant (a* > 0, b* > 0: drops
    hair, eyes, teeth and background greys and blues), trims the darkest and lightest ``trim`` share by L*
    (shadows, specular highlights), then takes the median L*, a*, b*. None when too few pixels are left."""
    lab = srgb_to_lab(np.asarray(rgb).reshape(-1, 3))
    lab = lab[(lab[:, 1] > 0) & (lab[:, 2] > 0)]
    if len(lab) < MIN_SKIN_PIXELS:
        return None
    low, high = np.quantile(lab[:, 0], [trim, 1 - trim])
    lab = lab[(lab[:, 0] >= low) & (lab[:, 0] <= high)]
    if len(lab) < MIN_SKIN_PIXELS:
        return None
    median = np.median(lab, axis=0)
    angle = ita(median[0], median[2])
    return Tone(round(angle, 2), ita_category(angle), monk(median), tuple(round(float(v), 2) for v in median),
                len(lab))
