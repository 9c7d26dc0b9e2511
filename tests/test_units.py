"""Decoding and the cheap signals, on images built here."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from genscope.decode import decode, sniff_format
from genscope.signals.exif import ExifSignal, clean_text
from genscope.signals.phash import hamming, phash

from hostile import bomb_png, encode, jpeg_with_orientation, photo


@pytest.mark.parametrize(("fmt", "name"), [("JPEG", "jpeg"), ("PNG", "png"), ("WEBP", "webp"), ("GIF", "gif"),
                                           ("BMP", "bmp"), ("TIFF", "tiff"), ("AVIF", "avif"), ("PPM", "pnm")])
def test_sniffing_reads_content_not_names(fmt: str, name: str) -> None:
    assert sniff_format(encode(photo(), fmt)) == name


def test_sixteen_bit_keeps_its_range() -> None:
    ramp = (np.tile(np.linspace(0, 65535, 64), (16, 1))).astype(np.uint16)
    decoded = decode(encode(Image.fromarray(ramp), "PNG"))
    grey = np.asarray(decoded.image)[..., 0]
    assert decoded.mode == "I;16" and grey[0, 0] == 0 and grey[0, -1] == 255 and 100 < grey[0, 32] < 160


def test_transparency_is_composited_on_white() -> None:
    rgba = Image.new("RGBA", (8, 8), (255, 0, 0, 0))  # fully transparent red
    decoded = decode(encode(rgba, "PNG"))
    assert decoded.image.getpixel((0, 0)) == (255, 255, 255)


def test_orientation_is_applied() -> None:
    decoded = decode(jpeg_with_orientation(6))
    assert decoded.image.size == (20, 40) and decoded.info["orientation"] == 6


def test_exif_fields_are_read_and_cleaned() -> None:
    exif = Image.Exif()
    exif[0x010F] = "Canon\x00\x00"
    exif[0x0110] = "EOS 5D"
    exif[0x0131] = "x" * 1000
    decoded = decode(encode(photo(), "JPEG", exif=exif.tobytes()))
    row = ExifSignal().compute([_sample(decoded)])[0]
    assert row["make"] == "Canon" and row["model"] == "EOS 5D" and len(row["software"]) == 256
    assert ExifSignal().compute([_sample(decode(encode(photo(), "PNG")))])[0] == {"present": False, "tags": 0}
    assert clean_text(b"\x00\x01 ok \x7f") == "ok"


def _sample(decoded):
    from genscope.signals import Sample

    return Sample(path="x", data=b"", image=decoded.image, info=decoded.info)


def test_phash_survives_recompression_and_separates_images() -> None:
    a, b = photo(256, 192, seed=1), photo(256, 192, seed=2)
    recompressed = Image.open(io.BytesIO(encode(a, "JPEG", quality=60))).convert("RGB")
    resized = a.resize((128, 96))
    assert hamming(phash(a), phash(recompressed)) <= 4
    assert hamming(phash(a), phash(resized)) <= 6
    shapes = Image.new("RGB", (256, 192), "white")
    shapes.paste((0, 0, 0), (0, 0, 128, 192))
    assert hamming(phash(a), phash(shapes)) > 16
    assert 0 <= phash(b) < 2**64


@pytest.mark.parametrize("pixels", [64 * 48 - 1, 1000])  # over the limit (Pillow warns) and over twice it (raises)
def test_bomb_message_names_the_limit_the_user_set(pixels: int) -> None:
    decoded = decode(encode(photo(64, 48), "PNG"), max_pixels=pixels)
    assert decoded.error is not None and decoded.error[0] == "decode.bomb"
    assert f"limit of {pixels} pixels" in decoded.error[1] and "3072 pixels" in decoded.error[1]
    assert decode(bomb_png(), max_pixels=10**8).error[1].startswith("Image size (1600000000 pixels)")
