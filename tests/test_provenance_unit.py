"""Provenance parsers and guards on tiny files built here (no shared fixtures needed)."""

from __future__ import annotations

import argparse
import gzip
import io
import json
import struct
import time
import zlib
from math import comb

import numpy as np
import pyarrow as pa
import pytest
from PIL import Image

from genscope.api.provenance import provenance
from genscope.signals.base import Sample
from genscope.signals.provenance import a1111, comfyui
from genscope.signals.provenance.c2pa import trust_explanation
from genscope.signals.provenance.limits import Limits
from genscope.signals.provenance.signal import ProvenanceSignal, flatten
from genscope.signals.provenance.watermark import THRESHOLDS, decode_readings, min_correct_bits

INFOTEXT = ("a cat on a sofa, best quality\nNegative prompt: blurry, lowres\n"
            'Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1234, Size: 512x512, Model: sd15, '
            'Lora hashes: "a: 1, b: 2", Version: v1.10.1')


# ---------------------------------------------------------------- file builders

def png_bytes(size: tuple[int, int] = (8, 8), mode: str = "RGB", pixels: np.ndarray | None = None) -> bytes:
    color = (120, 80, 40)[: len(mode)]
    image = Image.fromarray(pixels) if pixels is not None else Image.new(mode, size, color)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def chunk(ctype: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(ctype + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", crc)


def with_chunks(png: bytes, chunks: list[bytes], after_idat: bool = False) -> bytes:
    """Insert chunks before the first IDAT, or just before IEND."""
    at = png.rindex(b"IEND") - 4 if after_idat else png.index(b"IDAT") - 4
    return png[:at] + b"".join(chunks) + png[at:]


def text_chunk(key: str, value: str) -> bytes:
    return chunk(b"tEXt", key.encode("latin-1") + b"\x00" + value.encode("utf-8"))


def jpeg_bytes(user_comment: bytes | None = None, make: str | None = None, subsampling: int = 2,
               size: tuple[int, int] = (16, 16)) -> bytes:
    exif = Image.Exif()
    if make:
        exif[0x010F] = make
    if user_comment is not None:
        exif.get_ifd(0x8769)[0x9286] = user_comment
    buffer = io.BytesIO()
    Image.new("RGB", size, (90, 120, 200)).save(buffer, "JPEG", exif=exif.tobytes(), subsampling=subsampling)
    return buffer.getvalue()


def comfy_graph(samplers: list[tuple[int, int]]) -> dict:
    """A ComfyUI API graph: one checkpoint, two prompts, one KSampler per (seed, steps)."""
    graph = {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "base.safetensors"}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a lighthouse at dusk", "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
        "8": {"class_type": "LoraLoader", "inputs": {"lora_name": "x.safetensors", "model": ["4", 0]}},
    }
    for i, (seed, steps) in enumerate(samplers):
        graph[str(10 + i)] = {"class_type": "KSampler", "inputs": {
            "seed": seed, "steps": steps, "cfg": 6.5, "sampler_name": "euler", "scheduler": "normal",
            "denoise": 1.0, "model": ["8", 0], "positive": ["6", 0], "negative": ["7", 0]}}
    return graph


def stealth_pixels(text: str, compressed: bool, size: int = 64) -> np.ndarray:
    """RGBA pixels whose alpha LSBs carry sd_webui_stealth_pnginfo data, column-major."""
    payload = gzip.compress(text.encode()) if compressed else text.encode()
    signature = b"stealth_pngcomp" if compressed else b"stealth_pnginfo"
    bits = np.unpackbits(np.frombuffer(signature + struct.pack(">I", len(payload) * 8) + payload, np.uint8))
    pixels = np.full((size, size, 4), 200, np.uint8)
    alpha = np.full(size * size, 254, np.uint8)
    alpha[: bits.size] |= bits
    pixels[..., 3] = alpha.reshape(size, size).T  # column-major order
    return pixels


# ---------------------------------------------------------------- parsers

def test_infotext_parses_prompt_negative_and_quoted_parameters() -> None:
    gen = a1111.parse_infotext(INFOTEXT)
    assert gen is not None
    assert (gen.tool, gen.prompt) == ("a1111", "a cat on a sofa, best quality")
    assert gen.negative_prompt == "blurry, lowres"
    assert (gen.seed, gen.steps, gen.sampler, gen.cfg_scale, gen.model) == (1234, 20, "Euler a", 7.0, "sd15")
    assert a1111.split_params('Lora hashes: "a: 1, b: 2", Civitai resources: [{"a":1,"b":2}], Seed: 5') == {
        "Lora hashes": "a: 1, b: 2", "Civitai resources": '[{"a":1,"b":2}]', "Seed": "5"}


@pytest.mark.parametrize(("version_params", "tool"), [
    ("Version: f2.0.1v1.10.1", "forge"), ("Version: neo", "forge"),
    ("App: SD.Next, Version: 56a8aea", "sdnext"),
    ('Civitai resources: [{"type":"checkpoint"}]', "civitai"), ("Version: v1.10.1", "a1111"),
])
def test_infotext_tool_variants(version_params: str, tool: str) -> None:
    gen = a1111.parse_infotext(f"x\nSteps: 20, Seed: 1, {version_params}")
    assert gen is not None and gen.tool == tool


def test_comfyui_graph_with_two_samplers_reports_each() -> None:
    gen = comfyui.parse_prompt_graph(comfy_graph([(111, 20), (222, 8)]))
    assert [(s["seed"], s["steps"]) for s in gen.samplers] == [(111, 20), (222, 8)]
    assert {(s["prompt"], s["model"]) for s in gen.samplers} == {("a lighthouse at dusk", "base.safetensors")}
    # Headline fields only where every sampler agrees: never one pass's seed as the image's.
    assert (gen.seed, gen.steps, gen.cfg_scale, gen.model) == (None, None, 6.5, "base.safetensors")
    single = comfyui.parse_prompt_graph(comfy_graph([(111, 20)]))
    assert (single.seed, single.steps, single.negative_prompt) == (111, 20, "blurry")


def test_comfyui_linked_seed_is_followed() -> None:
    graph = comfy_graph([(0, 20)])
    graph["30"] = {"class_type": "Seed (rgthree)", "inputs": {"seed": 987654321}}
    graph["10"]["inputs"]["seed"] = ["30", 0]
    assert comfyui.parse_prompt_graph(graph).seed == 987654321


# ---------------------------------------------------------------- whole files through the API

def test_png_parameters_after_idat_are_read() -> None:
    data = with_chunks(png_bytes(), [text_chunk("parameters", INFOTEXT)], after_idat=True)
    record = provenance(data)
    assert record["metadata"]["tool"] == "a1111" and record["metadata"]["seed"] == 1234
    assert record["ai"] == "yes" and "Seed 1234" in record["reasons"][0]


@pytest.mark.parametrize("encoding", ["utf-16-be", "utf-16-le"])
def test_utf16_user_comment_in_jpeg(encoding: str) -> None:
    data = jpeg_bytes(b"UNICODE\x00" + INFOTEXT.encode(encoding))
    meta = provenance(data)["metadata"]
    assert (meta["tool"], meta["usercomment_encoding"], meta["prompt"]) == (
        "a1111", encoding, "a cat on a sofa, best quality")
    assert meta["usercomment"] is None  # it was generation metadata, not a person's note


def test_screenshot_user_comment_is_not_generation_metadata() -> None:
    record = provenance(jpeg_bytes(b"ASCII\x00\x00\x00Screenshot"))
    meta = record["metadata"]
    assert (meta["tool"], meta["usercomment"]) == ("screenshot", "Screenshot")
    assert meta["usercomment_encoding"] == "ascii"
    assert record["ai"] == "unknown"


def test_camera_exif_alone_is_unknown_but_reported() -> None:
    record = provenance(jpeg_bytes(make="Canon"))
    assert record["ai"] == "unknown" and record["camera"]["make"] == "Canon"
    assert any(reason.startswith("Camera EXIF: Canon") for reason in record["reasons"])


def test_swarmui_json_user_comment() -> None:
    body = json.dumps({"sui_image_params": {"prompt": "a fox", "seed": 7, "steps": 30, "cfgscale": 5.5,
                                            "sampler": "euler", "model": "m1"}})
    meta = provenance(jpeg_bytes(b"UNICODE\x00" + body.encode("utf-16-le")))["metadata"]
    assert (meta["tool"], meta["prompt"], meta["seed"], meta["cfg_scale"]) == ("swarmui", "a fox", 7, 5.5)


def test_invokeai_dream_and_novelai_chunks() -> None:
    line = '"a red car" -s 30 -S 42 -C 7.5 -A k_euler'
    dream = provenance(with_chunks(png_bytes(), [text_chunk("Dream", line)]))["metadata"]
    assert (dream["tool"], dream["prompt"]) == ("invokeai", "a red car")
    assert (dream["seed"], dream["steps"], dream["sampler"]) == (42, 30, "k_euler")
    comment = json.dumps({"steps": 28, "sampler": "k_euler", "seed": 9, "scale": 5.0, "uc": "bad"})
    chunks = [text_chunk("Software", "NovelAI"), text_chunk("Comment", comment),
              text_chunk("Description", "1girl")]
    novel = provenance(with_chunks(png_bytes(), chunks))["metadata"]
    assert (novel["tool"], novel["prompt"], novel["negative_prompt"]) == ("novelai", "1girl", "bad")
    assert (novel["steps"], novel["cfg_scale"]) == (28, 5.0)


@pytest.mark.parametrize("compressed", [False, True])
def test_stealth_alpha_metadata(compressed: bool) -> None:
    record = provenance(png_bytes(pixels=stealth_pixels(INFOTEXT, compressed)))
    meta = record["metadata"]
    assert meta["stealth"] == ("stealth_pngcomp" if compressed else "stealth_pnginfo")
    assert (meta["tool"], meta["seed"], meta["source"]) == ("a1111", 1234, f"stealth:{meta['stealth']}")


def test_xmp_digital_source_type_means_ai() -> None:
    xmp = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description '
           'Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"'
           ' photoshop:Credit="Made with Google AI"/></rdf:RDF></x:xmpmeta>')
    data = with_chunks(png_bytes(), [chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + xmp.encode())])
    record = provenance(data)
    assert record["metadata"]["digital_source_type"] == "trainedAlgorithmicMedia"
    assert record["metadata"]["tool"] == "google" and record["ai"] == "yes"


