"""A1111 / NovelAI "stealth" metadata hidden in pixel least-significant bits.

Written by sd_webui_stealth_pnginfo and by NovelAI: pixels are visited column by column; each
gives one bit (the alpha LSB, ``stealth_png*``) or three (the R, G, B LSBs, ``stealth_rgb*``).
The stream is a 15-byte signature, a 32-bit payload length in bits, then the payload: UTF-8 text,
or gzip for the ``*comp`` variants. Only the pixels needed are gathered, so a file without the
signature costs 120 pixel reads.
"""

from __future__ import annotations

import zlib

import numpy as np

from genscope.signals.provenance.limits import Limits, ReadError

SIGNATURES = {
    "alpha": {b"stealth_pnginfo": False, b"stealth_pngcomp": True},
    "rgb": {b"stealth_rgbinfo": False, b"stealth_rgbcomp": True},
}
SIGNATURE_BITS = 15 * 8
LENGTH_BITS = 32


def _bits(pixels: np.ndarray, mode: str, start: int, count: int) -> np.ndarray:
    """``count`` stream bits from bit ``start``, reading pixels column-major."""
    per_pixel = 1 if mode == "alpha" else 3
    height = pixels.shape[0]
    first, last = start // per_pixel, (start + count + per_pixel - 1) // per_pixel
    index = np.arange(first, last)
    picked = pixels[index % height, index // height]
    lsb = (picked[:, 3] if mode == "alpha" else picked[:, :3]).astype(np.uint8) & 1
    flat = lsb.ravel()
    offset = start - first * per_pixel
    return flat[offset : offset + count]


def _to_bytes(bits: np.ndarray) -> bytes:
    return np.packbits(bits).tobytes()


def read_stealth(pixels: np.ndarray, limits: Limits) -> tuple[str, str] | None:
    """``(signature, text)`` when ``pixels`` (H, W, 3 or 4, uint8) carry a stealth payload."""
    capacity_px = pixels.shape[0] * pixels.shape[1]
    modes = ("alpha", "rgb") if pixels.shape[2] == 4 else ("rgb",)
    for mode in modes:
        capacity = capacity_px * (1 if mode == "alpha" else 3)
        if capacity < SIGNATURE_BITS + LENGTH_BITS:
            continue
        signature = _to_bytes(_bits(pixels, mode, 0, SIGNATURE_BITS))
        if signature not in SIGNATURES[mode]:
            continue
        length = int.from_bytes(_to_bytes(_bits(pixels, mode, SIGNATURE_BITS, LENGTH_BITS)), "big")
        if length > capacity - SIGNATURE_BITS - LENGTH_BITS or length > limits.max_stealth_payload * 8:
            raise ReadError("metadata.stealth_corrupt", f"{signature.decode()} declares {length} bits")
        payload = _to_bytes(_bits(pixels, mode, SIGNATURE_BITS + LENGTH_BITS, length))
        if SIGNATURES[mode][signature]:
            inflater = zlib.decompressobj(wbits=31)  # gzip framing
            try:
                payload = inflater.decompress(payload, limits.max_inflated + 1)
            except zlib.error as exc:
                raise ReadError("metadata.stealth_corrupt", f"{signature.decode()}: {exc}") from None
            if len(payload) > limits.max_inflated:
                raise ReadError("metadata.decompression_bomb", f"{signature.decode()} inflates too far")
        try:
            return signature.decode(), payload.decode("utf-8")
        except UnicodeDecodeError:
            raise ReadError("metadata.invalid_encoding", f"{signature.decode()} is not UTF-8") from None
    return None
