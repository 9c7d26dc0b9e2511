"""Builds a corpus of hostile inputs, each with the outcome a correct scan must report.

Everything is made here from Pillow and the standard library, so the suite needs no fixtures
from outside the repo. ``build_corpus(folder)`` returns the cases; paths are record paths.
"""

from __future__ import annotations

import io
import json
import os
import struct
import tarfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pillow_heif
from PIL import EpsImagePlugin, Image

pillow_heif.register_heif_opener()  # to write the HEIC case; the scan registers it on its own

LONG_NAME = "long_" + "x" * 230 + ".png"


@dataclass
class Case:
    name: str  # record path relative to the corpus folder
    error: str | None  # expected error code (None: decodes)
    format: str | None = None  # expected sniffed format
    checks: dict[str, object] = field(default_factory=dict)  # other expected column values


def photo(width: int = 64, height: int = 48, seed: int = 0) -> Image.Image:
    """A small, textured RGB image (random blobs on a gradient), deterministic per seed."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 255 / width, y * 255 / height, (x + y) * 127 / (width + height)], axis=-1)
    noise = rng.normal(0, 18, (height, width, 3))
    return Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8), "RGB")


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def bomb_png(width: int = 40_000, height: int = 40_000) -> bytes:
    """A valid PNG header claiming 1.6 gigapixels, with a tiny compressed body."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    body = zlib.compress(row * 64, 9)  # only the first rows: the header alone must be refused
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", body)
            + png_chunk(b"IEND", b""))


def png_with_text(image: Image.Image, key: str, text_bytes: int) -> bytes:
    """A PNG with one oversized tEXt chunk inserted before IEND."""
    data = encode(image, "PNG")
    chunk = png_chunk(b"tEXt", key.encode() + b"\x00" + b"A" * text_bytes)
    return data[:-12] + chunk + data[-12:]


def png_broken_stream() -> bytes:
    """A PNG whose IDAT has a valid CRC but a damaged zlib stream: Pillow fails only when it loads."""
    data = encode(photo(200, 150, seed=2), "PNG")
    start = data.index(b"IDAT") - 4
    length = struct.unpack(">I", data[start:start + 4])[0]
    payload = bytearray(data[start + 8:start + 8 + length])
    payload[200:240] = b"\xff" * 40
    return data[:start] + png_chunk(b"IDAT", bytes(payload)) + data[start + 12 + length:]


def png_truncated_after_pixels() -> bytes:
    """A PNG cut inside a text chunk that follows the pixel data."""
    return png_with_text(photo(200, 150, seed=2), "parameters", 500)[:-100]


def psd_damaged_layers(width: int = 8, height: int = 6) -> bytes:
    """An RGB PSD whose layer table claims 3 layers in 10 bytes; the raw composite image is intact."""
    header = b"8BPS" + struct.pack(">H", 1) + b"\x00" * 6 + struct.pack(">HIIHH", 3, height, width, 8, 3)
    layers = struct.pack(">h", 3) + b"\xff" * 10
    layer_and_mask = struct.pack(">I", len(layers)) + layers
    pixels = bytes(range(width * height)) * 3  # three raw planes
    return (header + struct.pack(">II", 0, 0) + struct.pack(">I", len(layer_and_mask)) + layer_and_mask
            + struct.pack(">H", 0) + pixels)


def tiff_damaged(compression: str) -> bytes:
    """A TIFF whose compressed strip is overwritten: libtiff prints to stderr while Pillow fails."""
    data = bytearray(encode(photo(), "TIFF", compression=compression))
    data[20:200] = bytes(range(180))
    return bytes(data)


EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n0 0 moveto 10 10 lineto stroke\nshowpage\n%%EOF\n"