@pytest.mark.parametrize("fmt", ["TIFF", "AVIF"])
def test_exif_of_other_formats(fmt: str) -> None:
    exif = Image.Exif()
    exif[0x010F] = "Sony"
    exif.get_ifd(0x8769)[0x9286] = b"ASCII\x00\x00\x00hello"
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 200, 30)).save(buffer, fmt, exif=exif.tobytes())
    record = provenance(buffer.getvalue())
    assert (record["camera"]["make"], record["metadata"]["usercomment"]) == ("Sony", "hello")


def test_stripped_manifest_reference_is_not_a_remote_manifest() -> None:
    def xmp_png(reference: str) -> bytes:
        xmp = f'<x:xmpmeta><rdf:Description dcterms:provenance="{reference}"/></x:xmpmeta>'
        itxt = chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + xmp.encode())
        return with_chunks(png_bytes(), [itxt])

    stripped = provenance(xmp_png("self#jumbf=/c2pa/urn:uuid:1234"))["c2pa"]
    assert (stripped["present"], stripped["remote_manifest_url"]) == (False, None)
    remote = provenance(xmp_png("https://example.com/manifest.c2pa"))
    assert remote["c2pa"]["present"] is True and remote["c2pa"]["validation_state"] is None
    assert remote["reasons"] == ["C2PA remote manifest referenced, not fetched: https://example.com/manifest.c2pa"]


