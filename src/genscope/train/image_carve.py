"""Images inside other files: WebP streams in Qt ``.rcc`` resource bundles, tiles of a sample grid."""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator

from PIL import Image, JpegImagePlugin

_RCC_DIRECTORY = 0x02


def rcc_names(data: bytes) -> dict[int, str]:
    """Offset of each file's bytes → its resource path, from the rcc tree; {} when the header is not rcc.

    Layout (Qt rcc v1–v3): magic ``qres``, version, tree/data/names offsets; tree nodes of 14 (v1) or 22 bytes:
    name offset, flags, then (child count, first child) for a folder or (locale, data offset) for a file.
    """
    if data[:4] != b"qres" or len(data) < 20:
        return {}
    version, tree, payload, names = struct.unpack(">4I", data[4:20])
    node = 14 if version == 1 else 22
    out: dict[int, str] = {}
    stack, seen = [(0, "")], set()
    try:
        while stack:
            index, prefix = stack.pop()
            if index in seen:  # a cycle in a hostile tree
                continue
            seen.add(index)
            base = tree + index * node
            name_offset, flags = struct.unpack(">IH", data[base:base + 6])
            path = f"{prefix}/{_rcc_name(data, names + name_offset)}" if index else ""
            if flags & _RCC_DIRECTORY:
                count, first = struct.unpack(">II", data[base + 6:base + 14])
                stack.extend((child, path) for child in range(first, first + min(count, 1 << 16)))
            else:
                (offset,) = struct.unpack(">I", data[base + 10:base + 14])
                out[payload + offset + 4] = path.lstrip("/")  # 4: the stored length before the bytes
    except (struct.error, UnicodeDecodeError):
        return out
    return out


def _rcc_name(data: bytes, at: int) -> str:
    (length,) = struct.unpack(">H", data[at:at + 2])
    return data[at + 6:at + 6 + 2 * length].decode("utf-16-be")  # 6: length, then a 4-byte hash


def carve_webp(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(offset, stream) for every ``RIFF<le32 size>WEBP`` whose declared size fits in ``data``."""
    at = data.find(b"RIFF")
    while at >= 0:
        if data[at + 8:at + 12] == b"WEBP":
            (size,) = struct.unpack("<I", data[at + 4:at + 8])
            if size >= 4 and at + 8 + size <= len(data):
                yield at, data[at:at + 8 + size]
                at = data.find(b"RIFF", at + 8 + size)
                continue
        at = data.find(b"RIFF", at + 4)


def rcc_images(data: bytes) -> Iterator[tuple[str, bytes]]:
    """(resource path or ``#offset``, WebP bytes) for each WebP stored uncompressed in an rcc bundle."""
    names = rcc_names(data)
    for offset, stream in carve_webp(data):
        yield names.get(offset, f"#{offset}"), stream


def grid_tiles(data: bytes, tile: int = 256) -> Iterator[tuple[str, bytes]]:
    """(``r<row>c<col>``, JPEG bytes) for each whole tile of a JPEG sample grid.

    Tiles start on the 8-pixel block grid, so re-encoding with the grid's own quantisation tables and
    subsampling keeps them close to the bytes the grid held (no second, different JPEG quality).
    """
    with Image.open(io.BytesIO(data)) as grid:
        grid.load()
        rows, cols = grid.height // tile, grid.width // tile
        options = {}
        if grid.format == "JPEG":
            options = {"qtables": grid.quantization, "subsampling": JpegImagePlugin.get_sampling(grid)}
        for r in range(rows):
            for c in range(cols):
                buffer = io.BytesIO()
                grid.crop((c * tile, r * tile, (c + 1) * tile, (r + 1) * tile)).save(buffer, "JPEG", **options)
                yield f"r{r}c{c}", buffer.getvalue()
