"""64-bit perceptual hash, bit-identical to ``imagehash.phash`` (grey 32² Lanczos, DCT-II, 8×8 > median), and
the hash of the mirror image, so a flipped copy can be matched by hash too."""

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
# Mirroring the columns multiplies DCT column frequency v by (-1)^v: the mirror's coefficients without a
# second resize or transform (its hash equals phash(ImageOps.mirror(image)))
_MIRROR = (-1.0) ** np.arange(8)[None, :]


def _low(image: Image.Image) -> np.ndarray:
    grey = np.asarray(image.convert("L").resize((_N, _N), Image.Resampling.LANCZOS), dtype=np.float64)
    return (_DCT @ grey @ _DCT.T)[:8, :8]


def _bits(low: np.ndarray) -> int:
    bits = (low > np.median(low)).flatten()
    return int(np.sum(_WEIGHTS[bits], dtype=np.uint64))


def phash(image: Image.Image) -> int:
    """The hash as an unsigned 64-bit integer; the first DCT coefficient is the top bit."""
    return _bits(_low(image))


def phashes(image: Image.Image) -> tuple[int, int]:
    """(hash of the image, hash of its mirror image), one resize and one transform."""
    low = _low(image)
    return _bits(low), _bits(low * _MIRROR)


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


class PHashSignal:
    name: ClassVar[str] = "phash"
    version: ClassVar[str] = "2"  # 2: adds ``mirror``
    needs_image: ClassVar[bool] = True
    schema: ClassVar[pa.Schema] = pa.schema([("hash", pa.uint64()), ("mirror", pa.uint64())])

    def compute(self, batch: list[Sample]) -> list[dict[str, Any]]:
        return [dict(zip(("hash", "mirror"), phashes(sample.image), strict=True)) for sample in batch]
