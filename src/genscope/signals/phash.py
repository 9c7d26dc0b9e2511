"""64-bit perceptual hash, bit-identical to ``imagehash.phash`` (grey 32² Lanczos, DCT-II, 8×8 > median)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
from PIL import Image

from genscope.signals.base import Sample

_N = 32
# Unnormalised DCT-II matrix (scipy.fftpack's convention), so bits match imagehash exactly.
_DCT = 2.0 * np.cos(np.pi * np.outer(np.arange(_N), 2 * np.arange(_N) + 1) / (2 * _N))
_WEIGHTS = np.uint64(1) << np.arange(63, -1, -1, dtype=np.uint64)


def phash(image: Image.Image) -> int:
    """The hash as an unsigned 64-bit integer; the first DCT coefficient is the top bit."""
    grey = np.asarray(image.convert("L").resize((_N, _N), Image.Resampling.LANCZOS), dtype=np.float64)
    low = (_DCT @ grey @ _DCT.T)[:8, :8]
    bits = (low > np.median(low)).flatten()
    return int(np.sum(_WEIGHTS[bits], dtype=np.uint64))


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


class PHashSignal:
    name: ClassVar[str] = "phash"
    version: ClassVar[str] = "1"
    needs_image: ClassVar[bool] = True
    schema: ClassVar[pa.Schema] = pa.schema([("hash", pa.uint64())])

    def compute(self, batch: list[Sample]) -> list[dict[str, Any]]:
        return [{"hash": phash(sample.image)} for sample in batch]
