"""Read every provenance group of one file once, under the per-file limits, and decide ``ai``.

Shared by the scan signal and the ``provenance()`` API so both report the same facts. Pixels
are decoded at most once, lazily, and only when a group needs them (watermark, stealth data).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import c2pa as sdk
import numpy as np
from PIL import Image, UnidentifiedImageError

from genscope.signals.provenance.c2pa import read_c2pa
from genscope.signals.provenance.camera import read_camera
from genscope.signals.provenance.containers import Containers, read_containers
from genscope.signals.provenance.exif import parse_exif
from genscope.signals.provenance.fields import complete
from genscope.signals.provenance.limits import Deadline, Limits, ReadError
from genscope.signals.provenance.metadata import read_metadata
from genscope.signals.provenance.verdict import decide
from genscope.signals.provenance.watermark import read_watermark
from genscope.signals.provenance.xmp import read_xmp


@dataclass(frozen=True)
class Options:
    limits: Limits = field(default_factory=Limits)
    watermark: str = "auto"  # "auto": skip files that cannot hold a mark; "always": decode anyway
    check_image: bool = False  # also report whether the pixel data decodes (the API; a scan decodes itself)


class Pixels:
    """The file's first frame, opened and decoded at most once."""

    def __init__(self, data: bytes, limits: Limits) -> None:
        self._data, self._limits = data, limits
        self._image: Image.Image | None = None
        self._array: np.ndarray | None = None
        self.error: ReadError | None = None

    def image(self) -> Image.Image | None:
        if self._image is None and self.error is None:
            try:
                self._image = Image.open(io.BytesIO(self._data))
            except Image.DecompressionBombError as exc:
                self.error = ReadError("image.bomb", str(exc))
            except UnidentifiedImageError:
                self.error = ReadError("image.unreadable", "no decoder recognises this content")
            except Exception as exc:  # Pillow raises many types for input it cannot identify
                self.error = ReadError("image.unreadable", f"cannot identify image: {exc}")
        return self._image

    def array(self) -> np.ndarray | None:
        """RGB or RGBA uint8 pixels, un-rotated (marks and LSB data live in stored order)."""
        image = self.image()
        if self._array is not None or image is None or self.error is not None:
            return self._array
        if image.size[0] * image.size[1] > self._limits.max_decode_pixels:
            return None
        try:
            image.seek(0)
            has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
            self._array = np.asarray(image.convert("RGBA" if has_alpha else "RGB"))
        except Exception as exc:
            self.error = _pixel_error(exc)
        return self._array

    def check(self) -> None:
        """Decode cheaply (JPEG at 1/8 scale) only to learn whether the pixel data is complete."""
        image = self.image()
        if image is None or self._array is not None or self.error is not None:
            return
        scale = 8 if image.format == "JPEG" else 1
        if image.size[0] * image.size[1] > self._limits.max_decode_pixels * scale * scale:
            return  # too large to verify within the per-file budget
        try:
            image.draft("RGB", (max(1, image.size[0] // 8), max(1, image.size[1] // 8)))
            image.load()
        except Exception as exc:
            self.error = _pixel_error(exc)


def _pixel_error(exc: Exception) -> ReadError:
    return ReadError("image.truncated" if "truncated" in str(exc) else "image.corrupt", str(exc))


def _group(name: str, deadline: Deadline, read: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        deadline.check(name)
        values = read()
    except ReadError as err:
        values = {"error": err.code, "error_message": err.message}
    return complete(name, values)


def read_provenance(data: bytes, context: sdk.Context, options: Options = Options()) -> dict[str, Any]:
    """The provenance record of one file: ``ai``, ``reasons``, ``errors`` and the four groups."""
    with warnings.catch_warnings():
        # Pillow warns on every corrupt EXIF tag it meets; the groups report what matters.
        warnings.simplefilter("ignore")
        return _read(data, context, options)


def _other_format_blocks(data: bytes, pixels: Pixels, found: Containers) -> None:
    """TIFF is itself an EXIF structure; AVIF/HEIF/others: the EXIF and XMP blocks Pillow extracted."""
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        found.exif = data
        return
    image = pixels.image()
    info = image.info if image is not None else {}
    raw_exif, xmp = info.get("exif"), info.get("xmp")
    if isinstance(raw_exif, bytes):
        found.exif = raw_exif[6:] if raw_exif.startswith(b"Exif\x00\x00") else raw_exif
    if isinstance(xmp, bytes | str):
        found.xmp = xmp.decode("utf-8", errors="replace") if isinstance(xmp, bytes) else xmp


def _read(data: bytes, context: sdk.Context, options: Options) -> dict[str, Any]:
    limits = options.limits
    deadline = Deadline(limits.seconds)
    if not data:
        groups = {name: complete(name, {}) for name in ("c2pa", "metadata", "watermark", "camera")}
        return {"ai": "unknown", "reasons": [], "errors": ["image.empty"], "error_message": "zero-byte file",
                **groups}
    found = read_containers(data, limits)
    pixels = Pixels(data, limits)
    if found.format is None:
        _other_format_blocks(data, pixels, found)
    exif = parse_exif(found.exif or b"")
    remote = read_xmp(found.xmp).get("provenance") if found.xmp and not found.has_jumbf else None
    if remote and not remote.startswith(("http://", "https://")):
        remote = None  # a "self#jumbf=" reference left behind after the manifest was stripped

    def c2pa_group() -> dict[str, Any]:
        try:
            return read_c2pa(data, found.format, found.has_jumbf, remote, context)
        except ReadError as err:
            return {"present": found.has_jumbf or None, "error": err.code, "error_message": err.message}

    def watermark_group() -> dict[str, Any]:
        image = pixels.image()
        if image is None:
            raise ReadError("watermark.unreadable", "no decodable image")
        return read_watermark(image, pixels.array, limits, force=options.watermark == "always")

    groups = {
        "c2pa": _group("c2pa", deadline, c2pa_group),
        "metadata": _group("metadata", deadline, lambda: read_metadata(found, exif, pixels.array, limits)),
        "watermark": _group("watermark", deadline, watermark_group),
        "camera": complete("camera", read_camera(exif)),
    }
    if options.check_image:
        pixels.check()
    ai, reasons = decide(groups)
    errors = [g["error"] for g in groups.values() if g.get("error")]
    record = {"ai": ai, "reasons": reasons, "errors": errors, **groups}
    if options.check_image and pixels.error is not None:
        errors.insert(0, pixels.error.code)
        record["error_message"] = pixels.error.message
    return record
