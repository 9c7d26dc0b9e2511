"""The CLIP-probe detector with a tiny random tower of the same interface: views, training, loading,
scoring, explaining, the scan signal, and what a user sees when the tower is missing."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from genscope.models.detector import Detector, verdict
from genscope.models.detector.clip_encoder import (
    FEATURES,
    SIDE,
    ClipEncoder,
    clip_view,
    clip_views,
    detail_view,
    to_pixel_values,
)
from genscope.models.detector.crops import BlankWindows, ImageTooSmall

from conftest import run_genscope
from tiny_clip import make_tiny_clip_onnx


def textured(w: int, h: int, seed: int, smooth: bool) -> Image.Image:
    """Two kinds of content the tiny tower can tell apart: smooth gradients vs fine noise."""
    rng = np.random.default_rng(seed)
    if smooth:
        yy, xx = np.mgrid[0:h, 0:w]
        arr = np.stack([xx * 255 / w, yy * 255 / h, np.full((h, w), 60 + seed % 100)], axis=-1)
        arr = arr + rng.normal(0, 3, arr.shape)
    else:
        arr = rng.integers(0, 256, (h, w, 3))
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """A model directory trained by the real command on 24 images, with the tiny tower as its encoder."""
    root = tmp_path_factory.mktemp("clip")
    onnx = root / "tiny.onnx"
    make_tiny_clip_onnx(onnx)
    rows = []
    for i in range(24):
        generated = i % 2 == 0
        path = root / "data" / f"{i:02d}.{'png' if i % 3 else 'jpg'}"
        path.parent.mkdir(exist_ok=True)
        textured(260 + 10 * i, 240, i, smooth=not generated).save(path)
        rows.append({"path": str(path), "label": "generated" if generated else "real", "source": f"s{i % 4}",
                     "group": str(i), "split": "train", "generator": "sdxl" if generated else ""})
    with open(root / "manifest.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    done = run_genscope("train-detector", "--kind", "clip", "--data", str(root / "manifest.csv"), "--out",
                        str(root / "model"), "--backbone", str(onnx), "--cache", str(root / "cache"), "--folds", "3")
    assert done.returncode == 0, done.stderr
    return root / "model"


def test_clip_view_is_shortest_side_then_centre_crop():
    ramp = (np.arange(600) // 3).astype(np.uint8)  # column x holds x // 3
    img = Image.fromarray(np.tile(ramp[None, :, None], (300, 1, 3)))
    view = clip_view(img)
    assert view.shape == (SIDE, SIDE, 3) and view.dtype == np.uint8
    # a 600x300 image scales to 448x224; the centre crop starts 112 px in, at column 150 of the original
    assert abs(int(view[100, 0, 0]) - 50) <= 1


def test_clip_views_cover_the_long_axis_and_never_exceed_what_fits():
    wide = textured(900, 300, 0, smooth=False)
    assert clip_views(wide, 3).shape == (3, SIDE, SIDE, 3)
    assert clip_views(textured(300, 300, 0, smooth=False), 3).shape[0] == 1  # a square holds one view
    assert np.array_equal(clip_views(wide, 1)[0], clip_view(wide))


def test_detail_view_is_the_centre_at_twice_the_magnification_whatever_the_resolution():
    img = textured(640, 480, 5, smooth=False)
    view = detail_view(img)
    assert view.shape == (SIDE, SIDE, 3) and view.dtype == np.uint8
    # the centre square of half the shorter side (240 px at 200..440, 120..360), shown at 224
    assert np.array_equal(view, clip_view(img.crop((200, 120, 440, 360))))
    # relative to the image: a half-size copy (as a draft decode gives) shows the same content
    half = detail_view(img.resize((320, 240), Image.Resampling.BICUBIC))
    assert np.abs(half.astype(int) - view.astype(int)).mean() < 40
    other = detail_view(textured(640, 480, 6, smooth=False))
    assert np.abs(other.astype(int) - view.astype(int)).mean() > np.abs(half.astype(int) - view.astype(int)).mean()


def test_encoder_puts_an_images_paired_views_side_by_side(tmp_path):
    make_tiny_clip_onnx(tmp_path / "t.onnx")
    enc = ClipEncoder(tmp_path / "t.onnx", threads=1, features=FEATURES)
    imgs = [textured(300, 260, i, smooth=i % 2 == 0) for i in range(3)]
    pairs = np.stack([np.stack([clip_view(im), detail_view(im)]) for im in imgs])
    feats = enc(pairs)
    assert feats.shape == (3, 2 * enc.dim)
    assert np.array_equal(feats[1, :enc.dim], enc(pairs[1, :1])[0])
    assert np.array_equal(feats[1, enc.dim:], enc(pairs[1, 1:])[0])


def test_encoder_returns_unit_vectors_whatever_the_batch(tmp_path):
    make_tiny_clip_onnx(tmp_path / "t.onnx")
    enc = ClipEncoder(tmp_path / "t.onnx", threads=1)
    views = np.stack([clip_view(textured(300, 260, i, smooth=i % 2 == 0)) for i in range(7)])
    emb = enc(views)
    assert emb.shape == (7, 512)
    assert np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(enc(views[2:3]), emb[2:3])  # an image's vector never depends on its neighbours


def test_feature_blocks_are_the_embedding_cls_token_and_patch_mean_each_a_unit_vector(tmp_path):
    import onnxruntime as ort

    make_tiny_clip_onnx(tmp_path / "t.onnx")
    views = np.stack([clip_view(textured(300, 260, i, smooth=False)) for i in range(3)])
    enc = ClipEncoder(tmp_path / "t.onnx", threads=1, features=FEATURES)
    feats = enc(views)
    assert feats.shape == (3, 512 + 768 + 768) and enc.dim == feats.shape[1]
    blocks = np.split(feats, [512, 512 + 768], axis=1)
    assert all(np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5) for b in blocks)
    assert np.array_equal(blocks[0], ClipEncoder(tmp_path / "t.onnx", threads=1)(views))  # the old embedding
    session = ort.InferenceSession(str(tmp_path / "t.onnx"))
    tokens = session.run(None, {"pixel_values": to_pixel_values(views[:1])})[1][0]
    cls, patches = tokens[0], tokens[1:].mean(axis=0)
    assert np.allclose(blocks[1][0], cls / np.linalg.norm(cls), atol=1e-5)
    assert np.allclose(blocks[2][0], patches / np.linalg.norm(patches), atol=1e-5)
    with pytest.raises(ValueError, match="unknown CLIP feature blocks"):
        ClipEncoder(tmp_path / "t.onnx", features=("pooled",))


def test_training_writes_a_loadable_calibrated_model(tiny_model):
    config = json.loads((tiny_model / "config.json").read_text())
    assert config["kind"] == "clip" and config["encoder"] == "tiny.onnx" and config["features"] == list(FEATURES)
    assert config["detail"] is False  # the default: the whole image only (--detail: clip-detail)
    assert (tiny_model / "tiny.onnx").is_file()  # a local tower travels with the model
    assert config["train"]["images"] == 24 and config["train"]["views"] == ["raw", "norm", "aug0", "aug1"]
    assert (tiny_model / "calibration.npz").is_file() and (tiny_model / "head.npz").is_file()
    det = Detector.load(tiny_model, threads=1)
    assert det.kind == "clip"
    smooth = [textured(300, 280, 100 + i, smooth=True) for i in range(4)]
    noisy = [textured(300, 280, 200 + i, smooth=False) for i in range(4)]
    res = det.predict(smooth + noisy)
    for r in res:
        assert 0.0 <= r["ai_score"] <= 1.0 and r["verdict"] == verdict(r["ai_score"], det.band)
    # the head learned the training labels' direction on new images of each kind
    assert max(r["ai_score"] for r in res[:4]) < min(r["ai_score"] for r in res[4:])


@pytest.fixture(scope="module")
def tiny_detail_model(tiny_model) -> Path:
    """The same training data and tower, trained with ``--detail``."""
    root = tiny_model.parent
    done = run_genscope("train-detector", "--kind", "clip", "--detail", "--data", str(root / "manifest.csv"), "--out",
                        str(root / "detail"), "--backbone", str(tiny_model / "tiny.onnx"), "--cache",
                        str(root / "cache"), "--folds", "3")
    assert done.returncode == 0, done.stderr
    return root / "detail"


def test_a_detail_model_reads_both_views_and_a_whole_view_model_one(tiny_model, tiny_detail_model):
    img = textured(400, 300, 7, smooth=False)
    whole = Detector.load(tiny_model, threads=1)
    assert not whole.detail and whole.windows(img).shape == (1, SIDE, SIDE, 3)
    assert whole.head.coef.shape == (whole.extractor.dim,)
    det = Detector.load(tiny_detail_model, threads=1)
    assert json.loads((tiny_detail_model / "config.json").read_text())["detail"] is True
    pair = det.windows(img)
    assert pair.shape == (1, 2, SIDE, SIDE, 3) and np.array_equal(pair[0, 1], detail_view(img))
    assert det.head.coef.shape == (2 * det.extractor.dim,)
    smooth = [textured(300, 280, 300 + i, smooth=True) for i in range(3)]
    noisy = [textured(300, 280, 400 + i, smooth=False) for i in range(3)]
    res = det.predict(smooth + noisy)
    assert max(r["ai_score"] for r in res[:3]) < min(r["ai_score"] for r in res[3:])
    mixed = textured(500, 260, 3, smooth=False)
    mixed.paste(textured(200, 260, 4, smooth=True), (0, 0))
    heat = det.explain(mixed)  # the detail view's features held fixed while the whole view is occluded
    assert heat.shape == (260, 500) and heat.max() == pytest.approx(1.0) and heat.std() > 0.05


def test_refuses_what_it_cannot_judge(tiny_model):
    det = Detector.load(tiny_model, threads=1)
    with pytest.raises(ImageTooSmall):
        det.windows(textured(20, 300, 0, smooth=False))
    with pytest.raises(BlankWindows):
        det.windows(Image.new("RGB", (400, 300), "white"))


def test_explain_is_an_occlusion_map_shaped_like_the_image(tiny_model):
    det = Detector.load(tiny_model, threads=1)
    img = textured(500, 260, 3, smooth=False)
    img.paste(textured(200, 260, 4, smooth=True), (0, 0))  # a smooth left part, a noisy right part
    heat = det.explain(img)
    assert heat.shape == (260, 500)
    assert heat.min() >= 0.0 and heat.max() == pytest.approx(1.0)
    assert heat.std() > 0.05  # it singles out parts; which ones: the next test


def test_occlusion_finds_the_region_that_drives_the_logit():
    """With a model whose evidence is known (the logit is the brightness of one square), greying out cells
    lowers it only inside that square: the heat is there and nowhere else."""
    from genscope.models.detector.occlusion import occlusion_map

    rng = np.random.default_rng(0)
    view = rng.integers(0, 60, (SIDE, SIDE, 3), dtype=np.uint8)
    view[32:96, 128:192] = 250  # the "evidence"

    def logits(views: np.ndarray) -> np.ndarray:
        return views[:, 32:96, 128:192].astype(np.float64).mean(axis=(1, 2, 3))

    heat = occlusion_map(view, logits)
    assert heat.shape == (SIDE, SIDE) and heat.max() == pytest.approx(1.0)
    assert heat[40:88, 136:184].mean() > 0.5 > heat[140:, :100].mean() + 0.4


def test_scan_signal_uses_the_model_option_and_versions_it(tiny_model, tmp_path):
    from genscope.signals.detector import DetectorSignal

    for i in range(3):
        textured(300, 300, i, smooth=i == 0).save(tmp_path / f"{i}.png")
    out = tmp_path / "scan"
    done = run_genscope("scan", str(tmp_path), "--out", str(out), "--signals", "detector", "--quiet",
                        "--signal-option", f"detector.model={tiny_model}")
    assert done.returncode == 0, done.stderr
    import pyarrow.parquet as pq

    table = pq.read_table(out / "records.parquet").to_pylist()
    assert len(table) == 3 and all(r["detector.ai_score"] is not None for r in table)
    assert {r["detector.version"] for r in table} == {DetectorSignal.version_for({"model": str(tiny_model)})}
    assert DetectorSignal.version_for({"model": str(tiny_model)}) != DetectorSignal.version_for({})


def test_missing_tower_is_one_line_that_names_the_fetch_command(tmp_path):
    done = run_genscope("detect", str(Path(__file__).parents[1] / "examples"),
                        env_extra={"GENSCOPE_MODELS": str(tmp_path / "empty"), "GENSCOPE_AUTO_FETCH": "0"})
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "genscope models fetch" in lines[0] and "Traceback" not in done.stderr


def test_content_weighs_less_among_generated_than_among_real_images():
    from genscope.train.data import Row
    from genscope.train.fit import CONTENT_RATIO, image_weights

    def row(i: int, label: int, source: str, content: str = "") -> Row:
        return Row(path=Path(f"{i}.png"), label=label, source=source, split="train", generator="", group=str(i),
                   content=content)

    rows = ([row(i, 0, "photos") for i in range(90)] + [row(100 + i, 0, "ffhq", "face") for i in range(10)]
            + [row(200 + i, 1, "gan_faces", "face") for i in range(80)] + [row(300 + i, 1, "diffusion")
                                                                          for i in range(20)])
    w = image_weights(rows)
    labels = np.array([r.label for r in rows])
    face = np.array([r.content == "face" for r in rows])
    assert w[labels == 0].sum() == pytest.approx(1.0) and w[labels == 1].sum() == pytest.approx(1.0)
    assert w[(labels == 1) & face].sum() == pytest.approx(CONTENT_RATIO * w[(labels == 0) & face].sum())
    # without a content column the weights are the plain per-source ones: the faces' share is then much larger
    plain = image_weights([Row(**{**r.__dict__, "content": ""}) for r in rows])
    assert plain[(labels == 1) & face].sum() > 2 * w[(labels == 1) & face].sum()


def test_eval_detector_runs_leave_one_source_out_on_a_clip_model(tiny_model, tmp_path):
    """The whole evaluation on the tiny model, from the training cache: every generated source held out once."""
    manifest = tiny_model.parent / "manifest.csv"
    with open(manifest, newline="") as f:
        rows = list(csv.DictReader(f))
    for i, r in enumerate(rows):
        r["split"] = "val" if i % 3 == 0 else "train"
    with open(tmp_path / "m.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    done = run_genscope("eval-detector", "--model", str(tiny_model), "--data", str(tmp_path / "m.csv"), "--out",
                        str(tmp_path / "eval"), "--cache", str(tiny_model.parent / "cache"), "--bootstrap", "50",
                        "--mistakes", "1", "--quiet")
    assert done.returncode == 0, done.stderr
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    loso = metrics["leave_one_source_out"]
    assert set(loso["sources"]) == {r["source"] for r in rows if r["label"] == "generated"}
    assert 0.0 <= loso["min_auc"] <= loso["mean_auc"] <= 1.0
    assert metrics["false_positives_by_camera"]["n"] == 0  # synthetic images carry no camera EXIF
    # the 128 px round trip keeps every image judgeable; nothing was refused on these 240+ px images
    assert all(c["refused"] == 0 for c in metrics["conditions"].values())
    assert (tmp_path / "eval" / "report.html").stat().st_size > 1000


def test_camera_false_positives_group_real_photos_by_exif_make(tmp_path):
    from genscope.train.data import Row
    from genscope.train.eval_detector import camera_false_positives

    rows = []
    for i, make in enumerate(["Canon", "Canon", "NIKON CORPORATION", None, None]):
        exif = Image.Exif()
        if make:
            exif[0x010F] = make
        path = tmp_path / f"{i}.jpg"
        textured(64, 64, i, smooth=True).save(path, exif=exif.tobytes())
        rows.append(Row(path=path, label=int(make is None and i == 4), source="s", split="val", generator="",
                        group=str(i)))
    table = camera_false_positives(rows, np.array([0.9, 0.1, 0.2, 0.8, 0.95]), 0.5)
    assert table["n"] == 3 and table["false_positive_rate"] == pytest.approx(1 / 3)
    assert table["per_make"] == {"Canon": {"n": 2, "false_positive_rate": 0.5},
                                 "Nikon": {"n": 1, "false_positive_rate": 0.0}}


def test_evaluation_counts_an_image_too_small_to_judge_as_undecided(tiny_model):
    from genscope.train.eval_detector import _features, _scores

    det = Detector.load(tiny_model, threads=1)
    feats = _features(det, [textured(300, 300, 1, smooth=False), textured(20, 300, 2, smooth=False)], "crop")
    assert len(feats[0]) == 1 and len(feats[1]) == 0
    scores = _scores(det, feats)
    assert scores[1] == pytest.approx(float(det.head.calibrate(0.0)))  # the head's own "no evidence" score


def test_a_jpeg_for_the_clip_model_decodes_keeping_twice_its_view_and_the_fast_model_reads_it_whole():
    from genscope.models.detector import view_side
    from genscope.signals.base import decode_side
    from genscope.signals.detector import DetectorSignal

    assert view_side(None) == view_side("clip") == 2 * SIDE
    assert view_side("fast") is None
    assert decode_side([DetectorSignal], {}) == 2 * SIDE
    assert decode_side([DetectorSignal], {"detector": {"model": "fast"}}) is None
