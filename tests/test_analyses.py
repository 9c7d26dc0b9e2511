"""Dataset-impact analyses on data with a known answer."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from genscope.analyses.clean import plan_clean
from genscope.analyses.diversity import prdc
from genscope.analyses.quantify import Calibration, adjust, estimate_share
from genscope.analyses.shortcuts import find_shortcuts
from genscope.decode import decode
from genscope.metrics import auc
from genscope.signals import Sample
from genscope.signals.container import ContainerSignal, jpeg_quality

from hostile import encode, photo


def _scores(rng: np.random.Generator, n: int, share: float) -> tuple[np.ndarray, np.ndarray]:
    labels = rng.random(n) < share
    return np.where(labels, rng.beta(5, 2, n), rng.beta(2, 5, n)), labels


def test_adjusted_count_is_unbiased_where_counting_is_not() -> None:
    rng = np.random.default_rng(7)
    for share in (0.1, 0.3):
        estimates, naive, covered = [], [], 0
        for draw in range(120):
            calibration = Calibration(*_scores(rng, 600, 0.45))  # a fresh labelled set each time
            scores, labels = _scores(rng, 1000, share)
            estimate = estimate_share(scores, calibration, 0.5, draws=400, seed=draw)
            estimates.append(estimate.share)
            naive.append(estimate.naive)
            covered += estimate.low <= labels.mean() <= estimate.high
        assert abs(np.mean(estimates) - share) < 0.01
        assert abs(np.mean(naive) - share) > 0.04  # counting is off by the false-positive mass
        assert 0.90 <= covered / 120 <= 0.995


def test_hard_evidence_counts_as_generated_whatever_the_score() -> None:
    rng = np.random.default_rng(3)
    calibration = Calibration(*_scores(rng, 600, 0.5))
    scores = np.full(100, 0.01)  # the detector calls everything real…
    known = np.zeros(100, bool)
    known[:20] = True  # …but 20 files carry generation metadata
    estimate = estimate_share(scores, calibration, 0.5, known_generated=known)
    assert estimate.hard_evidence == 20 and estimate.share == pytest.approx(0.2) and estimate.low >= 0.19


def test_adjust_clips_and_never_divides_by_zero() -> None:
    assert adjust(0.02, 0.9, 0.05) == 0.0
    assert adjust(0.99, 0.9, 0.05) == 1.0
    assert adjust(0.5, 0.5, 0.5) in (0.0, 1.0)


def test_clean_never_offers_an_empty_keep_list_as_meeting_the_target() -> None:
    rng = np.random.default_rng(5)
    # generated images score 0.3-1 and real ones 0-0.7, and this collection scores 0.8-0.95: mostly generated,
    # and no cut leaves few enough of them in a non-empty list
    weak = Calibration(np.r_[rng.uniform(0.3, 1, 200), rng.uniform(0, 0.7, 200)], np.repeat([True, False], 200))
    scores = rng.uniform(0.8, 0.95, 60)
    plan = plan_clean(scores, np.zeros(60, bool), weak, 0.5, 0.001)
    assert not plan.reachable and plan.kept >= 1  # before: kept 0, "meets the 0.1 % target"
    assert 0.0 < plan.residual_share <= 1.0 and plan.residual_high <= 1.0
    good = Calibration(*_scores(rng, 600, 0.5))
    scores, _ = _scores(rng, 400, 0.3)
    plan = plan_clean(scores, np.zeros(400, bool), good, 0.5, 0.05)
    assert plan.reachable and 0 < plan.kept < 400 and plan.residual_share <= 0.05
    assert plan.residual_low <= plan.residual_share <= plan.residual_high


def test_clean_states_an_estimate_inside_its_interval_and_promises_only_what_the_interval_holds() -> None:
    from genscope.cli.clean import _verdict

    rng = np.random.default_rng(7)
    good = Calibration(np.r_[rng.uniform(0.6, 1, 100), rng.uniform(0, 0.4, 100)], np.repeat([True, False], 100))
    scores = np.r_[rng.uniform(0, 0.4, 90), rng.uniform(0.6, 1, 10)]
    strict = plan_clean(scores, np.zeros(100, bool), good, 0.5, 0.01)  # no calibration image missed at the cut:
    assert strict.residual_low <= strict.residual_share <= strict.residual_high  # before: 0, under its interval
    assert strict.real_dropped_low <= strict.real_dropped <= strict.real_dropped_high
    assert strict.promised and _verdict(strict) == "meets the 1% target"
    loose = plan_clean(scores, np.zeros(100, bool), good, 0.5, 0.05)
    assert loose.reachable and loose.residual_share <= 0.05 < loose.residual_high and not loose.promised
    assert f"can promise at most {100 * loose.residual_high:.2f}%" in _verdict(loose)


def test_max_generated_takes_a_percentage_or_a_fraction_and_refuses_a_bare_1() -> None:
    import argparse

    from genscope.cli.clean import fraction

    assert (fraction("1%"), fraction("0.01"), fraction("0")) == (0.01, 0.01, 0.0)
    with pytest.raises(argparse.ArgumentTypeError, match=r"write 1% for 1 percent, or a fraction .* 0\.01"):
        fraction("1")


def test_calibration_needs_both_classes() -> None:
    with pytest.raises(ValueError, match="both"):
        Calibration(np.array([0.1, 0.2]), np.array([True, True]))


def test_prdc_orders_known_cases() -> None:
    rng = np.random.default_rng(0)
    real = rng.normal(size=(1500, 32)).astype(np.float32)
    itself = prdc(real, real.copy())
    assert itself.precision == itself.recall == itself.coverage == 1.0
    narrow = prdc(real, (rng.normal(size=(800, 32)) * 0.3).astype(np.float32))
    assert narrow.recall < 0.1 < 0.9 < narrow.precision  # realistic but not diverse
    elsewhere = prdc(real, (rng.normal(size=(800, 32)) + 3.0).astype(np.float32))
    assert elsewhere.precision < 0.2 and elsewhere.outside_real.mean() > 0.8


def test_prdc_matches_brute_force() -> None:
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(300, 8)), rng.normal(size=(200, 8)) + 0.4
    k = 5
    d_rr = np.linalg.norm(real[:, None] - real[None], axis=-1)
    d_ff = np.linalg.norm(fake[:, None] - fake[None], axis=-1)
    d_fr = np.linalg.norm(fake[:, None] - real[None], axis=-1)
    r_real, r_fake = np.sort(d_rr, axis=1)[:, k], np.sort(d_ff, axis=1)[:, k]
    inside = d_fr <= r_real[None]
    expected = (inside.any(1).mean(), (d_fr <= r_fake[:, None]).any(0).mean(), inside.sum() / (k * 200),
                inside.any(0).mean())
    got = prdc(real, fake, k=k)
    assert (got.precision, got.recall, got.density, got.coverage) == pytest.approx(expected, abs=1e-9)


def test_auc_handles_ties_and_direction() -> None:
    assert auc(np.array([0, 0, 1, 1]), np.array([1, 2, 3, 4])) == 1.0
    assert auc(np.array([0, 1, 0, 1]), np.array([1, 1, 1, 1])) == 0.5
    assert auc(np.array([0, 0, 1, 1]), np.array([4, 3, 2, 1])) == 0.0


def test_shortcuts_find_the_planted_one() -> None:
    rng = np.random.default_rng(2)
    labels = rng.random(400) < 0.5
    table = pa.table({
        "format": np.where(labels, "webp", "jpeg"),  # the planted shortcut
        "mode": ["RGB"] * 400,
        "width": rng.integers(300, 900, 400).astype(np.int32),
        "height": rng.integers(300, 900, 400).astype(np.int32),
    })
    found = {s.fact: s for s in find_shortcuts(table, labels)}
    assert found["file format"].auc > 0.95
    assert found["megapixels"].auc < 0.65 and "colour mode" not in found  # constant: no information


@pytest.mark.parametrize("quality", [35, 60, 75, 90, 97])
def test_jpeg_quality_estimate(quality: int) -> None:
    data = encode(photo(120, 90), "JPEG", quality=quality, subsampling=0)
    decoded = decode(data)
    assert jpeg_quality(decoded.info["jpeg_quantization"]) == quality
    row = ContainerSignal().compute([Sample("x", data, decoded.image, decoded.info)])[0]
    assert row["jpeg_subsampling"] == "4:4:4" and row["bits_per_pixel"] == pytest.approx(len(data) * 8 / (120 * 90))


def test_audit_says_why_images_were_not_judged_and_counts_proven_real() -> None:
    from genscope.analyses.audit import run_audit

    table = pa.table({
        "path": ["a", "b", "c", "d", "e"], "shard": [None] * 5, "meta": [None] * 5,
        "error": ["decode.truncated", None, None, None, None],
        "provenance.ai": [None, None, "no", "yes", None],
        "detector.ai_score": pa.array([None, None, None, None, 0.9], pa.float32()),
        "detector.error": ["detector.no_image: no decoded image", "detector.too_small: 8 px", None, None, None],
    })
    share = run_audit(table, calibration=None).summary["share"]
    assert share["not_judged"] == {"decode.truncated": 1, "detector.too_small": 1}
    assert share["proven_real"] == 1 and share["proven_generated"] == 1
    assert share["scored"] == 1 and share["detector_generated"] == 1
