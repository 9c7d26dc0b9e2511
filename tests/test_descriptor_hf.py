"""CLIP / DINOv2 descriptors from a Hugging Face checkpoint folder: tiny random models saved here (the real
weights cannot be downloaded in tests), exported to ONNX once, cached, and run on ONNX Runtime."""

from __future__ import annotations

import json
import shutil
import sys

import numpy as np
import pyarrow.compute as pc
import pytest
from test_descriptor import jpeg, scene

transformers = pytest.importorskip("transformers", reason="transformers not installed (the backbones extra: "
                                   "pip install 'genscope[backbones]')")
torch = pytest.importorskip("torch", reason="torch not installed (the backbones extra)")

from genscope.cli import main  # noqa: E402
from genscope.models.descriptor import hf_export, load_descriptor  # noqa: E402
from genscope.models.descriptor.hf_config import cache_dir, open_checkpoint  # noqa: E402
from genscope.records import read_records  # noqa: E402

DIM_CLIP, DIM_DINO = 24, 32


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A private export cache for the whole module (set through GENSCOPE_CACHE, so CLI workers see it too)."""
    with pytest.MonkeyPatch.context() as mp:
        root = tmp_path_factory.mktemp("cache")
        mp.setenv("GENSCOPE_CACHE", str(root))
        yield root / "descriptors"


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory):
    """A whole CLIP model (text tower too, as a downloaded openai/clip-* folder), no preprocessor config:
    the CLIP defaults apply at the vision tower's 32 px."""
    torch.manual_seed(0)
    config = transformers.CLIPConfig(
        text_config={"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
                     "vocab_size": 100, "max_position_embeddings": 16},
        vision_config={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
                       "image_size": 32, "patch_size": 16},
        projection_dim=DIM_CLIP)
    folder = tmp_path_factory.mktemp("clip")
    transformers.CLIPModel(config).eval().save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def dino_dir(tmp_path_factory):
    """A DINOv2 model with its own preprocessor_config.json (shorter side 64, crop 56). Its position embeddings
    are for 98 px, so the export interpolates them, as the real ones (518 px, run at 224) do."""
    torch.manual_seed(1)
    config = transformers.Dinov2Config(hidden_size=DIM_DINO, num_hidden_layers=2, num_attention_heads=2, mlp_ratio=2,
                                       image_size=98, patch_size=14)
    folder = tmp_path_factory.mktemp("dinov2")
    transformers.Dinov2Model(config).eval().save_pretrained(folder)
    (folder / "preprocessor_config.json").write_text(json.dumps({
        "do_resize": True, "size": {"shortest_edge": 64}, "do_center_crop": True,
        "crop_size": {"height": 56, "width": 56}, "resample": 3, "do_normalize": True,
        "image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225]}))
    return folder


@pytest.fixture(scope="module")
def folders(cache, clip_dir, dino_dir):
    return {"clip": clip_dir, "dinov2": dino_dir}


@pytest.mark.parametrize(("backend", "dim", "size"), [("clip", DIM_CLIP, "32x32"), ("dinov2", DIM_DINO, "56x56")])
def test_embeds_unit_float32_deterministic(folders, backend, dim, size):
    d = load_descriptor(backend, path=folders[backend], threads=1)
    images = [scene(1), scene(2), scene(3, (200, 300))]
    vectors = d.embed(images)
    assert d.name == backend and d.dim == dim and vectors.shape == (3, dim) and vectors.dtype == np.float32
    assert d.version.startswith(f"{backend}:") and d.version.endswith(size)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # random weights make no similarity claim; only: the same input gives the same vector, others another one
    again = load_descriptor(backend, path=folders[backend], threads=1).embed(images)
    np.testing.assert_allclose(vectors, again, atol=1e-6)
    assert np.abs(vectors[0] - vectors[1]).max() > 1e-3 and np.abs(vectors[0] - vectors[2]).max() > 1e-3
    np.testing.assert_allclose(d.embed(images[:1]), vectors[:1], atol=1e-5)  # batch size does not matter
    assert d.embed([]).shape == (0, dim)


@pytest.mark.parametrize("backend", ["clip", "dinov2"])
def test_onnx_matches_torch(folders, backend):
    d = load_descriptor(backend, path=folders[backend], threads=1)
    images = [scene(4), jpeg(scene(5), 70), scene(6, (90, 400))]
    pixels = d.pixels(images)
    with torch.no_grad():
        reference = hf_export.encoder(d.checkpoint)(torch.from_numpy(pixels)).numpy()
    reference /= np.linalg.norm(reference, axis=1, keepdims=True)
    np.testing.assert_allclose(d.embed(images), reference, atol=1e-4)


def test_dinov2_cls_and_preprocessing(folders):
    """The exported vector is DINOv2's CLS token (of the normalised last hidden state), the input the
    preprocessor config asks for: shorter side 64, centre crop 56, ImageNet mean/std."""
    d = load_descriptor("dinov2", path=folders["dinov2"], threads=1)
    pre = d.checkpoint.preprocessing
    assert (pre.resize, pre.crop) == (64, (56, 56))
    image = scene(7, (128, 96))
    pixels = d.pixels([image])
    assert pixels.shape == (1, 56, 56, 3)
    expected = np.asarray(image.resize((85, 64), pre.resample))[4:60, 14:70]
    np.testing.assert_array_equal(pixels[0], expected)
    model = transformers.Dinov2Model.from_pretrained(folders["dinov2"], local_files_only=True).eval()
    x = (pixels.astype(np.float32) / 255 - np.array(pre.mean, np.float32)) / np.array(pre.std, np.float32)
    with torch.no_grad():
        cls = model(pixel_values=torch.from_numpy(x.transpose(0, 3, 1, 2).copy())).last_hidden_state[:, 0].numpy()
    np.testing.assert_allclose(d.embed([image])[0], cls[0] / np.linalg.norm(cls[0]), atol=1e-4)


def test_clip_defaults_without_preprocessor_config(folders):
    pre = open_checkpoint("clip", folders["clip"]).preprocessing
    assert (pre.resize, pre.crop) == (32, (32, 32))
    assert pre.mean == pytest.approx((0.48145466, 0.4578275, 0.40821073))
    assert pre.std == pytest.approx((0.26862954, 0.26130258, 0.27577711))


def test_cache_reused_without_torch(folders, cache, monkeypatch):
    load_descriptor("dinov2", path=folders["dinov2"], threads=1)  # exported (or already cached)
    [onnx] = cache.glob("dinov2-*.onnx")
    stamp = onnx.stat().st_mtime_ns
    assert not list(cache.glob("*.tmp"))  # no temporary file left behind

    def refuse(*args, **kwargs):
        raise AssertionError("exported again although the cache holds this checkpoint")

    monkeypatch.setattr(hf_export, "export", refuse)
    for name in ("torch", "transformers"):
        monkeypatch.setitem(sys.modules, name, None)  # `import torch` now raises ImportError
    d = load_descriptor("dinov2", path=folders["dinov2"], threads=1)
    assert d.embed([scene(8)]).shape == (1, DIM_DINO)
    assert onnx.stat().st_mtime_ns == stamp and d.onnx_path == onnx and onnx.parent == cache_dir()


def test_version_follows_checkpoint_bytes(folders, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(folders["dinov2"], copy)
    before = open_checkpoint("dinov2", copy)
    assert before.version == open_checkpoint("dinov2", folders["dinov2"]).version  # same bytes, same version
    weights = copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1  # one bit of one weight
    weights.write_bytes(bytes(data))
    assert open_checkpoint("dinov2", copy).version != before.version


def test_export_needs_the_extra(folders, tmp_path, monkeypatch):
    copy = tmp_path / "copy"
    shutil.copytree(folders["dinov2"], copy)
    (copy / "preprocessor_config.json").write_text(json.dumps({"crop_size": 28, "size": 32}))  # uncached
    monkeypatch.setitem(sys.modules, "transformers", None)
    with pytest.raises(ImportError, match=r"genscope\[backbones\]"):
        load_descriptor("dinov2", path=copy, threads=1)


def test_clear_errors(folders, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_descriptor("dinov2", path=tmp_path / "nowhere")
    (tmp_path / "file.bin").write_bytes(b"x")
    with pytest.raises(ValueError, match="not a folder"):
        load_descriptor("clip", path=tmp_path / "file.bin")
    with pytest.raises(ValueError, match=r"'clip' model, not dinov2.*--descriptor clip"):
        load_descriptor("dinov2", path=folders["clip"])
    with pytest.raises(ValueError, match="'dinov2' model, not clip"):
        load_descriptor("clip", path=folders["dinov2"])
    with pytest.raises(ValueError, match="needs the path"):
        load_descriptor("clip")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"config\.json"):
        load_descriptor("dinov2", path=tmp_path / "empty")
    shutil.copy(folders["dinov2"] / "config.json", tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="no PyTorch weights"):
        load_descriptor("dinov2", path=tmp_path / "empty")


def test_cli_dedup_with_dinov2(folders, tmp_path, capsys):
    images = tmp_path / "images"
    images.mkdir()
    for i in range(3):
        scene(20 + i).save(images / f"{i}.png")
    jpeg(scene(20), 90).save(images / "0-copy.jpg")
    out = tmp_path / "dd"
    argv = ["dedup", str(images), "--out", str(out), "--descriptor", "dinov2", "--workers", "1", "-q",
            "--no-report"]
    assert main([*argv, "--descriptor-path", str(folders["dinov2"])]) == 0
    records = read_records(out)
    version = load_descriptor("dinov2", path=folders["dinov2"], threads=1).version
    assert records.num_rows == 4
    assert set(records.column("descriptor.model").to_pylist()) == {version}
    assert set(records.column("descriptor.version").to_pylist()) == {"dinov2-1"}
    assert pc.all(pc.equal(pc.list_value_length(records.column("descriptor.vector")), DIM_DINO)).as_py()
    capsys.readouterr()
    # usage errors are one line, exit code 2, no traceback
    assert main(argv) == 2 and "needs --descriptor-path DIR" in capsys.readouterr().err
    assert main([*argv, "--descriptor-path", str(folders["clip"])]) == 2
    err = capsys.readouterr().err
    assert "not dinov2" in err and "Traceback" not in err
    assert main([*argv, "--descriptor-path", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err
