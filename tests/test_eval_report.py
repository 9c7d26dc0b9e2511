"""``genscope eval-detector`` end to end on a tiny built set: metrics.json and a self-contained report.html."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from genscope.cli import main
from genscope.metrics import pr_curve, reliability_bins, roc_curve
from genscope.report import svg

HOSTILE_DIR = "<script>alert(1)<"  # with the file name below: the path reads <script>alert(1)</script>.png
HOSTILE_SOURCE = "<img src=x onerror=alert(2)>"


def _photo(seed: int, size: tuple[int, int]) -> Image.Image:
    """Smooth gradient plus mild noise: camera-like."""
    rng = np.random.default_rng(seed)
    h, w = size[1], size[0]
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([xx / w * 255, yy / h * 255, (xx + yy) / (w + h) * 255], axis=-1) * rng.uniform(0.5, 1)
    return Image.fromarray(np.clip(base + rng.normal(0, 4, base.shape), 0, 255).astype(np.uint8))


def _noise(seed: int, side: int) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (side, side, 3), dtype=np.uint8))


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("evalset")
    rows = []
    for split, n in (("train", 3), ("val", 4)):
        for i in range(n):
            seed = i + (100 if split == "val" else 0)
            real = root / split / "real" / f"photo_{i}.jpg"
            real.parent.mkdir(parents=True, exist_ok=True)
            _photo(seed, (260 + 20 * i, 200)).save(real, "JPEG", quality=88)
            rows.append([real.relative_to(root), "real", "camera", split, "", f"r{split}{i}"])
            fake = root / split / "generated" / f"gen_{i}.png"
            fake.parent.mkdir(parents=True, exist_ok=True)
            _noise(seed, 256).save(fake)
            generator = "sdxl" if i % 2 else "flux1_dev"
            rows.append([fake.relative_to(root), "generated", HOSTILE_SOURCE if i == 0 else "gens", split,
                         generator, f"g{split}{i}"])
    hostile = root / "val" / HOSTILE_DIR / "script>.png"
    hostile.parent.mkdir(parents=True)
    _photo(99, (300, 240)).save(hostile)
    rows.append([hostile.relative_to(root), "real", "camera", "val", "", "hostile"])
    with open(root / "manifest.csv", "w", newline="") as f:
        csv.writer(f).writerows([["path", "label", "source", "split", "generator", "group"], *rows])
    out = root / "out"
    assert main(["eval-detector", "--data", str(root), "--out", str(out), "--no-loso", "--bootstrap", "20",
                 "--threads", "1", "--quiet"]) == 0
    return out


def test_metrics_json_has_every_robustness_condition_and_per_image_scores(evaluated):
    metrics = json.loads((evaluated / "metrics.json").read_text())
    for key in ("jpeg_q75", "jpeg_q50", "resize_0.5", "roundtrip_128", "normalised_jpeg_q50",
                "normalised_roundtrip_128"):
        assert 0 <= metrics["conditions"][key]["auc"] <= 1
    assert len(metrics["images"]) == metrics["n"] == 9
    assert all(0 <= im["scores"]["normalised"] <= 1 for im in metrics["images"])


def test_report_has_curves_tables_and_gallery(evaluated):
    html = (evaluated / "report.html").read_text()
    for heading in ("ROC", "Precision–recall", "Reliability (calibration)", "ROC after degrading the raw files"):
        assert re.search(rf"<h3>{re.escape(heading)}</h3><svg[^>]*>.*?<polyline", html, re.S), heading
    assert "JPEG q50" in html and "128 px round trip" in html and "format-only baseline" in html
    by_source = html[html.index("<h3>By source</h3>"):html.index("<h3>By generator</h3>")]
    assert re.search(r"<td>camera</td><td>real</td><td class=\"num\">5</td>", by_source)
    assert re.search(r"<td>gens</td><td>generated</td><td class=\"num\">3</td>", by_source)
    by_generator = html[html.index("<h3>By generator</h3>"):html.index('id="mistakes"')]
    assert "<td>sdxl</td>" in by_generator and "<td>flux1_dev</td>" in by_generator
    # 5 real val images, 6 shown at most: each one is in the false-positive gallery with a Grad-CAM overlay
    fp = html[html.index('id="false_positives"'):html.index('id="false_negatives"')]
    assert fp.count('class="gradcam" src="data:image/jpeg;base64,') == 5
    assert html[html.index('id="false_negatives"'):].count('class="gradcam"') == 4
    assert "http://" not in html.replace("http-equiv", "") and "<script" not in html.lower()


def test_report_escapes_hostile_paths_and_sources(evaluated):
    html = (evaluated / "report.html").read_text()
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.png" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html


def test_curves_run_corner_to_corner():
    y, s = np.array([0, 0, 1, 1, 1]), np.array([0.1, 0.6, 0.6, 0.8, 0.9])
    fpr, tpr = roc_curve(y, s)
    assert fpr.tolist() == [0, 0, 0, 0.5, 1] and tpr.tolist() == pytest.approx([0, 1 / 3, 2 / 3, 1, 1])
    recall, precision = pr_curve(y, s)
    assert recall.tolist() == pytest.approx([0, 1 / 3, 2 / 3, 1, 1])
    assert precision.tolist() == pytest.approx([1, 1, 1, 0.75, 0.6])
    (p0, o0, n0), (p1, o1, n1) = reliability_bins(y, s, bins=2)
    assert (n0, n1, o0, o1) == (1, 4, 0.0, 0.75) and (p0, p1) == pytest.approx((0.1, 0.725))


def test_svg_curves_escape_labels_and_skip_non_finite():
    out = str(svg.curves([("<b>x</b>", [0, 0.5, float("nan")], [0, 1, 1])], x_label="a&b", y_label="y"))
    assert "&lt;b&gt;x&lt;/b&gt;" in out and "a&amp;b" in out and "<b>" not in out
    assert re.search(r'<polyline points="[\d.]+,[\d.]+ [\d.]+,[\d.]+"', out)


def test_a_test_only_manifest_is_evaluated_without_baselines_and_one_class_is_refused(evaluated, capsys):
    """A user's own labelled set often has no train rows: the model is still evaluated (the baselines and
    leave-one-source-out, which fit on train rows, say why they are missing); a split with one class is
    a usage error, not a traceback."""
    root = evaluated.parent
    with open(root / "manifest.csv", newline="") as f:
        rows = list(csv.reader(f))
    val_only = [rows[0], *(r for r in rows[1:] if r[3] == "val")]
    with open(root / "val_only.csv", "w", newline="") as f:
        csv.writer(f).writerows(val_only)
    out = root / "out-val-only"
    assert main(["eval-detector", "--data", str(root / "val_only.csv"), "--out", str(out), "--bootstrap", "20",
                 "--threads", "1", "--quiet"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n"] == len(val_only) - 1 and 0 <= metrics["conditions"]["normalised"]["auc"] <= 1
    assert "no train rows" in metrics["baselines"]["note"]
    assert "no train rows" in metrics["leave_one_source_out"]["note"]
    assert "no train rows" in (out / "report.html").read_text()
    with open(root / "real_only.csv", "w", newline="") as f:
        csv.writer(f).writerows([rows[0], *(r for r in val_only[1:] if r[1] == "real")])
    assert main(["eval-detector", "--data", str(root / "real_only.csv"), "--out", str(root / "x"), "--quiet"]) == 2
    assert "needs both real and generated images" in capsys.readouterr().err
