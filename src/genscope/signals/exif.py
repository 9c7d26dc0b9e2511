"""EXIF basics: who made the file and when. Values are untrusted text: cleaned and capped."""

from __future__ import annotations

from typing import Any, ClassVar

import pyarrow as pa
from PIL import Image

from genscope.signals.base import Sample

MAX_TEXT = 256
_EXIF_IFD = 0x8769
_TAGS = {"make": 0x010F, "model": 0x0110, "software": 0x0131}
_DATETIME = 0x0132
_DATETIME_ORIGINAL = 0x9003


def clean_text(value: Any, limit: int = MAX_TEXT) -> str | None:
    """Printable text from an EXIF value (bytes or str), NULs and padding stripped, capped."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = "".join(ch for ch in str(value) if ch.isprintable() or ch == " ").strip()
    return text[:limit] or None


class ExifSignal:
    name: ClassVar[str] = "exif"
    version: ClassVar[str] = "1"
    needs_image: ClassVar[bool] = True
    schema: ClassVar[pa.Schema] = pa.schema([
        ("present", pa.bool_()),
        ("make", pa.string()),
        ("model", pa.string()),
        ("software", pa.string()),
        ("datetime", pa.string()),
        ("orientation", pa.int8()),
        ("tags", pa.int32()),
    ])

    def compute(self, batch: list[Sample]) -> list[dict[str, Any]]:
        return [self._one(sample.info.get("exif")) for sample in batch]

    @staticmethod
    def _one(exif: Image.Exif | None) -> dict[str, Any]:
        if not exif:
            return {"present": False, "tags": 0}
        row: dict[str, Any] = {key: clean_text(exif.get(tag)) for key, tag in _TAGS.items()}
        try:
            sub = exif.get_ifd(_EXIF_IFD)
        except Exception:  # a broken sub-IFD still leaves the main tags
            sub = {}
        row["datetime"] = clean_text(sub.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME), 32)
        orientation = exif.get(0x0112)
        row["orientation"] = orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else None
        row["present"] = True
        row["tags"] = len(exif) + len(sub)
        return row
