"""Stable Diffusion invisible watermarks (imwatermark "dwtDct"), decoded with NumPy only.

Both marks were written by ``invisible-watermark``'s dwtDct method: the U channel of OpenCV's
BGR->YUV conversion, one Haar DWT level, and for each 4x4 block of the approximation band the
largest-magnitude coefficient (the DC term excluded) quantised so that ``|c| mod 36`` sits in the
upper half for a 1 bit. A bit's value is the majority over every block that carries it.

Bit compatibility with the reference decoder matters more than elegance here, so the arithmetic
copies what OpenCV and PyWavelets do: OpenCV's 14-bit fixed-point YUV for uint8 pixels (chroma
offset 128) and its float formula for float32 pixels (chroma offset 0.5), and PyWavelets' order
of operations for the Haar filter (1/sqrt(2) per tap, rows first).

SD v1 marked uint8 images, so its mark reads back from the uint8 path; diffusers' SDXL
watermarker marked float32 images in 0..255, so its mark reads back only from the float32 path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import comb
from typing import Any

import numpy as np
from PIL import Image, JpegImagePlugin

from genscope.signals.provenance.limits import Limits, ReadError

SD1_BYTES = b"StableDiffusionV1"
SD1_BITS = np.unpackbits(np.frombuffer(SD1_BYTES, np.uint8))
# diffusers / generative-models WATERMARK_MESSAGE, most significant bit first.
SDXL_BITS = np.array([int(b) for b in bin(0b101100111110110010010000011110111011000110011110)[2:]], np.uint8)
SCHEMES = {"sd1_dwtdct": SD1_BITS, "sdxl_dwtdct": SDXL_BITS}

# The array type each generator's watermarker was given (see the module docstring).
NATIVE_INPUT = {"sd1_dwtdct": "uint8", "sdxl_dwtdct": "float32"}
SCALE = 36.0
BLOCK = 4
MIN_PIXELS = 256 * 256  # the reference decoder refuses images this small
FAMILY_ALPHA = 1e-6  # chance that an unmarked image is reported as marked by any of the readings
READINGS = tuple((scheme, kind) for scheme in SCHEMES for kind in ("uint8", "float32"))


def min_correct_bits(n_bits: int, alpha: float) -> int:
    """Smallest k with P(Binomial(n, 1/2) >= k) < alpha: a random image reaches k with p < alpha."""
    tail = 0
    for k in range(n_bits, -1, -1):
        tail += comb(n_bits, k)
        if tail / 2**n_bits >= alpha:
            return k + 1
    return 0


# Bonferroni over the four readings keeps the family-wise false-positive rate under FAMILY_ALPHA.
THRESHOLDS = {name: min_correct_bits(len(bits), FAMILY_ALPHA / len(READINGS))
              for name, bits in SCHEMES.items()}


@dataclass(frozen=True)
class Readiness:
    decodable: bool
    reason: str | None  # why not, when not


def readiness(image: Image.Image, limits: Limits) -> Readiness:
    """Whether this file can still carry a dwtDct mark, decided without decoding pixels."""
    width, height = image.size
    if width * height <= MIN_PIXELS:
        return Readiness(False, "too_small")
    if width * height > limits.max_decode_pixels:
        return Readiness(False, "too_large")
    if image.format == "JPEG" and JpegImagePlugin.get_sampling(image) not in (0, -1):
        # Chroma subsampling averages the U channel over 2x2 pixels: the mark is known not to survive.
        return Readiness(False, "jpeg_chroma_subsampled")
    return Readiness(True, None)


def _u_planes(planes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """U of cv2.cvtColor(BGR, COLOR_BGR2YUV) for the uint8 and the float32 input of the same pixels.

    ``planes`` holds contiguous R, G, B planes (3, H, W) of uint8. The uint8 result follows
    OpenCV's 14-bit fixed point (rounded, offset 128, saturated); every intermediate stays below
    2**24, so float32 arithmetic computes it exactly and faster than int32. The float32 result
    is OpenCV's float formula with its chroma offset of 0.5.
    """
    r, g, b = (planes[i].astype(np.float32) for i in range(3))
    y = b * np.float32(1868)
    y += g * np.float32(9617)
    y += r * np.float32(4899)
    y += np.float32(1 << 13)
    np.floor(y * np.float32(1 / 16384), out=y)
    u8 = b - y
    u8 *= np.float32(8061)
    u8 += np.float32((128 << 14) + (1 << 13))
    np.floor(u8 * np.float32(1 / 16384), out=u8)
    np.clip(u8, 0, 255, out=u8)
    yf = b * np.float32(0.114)
    yf += g * np.float32(0.587)
    yf += r * np.float32(0.299)
    uf = b - yf
    uf *= np.float32(0.492)
    uf += np.float32(0.5)
    return u8, uf


def _haar_ll(u: np.ndarray, dtype: type) -> np.ndarray:
    """PyWavelets' dwt2(u, 'haar') approximation band in ``dtype`` with its summation order.

    PyWavelets computes uint8 input in float64 and float32 input in float32; the exact rounding
    matters because a coefficient can land on a multiple of 18, the bit boundary.
    """
    tap = dtype(np.sqrt(0.5))
    rows = u[1::2].astype(dtype) * tap
    rows += u[0::2].astype(dtype) * tap
    ll = rows[:, 1::2] * tap
    ll += rows[:, 0::2] * tap
    return ll


def _block_scores(ll: np.ndarray) -> np.ndarray:
    """One 0/1 score per 4x4 block of the LL band, blocks in row-major order."""
    nr, nc = ll.shape[0] // BLOCK, ll.shape[1] // BLOCK
    blocks = ll[: nr * BLOCK, : nc * BLOCK].reshape(nr, BLOCK, nc, BLOCK).transpose(0, 2, 1, 3)
    flat = blocks.reshape(nr * nc, BLOCK * BLOCK)
    pos = np.argmax(np.abs(flat[:, 1:]), axis=1) + 1
    val = np.abs(flat[np.arange(flat.shape[0]), pos])
    return (np.remainder(val, flat.dtype.type(SCALE)) > 0.5 * SCALE).astype(np.int64)


def _bits(scores: np.ndarray, n_bits: int) -> np.ndarray:
    ones = np.bincount(np.arange(scores.size) % n_bits, weights=scores, minlength=n_bits)
    counts = np.bincount(np.arange(scores.size) % n_bits, minlength=n_bits)
    with np.errstate(invalid="ignore", divide="ignore"):
        return ((ones / counts) * 255 > 127).astype(np.uint8)


def decode_readings(rgb: np.ndarray) -> dict[tuple[str, str], np.ndarray]:
    """Decoded bits for every (scheme, input type) reading of an RGB uint8 array."""
    rows, cols = rgb.shape[0] // 4 * 4, rgb.shape[1] // 4 * 4
    u8, uf = _u_planes(np.ascontiguousarray(rgb[:rows, :cols].transpose(2, 0, 1)))
    scores = {"uint8": _block_scores(_haar_ll(u8, np.float64)),
              "float32": _block_scores(_haar_ll(uf, np.float32))}
    return {(scheme, kind): _bits(scores[kind], len(SCHEMES[scheme])) for scheme, kind in READINGS}


def _is_flat(rgb: np.ndarray) -> bool:
    # A mark moves chroma by several levels; a U channel with (almost) no spread never held one.
    step = max(1, min(rgb.shape[0], rgb.shape[1]) // 64)
    sample, _ = _u_planes(np.ascontiguousarray(rgb[::step, ::step].transpose(2, 0, 1)))
    return float(sample.max() - sample.min()) < 2.0


def read_watermark(image: Image.Image, pixels: Callable[[], np.ndarray | None], limits: Limits,
                   force: bool = False) -> dict[str, Any]:
    """The ``watermark`` group; ``force`` decodes even where the mark is known not to survive."""
    ready = readiness(image, limits)
    out: dict[str, Any] = {"decodable": ready.decodable, "not_decodable_reason": ready.reason,
                           "detected": False}
    if ready.reason == "too_small":  # an error, as the reference decoder raises one, with the facts kept
        width, height = image.size
        return {**out, "error": "watermark.image_too_small",
                "error_message": f"{width}x{height} is not larger than 256x256"}
    if not ready.decodable and not (force and ready.reason != "too_large"):
        return out
    array = pixels()
    if array is None:
        raise ReadError("watermark.unreadable", "the pixel data could not be decoded")
    rgb = array[..., :3]
    if _is_flat(rgb):
        out.update(decodable=False, not_decodable_reason="flat")
        if not force:
            return out
    readings = decode_readings(rgb)
    passing: list[tuple[bool, float, str, str]] = []
    for (scheme, kind), bits in readings.items():
        correct = int((bits == SCHEMES[scheme]).sum())
        suffix = "" if kind == "uint8" else "_float32"
        out[f"bit_accuracy_{scheme.split('_')[0]}{suffix}"] = round(correct / bits.size, 4)
        if correct >= THRESHOLDS[scheme]:
            passing.append((kind == NATIVE_INPUT[scheme], correct / bits.size, scheme, kind))
    if passing:
        # The reading with the input type the generator marked wins: it is what the reference reads.
        _, accuracy, scheme, kind = max(passing)
        out.update(detected=True, scheme=scheme, bit_accuracy=round(accuracy, 4), read_as=kind)
        if scheme == "sd1_dwtdct":
            out["decoded"] = np.packbits(readings[(scheme, kind)]).tobytes().decode("latin-1")
    return out
