"""Thumbnails for the report: the only place the collection half re-reads images.

Only rows that decoded during the scan are re-read, with the same byte and pixel limits,
in a small process pool; anything that fails simply has no thumbnail.
"""

from __future__ import annotations

import base64
import io
import os
import warnings
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from typing import Any

from PIL import Image, ImageOps

from genscope.decode import DEFAULT_MAX_PIXELS, register_optional_decoders
from genscope.sources.item import DEFAULT_MAX_BYTES, Item, ReadError, read_item

THUMB_PX = 112


def record_item(row: dict[str, Any]) -> Item:
    """Where a records row's image is: its own file, or a member of a tar shard at an offset."""
    return Item(path=row["path"], file=row.get("shard") or row["path"], offset=row.get("offset"),
                size=row.get("bytes"))


def load_image(item: Item, size: int) -> Image.Image | None:
    """The image, EXIF orientation applied, no larger than ``size`` on its long side, with the scan's byte and
    pixel limits; None when it cannot be read now."""
    try:
        data = read_item(item, DEFAULT_MAX_BYTES)
        Image.MAX_IMAGE_PIXELS = DEFAULT_MAX_PIXELS
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            image.draft("RGB", (size * 2, size * 2))  # JPEG: decode at reduced scale, much faster
            image = ImageOps.exif_transpose(image) or image
            image.thumbnail((size, size))  # in place: no full-size copy of a large file
            return image
    except (ReadError, OSError, ValueError, SyntaxError, Image.DecompressionBombWarning,
            Image.DecompressionBombError):
        return None


def thumbnail_uri(item: Item, size: int = THUMB_PX) -> str | None:
    """A ``data:image/jpeg;base64,…`` URI, or None when the image cannot be read now."""
    image = load_image(item, size)
    return None if image is None else image_uri(image, size)


def image_uri(image: Image.Image, size: int = THUMB_PX) -> str:
    """An image as a JPEG ``data:`` URI no larger than ``size`` on its long side (``image`` is not changed)."""
    if max(image.size) > size:
        image = image.copy()
        image.thumbnail((size, size))
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=72)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def thumbnails(items: list[Item], workers: int | None = None, size: int = THUMB_PX) -> list[str | None]:
    if len(items) < 16:
        register_optional_decoders()
        return [thumbnail_uri(item, size) for item in items]
    workers = workers or os.cpu_count() or 1
    with ProcessPoolExecutor(max_workers=workers, initializer=register_optional_decoders) as pool:
        return list(pool.map(partial(thumbnail_uri, size=size), items, chunksize=8))
