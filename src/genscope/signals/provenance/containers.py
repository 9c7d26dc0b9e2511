"""Walk PNG, JPEG and WebP containers for metadata blocks, with our own size and CRC checks.

Pillow is not used here on purpose: it stops reading PNG text at the first IDAT in some paths,
refuses a whole file over one bad CRC, and inflates zTXt before we can bound it. Each walker
collects the blocks provenance needs and records problems as ``ReadError`` issues instead of
raising, so one hostile chunk never hides the rest of the file.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

from genscope.signals.provenance.limits import Limits, ReadError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
XMP_JPEG_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")


@dataclass
class Containers:
    """Metadata blocks found in one file."""

    format: str | None = None  # png | jpeg | webp | None when not one of these
    texts: dict[str, str] = field(default_factory=dict)  # PNG text chunks by keyword, first one wins
    exif: bytes | None = None  # TIFF-structured EXIF (no "Exif\0\0" prefix)
    xmp: str | None = None
    comment: str | None = None  # JPEG COM segment
    has_jumbf: bool = False  # a C2PA/JUMBF box is embedded
    inflated: int = 0  # zTXt/iTXt text read so far: one inflate budget per file
    issues: list[ReadError] = field(default_factory=list)


def sniff(data: bytes) -> str | None:
    if data.startswith(PNG_SIGNATURE):
        return "png"
    if data.startswith(b"\xff\xd8"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def read_containers(data: bytes, limits: Limits) -> Containers:
    kind = sniff(data)
    found = Containers(format=kind)
    if kind == "png":
        _walk_png(data, limits, found)
    elif kind == "jpeg":
        _walk_jpeg(data, limits, found)
    elif kind == "webp":
        _walk_webp(data, limits, found)
    return found


def decode_text(raw: bytes) -> str:
    """tEXt is Latin-1 by the standard, but several generators write UTF-8 into it."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _inflate(blob: bytes, budget: int, what: str) -> bytes:
    """Inflate at most ``budget`` bytes: the budget is shared by all compressed chunks of a file."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(blob, budget + 1)
    except zlib.error as exc:
        raise ReadError("metadata.corrupt_chunk", f"{what}: {exc}") from None
    if len(out) > budget:
        raise ReadError("metadata.decompression_bomb", f"{what} inflates past the {budget}-byte budget left")
    return out


def _png_text(ctype: bytes, body: bytes, budget: int) -> tuple[str, str]:
    keyword, sep, rest = body.partition(b"\x00")
    if not sep:
        raise ReadError("metadata.corrupt_chunk", f"{ctype.decode()} chunk without keyword separator")
    key = keyword.decode("latin-1")
    if ctype == b"tEXt":
        return key, decode_text(rest)
    if ctype == b"zTXt":
        return key, decode_text(_inflate(rest[1:], budget, f"zTXt {key!r}"))
    # iTXt: compression flag, method, language tag\0, translated keyword\0, UTF-8 text.
    if len(rest) < 2:
        raise ReadError("metadata.corrupt_chunk", f"iTXt {key!r} is too short")
    compressed, rest = rest[0], rest[2:]
    _, _, rest = rest.partition(b"\x00")
    _, _, text = rest.partition(b"\x00")
    if compressed:
        text = _inflate(text, budget, f"iTXt {key!r}")
    try:
        return key, text.decode("utf-8")
    except UnicodeDecodeError:
        raise ReadError("metadata.invalid_encoding", f"iTXt {key!r} is not valid UTF-8") from None


def _walk_png(data: bytes, limits: Limits, found: Containers) -> None:
    pos, n = len(PNG_SIGNATURE), 0
    while pos + 8 <= len(data) and n < limits.max_chunks:
        n += 1
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        body_at, end = pos + 8, pos + 12 + length
        if end > len(data):
            break  # truncated file: what came before is still good
        if ctype in TEXT_CHUNKS or ctype in (b"eXIf", b"caBX"):
            if length > limits.max_text_chunk:
                found.issues.append(ReadError(
                    "metadata.oversized_chunk", f"{ctype.decode()} chunk of {length} bytes skipped"))
                pos = end
                continue
            body = data[body_at : body_at + length]
            (crc,) = struct.unpack(">I", data[body_at + length : end])
            if zlib.crc32(ctype + body) & 0xFFFFFFFF != crc:
                found.issues.append(ReadError("metadata.bad_crc", f"{ctype.decode()} CRC mismatch: ignored"))
            elif ctype == b"eXIf":
                found.exif = found.exif or body
            elif ctype == b"caBX":
                found.has_jumbf = True
            else:
                try:
                    key, text = _png_text(ctype, body, limits.max_inflated - found.inflated)
                except ReadError as err:
                    found.issues.append(err)
                else:
                    found.inflated += len(text) if ctype != b"tEXt" else 0
                    if key == "XML:com.adobe.xmp":
                        found.xmp = found.xmp or text
                    found.texts.setdefault(key, text)
        elif ctype == b"IEND":
            break
        pos = end


def _walk_jpeg(data: bytes, limits: Limits, found: Containers) -> None:
    pos, n = 2, 0
    while pos + 4 <= len(data) and n < limits.max_chunks:
        n += 1
        if data[pos] != 0xFF:
            break
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):
            pos += 2
            continue
        if marker in (0xDA, 0xD9):  # start of scan / end of image: no more metadata segments
            break
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        body = data[pos + 4 : pos + 2 + length]
        if marker == 0xE1 and body.startswith(b"Exif\x00\x00") and found.exif is None:
            found.exif = body[6:]
        elif marker == 0xE1 and body.startswith(XMP_JPEG_HEADER) and found.xmp is None:
            found.xmp = decode_text(body[len(XMP_JPEG_HEADER) :])
        elif marker == 0xFE and found.comment is None:
            found.comment = decode_text(body)
        elif marker == 0xEB and body[:2] == b"JP" and b"c2pa" in body[:128]:  # not other JUMBF uses
            found.has_jumbf = True
        pos += 2 + length


def _walk_webp(data: bytes, limits: Limits, found: Containers) -> None:
    pos, n = 12, 0
    while pos + 8 <= len(data) and n < limits.max_chunks:
        n += 1
        fourcc, size = struct.unpack("<4sI", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + size]
        if fourcc in (b"EXIF", b"XMP ") and size > limits.max_text_chunk:
            too_big = ReadError("metadata.oversized_chunk", f"{fourcc.decode()} chunk of {size} bytes")
            found.issues.append(too_big)
        elif fourcc == b"EXIF" and found.exif is None:
            found.exif = body[6:] if body.startswith(b"Exif\x00\x00") else body
        elif fourcc == b"XMP " and found.xmp is None:
            found.xmp = decode_text(body)
        elif fourcc == b"C2PA":
            found.has_jumbf = True
        pos += 8 + size + (size & 1)
