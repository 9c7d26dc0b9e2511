"""Bytes → a decoded, normalised image plus facts, or a machine-readable error.

The format is sniffed from the content, never taken from the file name. Decoding is bounded:
Pillow's decompression-bomb limit is enforced as an error, not a warning.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import io
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image, ImageOps, JpegImagePlugin, UnidentifiedImageError

DEFAULT_MAX_PIXELS = 100_000_000

# Hostile files make Pillow warn about malformed metadata on almost every read; the facts it can
# read are kept and real failures become error rows, so the warnings would only flood the terminal.
warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")


def _silence_libtiff() -> None:
    """libtiff prints its warnings and errors from C straight to stderr, past ``--quiet`` and over the
    progress bar; a TIFF that fails still becomes an error row, so its handlers are switched off."""
    from PIL import _imaging  # noqa: F401  (loads the libtiff that Pillow decodes with)

    for path in _loaded_libraries("libtiff") or [ctypes.util.find_library("tiff")]:
        try:
            library = ctypes.CDLL(path)
            for setter in (library.TIFFSetWarningHandler, library.TIFFSetErrorHandler):
                setter.argtypes, setter.restype = [ctypes.c_void_p], ctypes.c_void_p
                setter(None)
        except (OSError, AttributeError, TypeError):  # no libtiff, or not one we can reach: harmless noise
            continue


def _loaded_libraries(stem: str) -> list[str]:
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            return sorted({line.split()[-1] for line in maps if f"/{stem}" in line})
    except OSError:  # not Linux
        return []


_silence_libtiff()

_SIGNATURES: list[tuple[int, bytes, str]] = [
    (0, b"\xff\xd8\xff", "jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "png"),
    (0, b"GIF87a", "gif"),
    (0, b"GIF89a", "gif"),
    (0, b"BM", "bmp"),
    (0, b"II*\x00", "tiff"),
    (0, b"MM\x00*", "tiff"),
    (0, b"\xff\x0a", "jxl"),
    (0, b"\x00\x00\x00\x0cJXL \r\n\x87\n", "jxl"),
    (0, b"\x00\x00\x00\x0cjP  \r\n\x87\n", "jpeg2000"),
    (0, b"\xff\x4f\xff\x51", "jpeg2000"),
    (0, b"8BPS", "psd"),
    (0, b"\x00\x00\x01\x00", "ico"),
    (0, b"qoif", "qoi"),
    (0, b"DDS ", "dds"),
]
# Sniffed formats Pillow itself decodes: unreadable content in one of them is damage, not a gap.
PILLOW_FORMATS = frozenset({"jpeg", "png", "gif", "bmp", "tiff", "webp", "avif", "jpeg2000", "ico", "psd",
                            "pnm", "qoi"})
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"heim", b"heis", b"hevm", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}


def sniff_format(data: bytes) -> str:
    """Container format from magic bytes: ``jpeg``, ``png``, ``webp``, … or ``unknown``/``empty``."""
    if not data:
        return "empty"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in _AVIF_BRANDS:
            return "avif"
        if brand in _HEIF_BRANDS:
            return "heif"
    for offset, magic, name in _SIGNATURES:
        if data[offset:offset + len(magic)] == magic:
            return name
    head = data[:256].lstrip().lower()
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in data[:4096].lower()):
        return "svg"
    if data[:1] == b"P" and data[1:2] in b"123456" and data[2:3] in (b" ", b"\n", b"\r", b"\t"):
        return "pnm"
    return "unknown"


@dataclass
class Decoded:
    """Facts about one input; ``image`` is 8-bit RGB, oriented, or None with ``error`` set."""

    format: str
    image: Image.Image | None = None
    width: int | None = None
    height: int | None = None
    mode: str | None = None
    frames: int | None = None
    error: tuple[str, str] | None = None
    info: dict[str, Any] = field(default_factory=dict)


_TRUNCATION_HINTS = ("truncated", "unexpected end", "end of file", "eof", "premature end", "too short",
                     "broken data stream", "not enough data")
# Pillow's words for a gap in its own support (a stub plugin, a missing Ghostscript, a variant it never
# implemented): the file may be fine, so these are not damage.
_UNSUPPORTED_HINTS = ("cannot find loader", "unimplemented", "unsupported")


def _classify(exc: Exception, sniffed: str, max_pixels: int) -> tuple[str, str]:
    message = str(exc) or type(exc).__name__
    if isinstance(exc, Image.DecompressionBombError | Image.DecompressionBombWarning):
        # Pillow names its own limit, twice ours for the error; say the one the user set.
        size = message.split(" exceeds")[0]
        return "decode.bomb", f"{size} exceeds the limit of {max_pixels} pixels (raise --max-pixels to allow it)"
    if isinstance(exc, MemoryError):
        return "decode.bomb", "out of memory while decoding"
    if isinstance(exc, UnidentifiedImageError):
        if sniffed in PILLOW_FORMATS:
            return "decode.corrupt", f"{sniffed} signature but the header cannot be parsed"
        return "decode.unsupported", "no decoder recognises this content"
    lowered = message.lower()
    if isinstance(exc, NotImplementedError) or lowered.startswith(_UNSUPPORTED_HINTS) or "ghostscript" in lowered:
        hint = " (install Ghostscript to rasterise EPS)" if "ghostscript" in lowered else ""
        return "decode.unsupported", f"{message}{hint}"
    if any(hint in lowered for hint in _TRUNCATION_HINTS):
        return "decode.truncated", message
    return "decode.corrupt", f"{type(exc).__name__}: {message}"


_WIDE_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")
_STRIP_PIXELS = 1 << 18  # pixels converted at a time: temporaries stay near a MB whatever the image size


def _wide_to_grey(image: Image.Image) -> Image.Image:
    """16-bit, 32-bit and float greyscale → 8-bit ``L``, scaled by the real range (Pillow's own convert
    clips at 255). Strip by strip, so the peak is the image plus its 8-bit copy, as for an 8-bit file."""
    top = 65535 if (image.getextrema()[1] or 0) > 255 else 255
    width, height = image.size
    grey = np.empty((height, width), np.uint8)
    rows = max(1, _STRIP_PIXELS // max(width, 1))
    for y in range(0, height, rows):
        strip = np.clip(np.asarray(image.crop((0, y, width, min(y + rows, height)))), 0, top)
        if strip.dtype.kind == "f":
            strip *= 255.0 / top
        else:  # integers: exact, and no float copy
            strip = strip.astype(np.uint32)
            strip *= 255
            strip //= top
        grey[y:y + rows] = strip
    return Image.fromarray(grey)


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in _WIDE_MODES:
        image = _wide_to_grey(image)
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        # Composite on white, as a viewer shows it; converting would expose hidden pixels.
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(canvas, rgba).convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")


def decode(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS, min_side: int | None = None) -> Decoded:
    """Decode the first frame of ``data``. Never raises for bad input. ``min_side``: every signal of the run
    needs only this many pixels on the shorter side, so a JPEG is decoded at a reduced scale in the DCT domain
    (Pillow's ``draft``: ~5x faster on a 12 MP photo); ``width``/``height`` still report the full size."""
    result = Decoded(format=sniff_format(data))
    if result.format == "empty":
        result.error = ("decode.empty", "zero-byte file")
        return result
    if result.format == "svg":
        result.error = ("decode.unsupported", "vector SVG is not rasterised")
        return result
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if result.format == "unknown" and image.format:  # TGA, DDS, SGI, BLP…: no magic to sniff
                result.format = image.format.lower()
            result.mode = image.mode
            result.width, result.height = image.size
            result.frames = _frame_count(image)
            full_size = image.size
            if min_side and image.format == "JPEG":
                image.draft(image.mode, (min_side, min_side))  # the reduced size stays >= min_side on both sides
            # Load before reading facts: Pillow's getexif() on a PNG loads the pixels itself, and a load
            # that failed there would make this one a silent no-op on a half-decoded image.
            image.load()
            result.info = _facts(image)
            oriented = ImageOps.exif_transpose(image) or image
            result.image = _to_rgb(oriented)
    except Exception as exc:  # every decoder failure becomes an error row
        result.error = _classify(exc, result.format, max_pixels)
        if result.format == "heif" and result.error[0] == "decode.unsupported":
            result.error = (("decode.corrupt", "heif signature but the content cannot be decoded")
                            if ".heic" in Image.registered_extensions()
                            else ("decode.unsupported", "HEIF needs a decoder: pip install 'genscope[heif]'"))
        return result
    result.width, result.height = result.image.size
    if image.size != full_size:  # drafted: report the full size, turned as EXIF orientation turned the pixels
        turned = oriented.size != image.size
        result.width, result.height = full_size[::-1] if turned else full_size
    return result


def _frame_count(image: Image.Image) -> int | None:
    """Frames, or None when counting fails: a damaged PSD layer table leaves the composite image intact."""
    try:
        return int(getattr(image, "n_frames", 1) or 1)
    except Exception:  # any parser error in the frame index; the first frame is decoded apart
        return None


def _facts(image: Image.Image) -> dict[str, Any]:
    """Cheap facts read at open time: Pillow's info dict (text chunks), EXIF, ICC presence."""
    try:
        exif = image.getexif()
    except Exception:  # a broken EXIF block must not fail the decode
        exif = None
    info = dict(image.info)
    jpeg = {}
    if image.format == "JPEG":
        try:
            jpeg = {"jpeg_quantization": dict(getattr(image, "quantization", {}) or {}),
                    "jpeg_subsampling": JpegImagePlugin.get_sampling(image)}
        except Exception:  # a malformed frame header: the facts are optional
            jpeg = {}
    return {
        **jpeg,
        "pil_format": image.format,
        "pil_info": info,
        "exif": exif,
        "icc": bool(info.get("icc_profile")),
        "orientation": _orientation(exif),
    }


def _orientation(exif: Image.Exif | None) -> int:
    try:
        value = int(exif.get(0x0112, 1)) if exif else 1
    except (TypeError, ValueError):
        return 1
    return value if 1 <= value <= 8 else 1


@functools.cache
def register_optional_decoders() -> list[str]:
    """Plug in decoders that the user installed (HEIF through pillow-heif); returns their names."""
    try:
        import pillow_heif
    except ImportError:
        return []
    pillow_heif.register_heif_opener()
    return ["heif"]
