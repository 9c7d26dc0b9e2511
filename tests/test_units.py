"""Decoding and the cheap signals, on images built here."""

from __future__ import annotations

import io
import struct
import tracemalloc

import numpy as np
import pytest
from PIL import EpsImagePlugin, Image

from genscope import decode as decode_module
from genscope.decode import decode, sniff_format
from genscope.signals.exif import ExifSignal, clean_text
from genscope.signals.phash import hamming, phash

from hostile import (
    EPS,
    bomb_png,
    encode,
    jpeg_with_orientation,
    photo,
    png_broken_stream,
    png_truncated_after_pixels,
    psd_damaged_layers,
)


@pytest.mark.parametrize(("fmt", "name"), [("JPEG", "jpeg"), ("PNG", "png"), ("WEBP", "webp"), ("GIF", "gif"),
                                           ("BMP", "bmp"), ("TIFF", "tiff"), ("AVIF", "avif"), ("PPM", "pnm")])
def test_sniffing_reads_content_not_names(fmt: str, name: str) -> None:
    assert sniff_format(encode(photo(), fmt)) == name


def test_sixteen_bit_keeps_its_range() -> None:
    ramp = (np.tile(np.linspace(0, 65535, 64), (16, 1))).astype(np.uint16)
    decoded = decode(encode(Image.fromarray(ramp), "PNG"))
    grey = np.asarray(decoded.image)[..., 0]
    assert decoded.mode == "I;16" and grey[0, 0] == 0 and grey[0, -1] == 255 and 100 < grey[0, 32] < 160


def test_wide_greyscale_converts_strip_by_strip_to_the_same_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decode_module, "_STRIP_PIXELS", 100)  # many strips, a last one shorter
    values = np.random.default_rng(0).integers(0, 65536, (37, 29), dtype=np.uint16)
    rgb = np.asarray(decode(encode(Image.fromarray(values), "PNG")).image)
    assert rgb.dtype == np.uint8 and rgb.shape == (37, 29, 3)
    assert np.array_equal(rgb[..., 0], (values.astype(np.uint32) * 255 // 65535).astype(np.uint8))
    floats = Image.fromarray(np.linspace(-10, 250, 37 * 29, dtype=np.float32).reshape(37, 29))
    grey = np.asarray(decode_module._to_rgb(floats))[..., 0]
    assert grey.dtype == np.uint8 and grey[0, 0] == 0 and grey[-1, -1] == 250  # negatives clip to black


def test_wide_greyscale_needs_no_float_copy_of_the_image() -> None:
    # A 10000x10000 16-bit PNG took 2.8 GB in float64 steps; numpy's share is what tracemalloc sees.
    image = Image.fromarray(np.full((1000, 2000), 40000, dtype=np.uint16))
    tracemalloc.start()
    try:
        decode_module._to_rgb(image)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1000 * 2000  # the 8-bit result (2 MB) and small strips, not 8 bytes a pixel


@pytest.mark.parametrize("data", [png_broken_stream(), png_truncated_after_pixels()],
                         ids=["broken_data_stream", "truncated_chunk_after_pixels"])
def test_a_damaged_png_is_an_error_not_a_clean_image(data: bytes) -> None:
    decoded = decode(data)
    assert decoded.error is not None and decoded.error[0] == "decode.truncated" and decoded.image is None


STUBS = {"hdf5": b"\x89HDF\r\n\x1a\n" + bytes(100), "grib": b"GRIB\x00\x00\x00\x01" + bytes(100),
         "bufr": b"BUFR\x00\x00\x00\x01" + bytes(100),
         "wmf": struct.pack("<II4i4i", 1, 108, 0, 0, 10, 10, 0, 0, 100, 100) + b" EMF" + bytes(80),  # EMF
         "dds": b"DDS " + struct.pack("<7I", 124, 0x1007, 16, 16, 0, 0, 0) + bytes(44)
                + struct.pack("<2I", 32, 0x4) + b"XXXX" + bytes(552)}  # a FourCC Pillow never implemented


@pytest.mark.parametrize("fmt", sorted(STUBS))
def test_missing_support_is_unsupported_not_corrupt(fmt: str) -> None:
    decoded = decode(STUBS[fmt])
    assert decoded.error is not None and decoded.error[0] == "decode.unsupported", decoded.error
    assert decoded.format == fmt


@pytest.mark.skipif(EpsImagePlugin.has_ghostscript(), reason="Ghostscript is installed: EPS decodes")
def test_eps_without_ghostscript_is_unsupported() -> None:
    decoded = decode(EPS)
    assert decoded.error is not None and decoded.error[0] == "decode.unsupported" and decoded.format == "eps"
    assert "Ghostscript" in decoded.error[1]


def test_a_psd_with_a_damaged_layer_table_still_decodes() -> None:
    decoded = decode(psd_damaged_layers())
    assert decoded.error is None and decoded.image.size == (8, 6) and decoded.frames is None


@pytest.mark.parametrize(("fmt", "mode"), [("TGA", "RGB"), ("SGI", "RGB"), ("DDS", "RGB"), ("BLP", "P")])
def test_formats_without_a_magic_number_report_pillows_name(fmt: str, mode: str) -> None:
    decoded = decode(encode(Image.new(mode, (16, 16)), fmt))
    assert decoded.error is None and decoded.format == fmt.lower()


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


def test_a_jpeg_decodes_at_reduced_scale_when_every_signal_allows_it_and_reports_its_full_size():
    from genscope.signals import signal_class
    from genscope.signals.base import decode_side

    image = Image.fromarray(np.random.default_rng(0).integers(0, 256, (900, 1600, 3), dtype=np.uint8))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90°: the reported size must turn with the pixels
    buf = io.BytesIO()
    image.save(buf, "JPEG", exif=exif.tobytes())
    full, reduced = decode(buf.getvalue()), decode(buf.getvalue(), min_side=224)
    assert (full.width, full.height) == (reduced.width, reduced.height) == (900, 1600)
    assert full.image.size == (900, 1600) and min(reduced.image.size) >= 224 and reduced.image.width < 900
    detector, provenance = signal_class("detector"), signal_class("provenance")
    assert decode_side([detector], {}) == 448  # the CLIP probe: twice its 224 px view
    assert decode_side([detector], {"detector": {"model": "fast"}}) is None  # native-resolution windows
    assert decode_side([detector, provenance], {}) is None  # a signal that does not say needs every pixel
