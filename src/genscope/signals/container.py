"""Container facts a model could learn instead of content: the shortcut suspects.

ICC profile, estimated JPEG quality and chroma subsampling, progressive coding, embedded text
and XMP, and compressed bits per pixel. All read from what the decoder already parsed.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from genscope.signals.base import Sample

# The IJG (libjpeg) standard luminance table, Annex K of the JPEG standard.
_IJG_LUMA = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99], dtype=np.float64)
_SUBSAMPLING = {0: "4:4:4", 1: "4:2:2", 2: "4:2:0"}
# Pillow info keys that are not embedded text.
_NOT_TEXT = {"dpi", "gamma", "transparency", "icc_profile", "exif", "xmp", "XML:com.adobe.xmp", "aspect",
             "progressive", "progression", "jfif", "jfif_version", "jfif_unit", "jfif_density", "adobe",
             "adobe_transform", "duration", "loop", "background", "version", "interlace", "srgb", "chromaticity",
             "timestamp", "compression", "resolution", "default_image", "mp", "mpoffset", "photoshop",
             "blend", "disposal", "bbox", "extension", "palette"}


def jpeg_quality(quantization: dict[int, Any]) -> int | None:
    """IJG quality 1–100 that best explains the luminance table (order-independent estimate)."""
    table = quantization.get(0)
    if table is None or len(table) != 64:
        return None
    scale = 100.0 * float(np.sum(np.asarray(table, dtype=np.float64))) / float(_IJG_LUMA.sum())
    quality = (200.0 - scale) / 2.0 if scale <= 100.0 else 5000.0 / scale
    return int(np.clip(round(quality), 1, 100))


class ContainerSignal:
    name: ClassVar[str] = "container"
    version: ClassVar[str] = "1"
    needs_image: ClassVar[bool] = True
    schema: ClassVar[pa.Schema] = pa.schema([
        ("icc", pa.bool_()),
        ("jpeg_quality", pa.int16()),
        ("jpeg_subsampling", pa.string()),
        ("progressive", pa.bool_()),
        ("text_chunks", pa.int16()),
        ("xmp", pa.bool_()),
        ("bits_per_pixel", pa.float32()),
    ])

    def compute(self, batch: list[Sample]) -> list[dict[str, Any]]:
        return [self._one(sample) for sample in batch]

    @staticmethod
    def _one(sample: Sample) -> dict[str, Any]:
        info = sample.info.get("pil_info", {})
        quantization = sample.info.get("jpeg_quantization")
        width, height = sample.image.size
        return {
            "icc": bool(sample.info.get("icc")),
            "jpeg_quality": jpeg_quality(quantization) if quantization else None,
            "jpeg_subsampling": _SUBSAMPLING.get(sample.info.get("jpeg_subsampling", -1)),
            "progressive": bool(info.get("progressive") or info.get("progression")),
            "text_chunks": sum(1 for key in info if isinstance(key, str) and key not in _NOT_TEXT),
            "xmp": bool(info.get("xmp") or info.get("XML:com.adobe.xmp")),
            "bits_per_pixel": len(sample.data) * 8.0 / max(width * height, 1),
        }