def jpeg_with_orientation(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "GenscopeCam"
    return encode(photo(40, 20, seed=orientation), "JPEG", quality=90, exif=exif.tobytes())


def animated(fmt: str) -> bytes:
    frames = [photo(32, 32, seed=i) for i in range(3)]
    options = {"save_all": True, "append_images": frames[1:], "duration": 100, "loop": 0}
    if fmt == "WEBP":
        options["lossless"] = True
    return encode(frames[0], fmt, **options)


def write(folder: Path, name: str | bytes, data: bytes) -> None:
    path = os.path.join(os.fsencode(folder), name if isinstance(name, bytes) else name.encode())
    with open(path, "wb") as handle:
        handle.write(data)


def build_tar(path: Path) -> list[Case]:
    """A WebDataset shard: good members with sidecars, a ``../`` name, and a truncated tail member."""
    good = encode(photo(seed=7), "JPEG", quality=90)
    members = [
        ("000001.jpg", good), ("000001.txt", b"a caption"), ("000001.json", json.dumps({"url": "http://x/1"}).encode()),
        ("000002.png", encode(photo(seed=8), "PNG")), ("000002.json", b"{not json"),
        ("../evil.jpg", good),
        ("000004.jpg", encode(photo(256, 256, seed=9), "JPEG", quality=95)),
    ]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for name, payload in members:
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))
    raw = buffer.getvalue()
    last_len = len(members[-1][1])
    end_of_last = raw.rfind(members[-1][1][-64:]) + 64
    path.write_bytes(raw[: end_of_last - last_len // 2])  # cut the last member in half, drop the end blocks
    shard = path.name
    return [
        Case(f"{shard}/000001.jpg", None, "jpeg", {"meta_caption": "a caption"}),
        Case(f"{shard}/000002.png", None, "png"),
        Case(f"{shard}/../evil.jpg", None, "jpeg"),
        Case(f"{shard}/000004.jpg", "tar.truncated_member"),
    ]


def build_corpus(folder: Path) -> list[Case]:
    folder.mkdir(parents=True, exist_ok=True)
    jpeg = encode(photo(seed=1), "JPEG", quality=90)
    png = encode(photo(seed=2), "PNG")
    cases: list[Case] = []

    def add(name: str, data: bytes, error: str | None, fmt: str | None = None, **checks: object) -> None:
        write(folder, name, data)
        cases.append(Case(name, error, fmt, checks))

    add("zero_bytes.jpg", b"", "decode.empty", "empty")
    add("truncated.jpg", encode(photo(400, 300, seed=3), "JPEG", quality=95)[:3000], "decode.truncated", "jpeg",
        width=400, height=300)
    add("truncated.png", encode(photo(400, 300, seed=4), "PNG")[:2000], "decode.truncated", "png")
    add("png_named.jpg", png, None, "png")
    add("jpeg_named.png", jpeg, None, "jpeg")
    add("bomb.png", bomb_png(), "decode.bomb", "png")
    add("cmyk.jpg", encode(photo(seed=5).convert("CMYK"), "JPEG", quality=90), None, "jpeg", mode="CMYK")
    sixteen = Image.fromarray(np.asarray(photo(seed=6).convert("L"), dtype=np.uint16) * 257)
    add("sixteen_bit.png", encode(sixteen, "PNG"), None, "png", mode="I;16")
    palette = photo(seed=10).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    add("palette_transparency.png", encode(palette, "PNG", transparency=0), None, "png", mode="P")
    add("animated.gif", animated("GIF"), None, "gif", frames=3)
    add("animated.webp", animated("WEBP"), None, "webp", frames=3)
    for orientation in range(1, 9):
        rotated = orientation >= 5  # 5–8 swap width and height
        add(f"orientation_{orientation}.jpg", jpeg_with_orientation(orientation), None, "jpeg",
            width=20 if rotated else 40, height=40 if rotated else 20, **{"exif.orientation": orientation})
    add("real.avif", encode(photo(seed=11), "AVIF", quality=80), None, "avif")
    add("fake.heic", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 200,
        "decode.corrupt", "heif")  # the dev install has the HEIF decoder (genscope[heif])
    add("real.heic", encode(photo(seed=16), "HEIF", quality=80), None, "heif", width=64, height=48)
    add("huge_text.png", png_with_text(photo(seed=12), "parameters", 12 * 1024 * 1024), None, "png")
    add("garbage.jpg", bytes(range(256)) * 8, "decode.unsupported", "unknown")
    add("vector.svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', "decode.unsupported",
        "svg")
    add("broken_stream.png", png_broken_stream(), "decode.truncated", "png")
    add("truncated_text_chunk.png", png_truncated_after_pixels(), "decode.truncated", "png")
    add("damaged_layers.psd", psd_damaged_layers(), None, "psd", frames=None, width=8, height=6)
    add("damaged_lzw.tif", tiff_damaged("tiff_lzw"), "decode.corrupt", "tiff")
    add("damaged_deflate.tif", tiff_damaged("tiff_adobe_deflate"), "decode.corrupt", "tiff")
    add("no_magic.tga", encode(photo(seed=17), "TGA"), None, "tga")
    add("postscript.jpg", EPS, None if EpsImagePlugin.has_ghostscript() else "decode.unsupported", "eps")
    add(LONG_NAME, png, None, "png")
    write(folder, b"caf\xe9_latin1.png", png)
    cases.append(Case("caf\\xe9_latin1.png", None, "png"))
    add("xss_<img src=x onerror=alert(1)>.png", _png_with_comment(), None, "png")
    os.symlink("loop_a.jpg", folder / "loop_b.jpg")
    os.symlink("loop_b.jpg", folder / "loop_a.jpg")
    cases += [Case("loop_a.jpg", "io.symlink_loop"), Case("loop_b.jpg", "io.symlink_loop")]
    (folder / "sub").mkdir()
    write(folder / "sub", "nested.webp", encode(photo(seed=14), "WEBP", quality=80))
    os.symlink("..", folder / "sub" / "back_to_parent")  # a folder loop: must not recurse forever
    cases.append(Case("sub/nested.webp", None, "webp"))
    os.mkfifo(folder / "fifo.jpg")
    cases.append(Case("fifo.jpg", "io.not_regular"))
    locked = folder / "locked.jpg"
    locked.write_bytes(jpeg)
    locked.chmod(0)
    cases.append(Case("locked.jpg", "io.permission"))
    cases += build_tar(folder / "shard.tar")
    return cases


def _png_with_comment() -> bytes:
    image = photo(seed=15)
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<script>alert(1)</script><img src=x onerror=alert(2)>")
    return encode(image, "PNG", pnginfo=info)