# ---------------------------------------------------------------- hostile input

def test_ztxt_bomb_is_refused_quickly() -> None:
    bomb = zlib.compress(b"\x00" * (64 * 1024 * 1024), 9)
    bomb_chunk = chunk(b"zTXt", b"parameters\x00\x00" + bomb)
    data = with_chunks(png_bytes(), [bomb_chunk, text_chunk("Software", "x")])
    start = time.perf_counter()
    record = provenance(data)
    assert time.perf_counter() - start < 2.0
    assert record["metadata"]["error"] == "metadata.decompression_bomb"
    assert record["metadata"]["software"] == "x"  # the other chunks are still read


def test_50mb_text_chunk_is_skipped_and_the_rest_read() -> None:
    big = chunk(b"tEXt", b"Comment\x00" + b"A" * (50 * 1024 * 1024))
    data = with_chunks(png_bytes(), [big, text_chunk("parameters", INFOTEXT)])
    start = time.perf_counter()
    record = provenance(data)
    assert time.perf_counter() - start < 2.0
    assert record["metadata"]["error"] == "metadata.oversized_chunk"
    assert record["metadata"]["tool"] == "a1111" and record["ai"] == "yes"


def test_comfyui_prompt_that_is_not_json() -> None:
    record = provenance(with_chunks(png_bytes(), [text_chunk("prompt", '{"3": {"class_type": "KSampl')]))
    assert record["metadata"]["error"] == "metadata.invalid_json"
    assert record["metadata"]["tool"] == "comfyui" and record["ai"] == "yes"


