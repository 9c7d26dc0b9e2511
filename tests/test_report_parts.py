"""The report's parts on their own: charts that inform, evidence in plain words, the galleries' order,
shortcut AUCs with a minimum and an interval, readable heat maps, and copies named by their evidence."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from PIL import Image

from genscope.analyses.shortcuts import MIN_PER_CLASS, find_shortcuts
from genscope.report import evidence, svg
from genscope.report.copies_pages import evidence_counts, match_evidence
from genscope.report.gallery import pick
from genscope.report.heatmap import COLOURS, blend, explained, smooth
from genscope.report.sections import column_block

BAND = (0.3, 0.7)


def test_a_constant_gets_a_sentence_not_a_histogram() -> None:
    block = column_block("detector.threshold", pa.chunked_array([[0.5] * 7]))
    assert block is not None and not block.plot and block.note == "all 7 values are 0.5"


def test_one_outlier_does_not_stretch_the_axis() -> None:
    values = [0.5 + 0.01 * i for i in range(60)] + [2176.0]  # bits per pixel with one 1x1 image
    plot = str(svg.histogram(values))
    right = float(plot.rsplit("≥ ", 1)[1].split("<", 1)[0])
    assert right < 5 and "2176" not in plot
    assert "≥" not in str(svg.histogram([0.5 + 0.01 * i for i in range(60)]))  # no outlier: the plain range


def test_shortcuts_need_enough_images_per_class_and_carry_an_interval() -> None:
    rng = np.random.default_rng(0)

    def table(n: int) -> tuple[pa.Table, np.ndarray]:
        labels = np.arange(n) % 2 == 0
        width = np.where(labels, 1024, 640) + rng.integers(-200, 200, n)
        return pa.table({"width": width.astype(np.int32), "height": np.full(n, 480, np.int32)}), labels

    few = find_shortcuts(*table(2 * MIN_PER_CLASS - 2))
    assert few == []
    small = {s.fact: s for s in find_shortcuts(*table(2 * MIN_PER_CLASS))}["width"]
    large = {s.fact: s for s in find_shortcuts(*table(400))}["width"]
    for found in (small, large):
        assert found.low <= found.auc <= found.high and found.auc >= 0.5
    assert large.high - large.low < small.high - small.low


def _row(path: str, score: float | None, proof: str | None = None, **extra) -> dict:
    said = None if score is None else "generated" if score >= BAND[1] else "real" if score < BAND[0] else "uncertain"
    return {"path": path, "error": None, "provenance.ai": proof, "detector.ai_score": score,
            "detector.verdict": said, "detector.threshold": 0.5} | extra


def test_galleries_put_proof_first_then_score_and_keep_the_unsure_real_apart() -> None:
    rows = [_row("low-proof", 0.1, "yes"), _row("high", 0.95), _row("mid", 0.6), _row("real", 0.05),
            _row("unsure-real", 0.45), _row("less-unsure", 0.32), _row("capture", 0.9, "no"), _row("none", None)]
    likely, unsure = pick(rows, BAND)
    assert [r["path"] for r in likely] == ["low-proof", "high", "mid"]
    assert [r["path"] for r in unsure] == ["unsure-real", "less-unsure"]
    assert evidence.verdict(rows[2]).label == "uncertain, leaning generated"
    assert evidence.verdict(rows[6]).label == "proven real"


@pytest.mark.parametrize(("score", "sure", "shown"), [(0.95, 0.8, True), (0.95, 0.5, False), (0.6, 0.9, False)])
def test_a_family_is_named_only_when_judged_generated_and_sure(score: float, sure: float, shown: bool) -> None:
    row = _row("x", score, **{"detector.family": "sdxl", "detector.family_score": sure})
    lines = evidence.reasons(row, BAND)
    assert any("sdxl" in line for line in lines) is shown
    assert any(line.startswith("Detector score") for line in lines)


def test_reasons_start_with_the_proof() -> None:
    row = _row("x", 0.2, "yes", **{"provenance.reasons": ["C2PA manifest: trainedAlgorithmicMedia"]})
    lines = evidence.reasons(row, BAND)
    assert lines[0].startswith("C2PA") and "below 0.3: real" in lines[1]


def test_heat_maps_are_smooth_keep_the_image_and_carry_score_and_legend() -> None:
    step = np.zeros((120, 160), np.float32)
    step[:, 80:] = 1.0  # a hard tile seam
    assert np.abs(np.diff(smooth(step), axis=1)).max() < 0.1
    rng = np.random.default_rng(1)
    image = Image.fromarray(rng.integers(0, 256, (120, 160, 3), dtype=np.uint8))
    shown = np.asarray(blend(image, np.ones((120, 160), np.float32)), np.float64).mean(axis=-1)
    original = np.asarray(image, np.float64).mean(axis=-1)
    assert np.corrcoef(shown.ravel(), original.ravel())[0, 1] > 0.5  # the image shows through the hottest colour
    picture = np.asarray(explained(image, step, score=0.93, verdict="generated", method="occlusion"))
    assert picture.shape[1] >= 480 and picture.shape[0] > 480 * 120 / 160  # enlarged, with a legend below
    legend = picture[round(480 * 120 / 160):]
    for end in (COLOURS[0], COLOURS[-1]):  # the colour bar runs from one end of the map to the other
        assert (np.abs(legend.astype(np.float64) - end).sum(axis=-1) < 30).any()
    label = picture[:30, :200].reshape(-1, 3)
    assert ((label == (29, 36, 51)).all(axis=1).any() and (label > 240).all(axis=1).any())  # printed score


def test_a_copy_is_named_by_the_evidence_that_decided_it() -> None:
    keypoints = {"similarity": 0.09, "inliers": 41, "phash_distance": 30}
    assert match_evidence(keypoints, 0.6) == "by keypoints: 41 inliers"
    assert match_evidence({"similarity": 0.72, "inliers": None, "phash_distance": 3}, 0.6) == \
        "by pHash: 3 of 64 bits differ; by similarity: 0.720 > 0.6"
    assert match_evidence({"similarity": 0.31, "inliers": 5, "phash_distance": None}, 0.6).startswith("no copy")
    summary = {"replicated": 5, "threshold": 0.6, "replicated_by_phash_only": 1, "replicated_by_keypoints_only": 2}
    assert evidence_counts(summary) == "2 by similarity > 0.6, 1 by pHash only, 2 by keypoints only"
