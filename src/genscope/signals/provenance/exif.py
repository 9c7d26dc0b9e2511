"""A small EXIF (TIFF IFD) reader for the handful of tags provenance needs.

Our own reader rather than Pillow's because a hostile count must be visible: Pillow silently
drops a tag whose value runs past the segment, while we keep the bytes that are there and mark
the tag as truncated, so a cut UserComment is reported instead of vanishing.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}
MAX_ENTRIES = 1024  # per IFD; real IFDs hold a few dozen

IFD0_TAGS = {0x010E: "ImageDescription", 0x010F: "Make", 0x0110: "Model", 0x0131: "Software",
             0x0132: "DateTime", 0x013B: "Artist"}
EXIF_TAGS = {0x9003: "DateTimeOriginal", 0x9286: "UserComment", 0xA433: "LensMake", 0xA434: "LensModel"}
GPS_TAGS = {0x0002: "GPSLatitude", 0x0004: "GPSLongitude"}
EXIF_IFD, GPS_IFD = 0x8769, 0x8825


@dataclass
class Exif:
    values: dict[str, bytes] = field(default_factory=dict)  # raw value bytes, clipped to the block
    truncated: set[str] = field(default_factory=set)  # tags whose declared size ran past the block

    def text(self, name: str) -> str | None:
        """An ASCII tag as text, NULs and padding stripped; None when absent or empty."""
        raw = self.values.get(name)
        if raw is None:
            return None
        text = raw.split(b"\x00", 1)[0].decode("utf-8", errors="replace").strip()
        return text or None


def parse_exif(block: bytes) -> Exif:
    """Read IFD0, the Exif IFD and the GPS IFD; anything malformed is skipped, never raised."""
    out = Exif()
    if len(block) < 8 or block[:4] not in (b"II*\x00", b"MM\x00*"):
        return out
    order = "<" if block[:2] == b"II" else ">"
    (ifd0,) = struct.unpack(order + "I", block[4:8])
    pointers = _read_ifd(block, order, ifd0, IFD0_TAGS, out)
    if EXIF_IFD in pointers:
        _read_ifd(block, order, pointers[EXIF_IFD], EXIF_TAGS, out)
    if GPS_IFD in pointers:
        _read_ifd(block, order, pointers[GPS_IFD], GPS_TAGS, out)
    return out


def _read_ifd(block: bytes, order: str, offset: int, wanted: dict[int, str], out: Exif) -> dict[int, int]:
    """Store wanted tags into ``out``; return sub-IFD pointers found."""
    pointers: dict[int, int] = {}
    if offset + 2 > len(block):
        return pointers
    (count,) = struct.unpack(order + "H", block[offset : offset + 2])
    for i in range(min(count, MAX_ENTRIES)):
        at = offset + 2 + 12 * i
        if at + 12 > len(block):
            break
        tag, typ, n = struct.unpack(order + "HHI", block[at : at + 8])
        size = TYPE_SIZES.get(typ, 1) * n
        if tag in (EXIF_IFD, GPS_IFD):
            (pointers[tag],) = struct.unpack(order + "I", block[at + 8 : at + 12])
            continue
        name = wanted.get(tag)
        if name is None:
            continue
        if size <= 4:
            value = block[at + 8 : at + 8 + size]
        else:
            (start,) = struct.unpack(order + "I", block[at + 8 : at + 12])
            value = block[start : start + size]
        if len(value) < size:
            out.truncated.add(name)
        out.values.setdefault(name, value)
    return pointers