def test_bad_crc_chunk_is_ignored_with_an_error() -> None:
    good = text_chunk("parameters", INFOTEXT)
    bad = good[:-4] + bytes(b ^ 0xFF for b in good[-4:])
    record = provenance(with_chunks(png_bytes(), [bad]))
    assert record["metadata"]["error"] == "metadata.bad_crc" and record["metadata"]["tool"] is None


def test_invalid_utf8_in_itxt() -> None:
    itxt = chunk(b"iTXt", b"parameters\x00\x00\x00\x00\x00\xff\xfe\xfd")
    record = provenance(with_chunks(png_bytes(), [itxt]))
    assert record["metadata"]["error"] == "metadata.invalid_encoding"


def test_odd_length_utf16_user_comment() -> None:
    record = provenance(jpeg_bytes(b"UNICODE\x00\x00a\x00b\x00"))
    assert record["metadata"]["error"] == "metadata.invalid_encoding"


def test_malformed_jumbf_is_a_c2pa_error_not_a_crash() -> None:
    jpeg = jpeg_bytes()
    c2pa_uuid = b"c2pa" + bytes.fromhex("0011001080 0000AA00389B71".replace(" ", ""))
    description = struct.pack(">I", 8 + 16 + 1 + 5) + b"jumd" + c2pa_uuid + b"\x03c2pa\x00"
    box = struct.pack(">I", 0xFFFFFF00) + b"jumb" + description + b"\x00" * 40  # a superbox claiming ~4 GiB
    app11 = b"\xff\xeb" + struct.pack(">H", 2 + 8 + len(box)) + b"JP\x00\x01\x00\x00\x00\x01" + box
    record = provenance(jpeg[:2] + app11 + jpeg[2:])
    assert record["c2pa"]["error"] == "c2pa.malformed" and record["c2pa"]["present"] is True
    assert record["ai"] == "unknown"


def test_empty_truncated_and_missing_files(tmp_path) -> None:
    assert provenance(b"")["errors"] == ["image.empty"]
    jpeg = jpeg_bytes(size=(256, 256))
    assert provenance(jpeg[: len(jpeg) * 2 // 3])["error"] == "image.truncated"
    missing = provenance(tmp_path / "nope.png")
    assert (missing["error"], missing["ai"]) == ("io.not_found", "unknown")


def test_time_limit_turns_groups_into_errors() -> None:
    record = provenance(png_bytes(), limits=Limits(seconds=-1))
    assert record["c2pa"]["error"] == "c2pa.timeout" and record["watermark"]["error"] == "watermark.timeout"


# ---------------------------------------------------------------- watermark

def test_watermark_thresholds_from_the_binomial() -> None:
    assert THRESHOLDS == {"sd1_dwtdct": 98, "sdxl_dwtdct": 42}
    for n_bits, k in ((136, 98), (48, 42)):
        tail = sum(comb(n_bits, i) for i in range(k, n_bits + 1)) / 2**n_bits
        assert tail < 1e-6 / 4 <= tail + comb(n_bits, k - 1) / 2**n_bits
        assert min_correct_bits(n_bits, 1e-6 / 4) == k


# Bits the reference decoder (invisible-watermark 0.2.0 EmbedMaxDct.decode, opencv-python-headless
# 5.0.0.93, PyWavelets 1.9.0) returned for the synthetic images below, uint8 and float32 input.
REFERENCE_BITS = {
    (0, 136, "uint8"): "2e3a340ceed422697eb7af3de7f565f6c7",
    (0, 136, "float32"): "ca0aec7aa2b3c6d58fdb0d3dc731b36eb0",
    (0, 48, "uint8"): "c0f80e26263d", (0, 48, "float32"): "00553ab52287",
    (1, 136, "uint8"): "f41e1ff68a7f0d73c89b1cb340b3449d67",
    (1, 136, "float32"): "695afb99bf3ffcfc4d8f04ffcee754ffeb",
    (1, 48, "uint8"): "411cb5440a5e", (1, 48, "float32"): "ea2ec5d94edc",
    (2, 136, "uint8"): "da2913b7c9edbd546e33b10d115f3bd04f",
    (2, 136, "float32"): "f87e57dff13c6df07eb3b387f148d71d5f",
    (2, 48, "uint8"): "53102b184df9", (2, 48, "float32"): "761ddfdf7db6",
}


def reference_images() -> list[np.ndarray]:
    """Noise, smooth sine with noise, and a few quantised levels (odd sizes on purpose), as BGR."""
    rng = np.random.default_rng(1)
    images = []
    for kind, (h, w) in enumerate([(300, 301), (512, 512), (427, 640)]):
        if kind == 0:
            images.append(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
        elif kind == 1:
            y, x = np.mgrid[0:h, 0:w]
            waves = np.stack([128 + 100 * np.sin(x / (13 + c * 7) + y / (29 + c)) for c in range(3)], -1)
            images.append(np.clip(waves + rng.normal(0, 8, (h, w, 3)), 0, 255).astype(np.uint8))
        else:
            levels = rng.integers(0, 4, (h, w, 3)) * 60 + rng.integers(0, 3, (h, w, 3))
            images.append(levels.astype(np.uint8))
    return images


def test_watermark_decoder_matches_the_reference_bit_for_bit() -> None:
    lengths = {"sd1_dwtdct": 136, "sdxl_dwtdct": 48}
    for index, bgr in enumerate(reference_images()):
        readings = decode_readings(np.ascontiguousarray(bgr[..., ::-1]))
        for (scheme, kind), bits in readings.items():
            expected = REFERENCE_BITS[(index, lengths[scheme], kind)]
            assert np.packbits(bits).tobytes().hex() == expected, (index, scheme, kind)


def test_watermark_decodability() -> None:
    flat = provenance(png_bytes(size=(512, 512)))["watermark"]
    assert (flat["decodable"], flat["not_decodable_reason"], flat["detected"]) == (False, "flat", False)
    subsampled = provenance(jpeg_bytes(size=(512, 512), subsampling=2))["watermark"]
    assert (subsampled["decodable"], subsampled["not_decodable_reason"]) == (False, "jpeg_chroma_subsampled")
    noise = np.random.default_rng(0).integers(0, 256, (400, 400, 3), dtype=np.uint8)
    random_image = provenance(png_bytes(pixels=noise))["watermark"]
    assert random_image["decodable"] is True and random_image["detected"] is False
    assert 0.2 < random_image["bit_accuracy_sd1"] < 0.8
    small = provenance(png_bytes(size=(256, 256)))["watermark"]
    assert small["error"] == "watermark.image_too_small"


# ---------------------------------------------------------------- C2PA wording

def test_untrusted_is_not_tampered() -> None:
    untrusted = trust_explanation("Valid", ["signingCredential.untrusted"], False, "Acme")
    codes = ["signingCredential.untrusted", "assertion.dataHash.mismatch"]
    tampered = trust_explanation("Invalid", codes, True, "Acme")
    assert "untrusted does not mean tampered" in untrusted and "Tampered" not in untrusted
    assert tampered.startswith("Tampered") and "assertion.dataHash.mismatch" in tampered


# ---------------------------------------------------------------- scan signal and CLI

def test_signal_rows_fit_its_schema() -> None:
    signal = ProvenanceSignal()
    assert signal.needs_image is False and signal.name == "provenance"
    samples = [Sample("a.png", with_chunks(png_bytes(), [text_chunk("parameters", INFOTEXT)]), None),
               Sample("empty.png", b"", None)]
    rows = signal.compute(samples)
    table = pa.Table.from_pylist(rows, schema=signal.schema)
    assert table.column("ai").to_pylist() == ["yes", "unknown"]
    assert table.column("metadata.seed").to_pylist() == [1234, None]
    assert json.loads(table.column("metadata.raw")[0].as_py())["png:parameters"] == INFOTEXT


def test_signal_drops_seeds_outside_int64() -> None:
    record = provenance(png_bytes())
    record["metadata"]["seed"] = 2**64 - 1
    assert flatten(record)["metadata.seed"] is None


def test_cli_prints_one_json_object_per_file(tmp_path, capsys) -> None:
    from genscope.cli import UsageError
    from genscope.cli import provenance as command

    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers(dest="command"))
    image = tmp_path / "a.png"
    image.write_bytes(with_chunks(png_bytes(), [text_chunk("parameters", INFOTEXT)]))
    args = parser.parse_args(["provenance", "--json", str(image), str(tmp_path / "missing.jpg")])
    assert args.func(args) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["ai"], r["error"]) for r in lines] == [("yes", None), ("unknown", "io.not_found")]
    args = parser.parse_args(["provenance", "--trust-anchors", str(tmp_path / "none.pem"), str(image)])
    with pytest.raises(UsageError):
        args.func(args)
