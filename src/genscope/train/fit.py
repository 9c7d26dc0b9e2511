"""Fit the heads on cached window features ``(n_images, k, D)``: weights, CV, calibration, families."""

from __future__ import annotations

from collections import Counter

import numpy as np

from genscope.metrics import auc
from genscope.models.detector.head import Head
from genscope.train.data import Row, group_folds
from genscope.train.head_fit import fit_logistic, fit_platt, fit_softmax

# Generated faces weigh 0.3x the real faces' share. At 1x (equal shares) 52-58 % of the real FFHQ val faces
# still scored "generated" (StyleGAN faces are FFHQ's look-alikes, so the head learned faces lean generated);
# at 0.3x 15-18 %, for -0.01 leave-one-source-out mean; at 0.1x 9-12 %, but the GAN face sets fell to 0.6-0.7.
# A real portrait called generated is the costlier mistake. Chosen on the web val split, not on LOSO.
CONTENT_RATIO = 0.3


def image_weights(rows: list[Row]) -> np.ndarray:
    """Per-image weights: each label weighs the same in total, and within a label a source of n images
    weighs ~sqrt(n), so the 170 SD 1.5 grids don't drown the single-image generators. A ``content`` kind
    (faces) gets ``CONTENT_RATIO`` times its share of the real weight in the generated weight, so that the head
    cannot learn "faces are generated" from GAN sources that are mostly faces."""
    count = Counter((r.label, r.source) for r in rows)
    w = np.array([count[(r.label, r.source)] ** -0.5 for r in rows])
    labels = np.array([r.label for r in rows])
    for lab in (0, 1):
        if (labels == lab).any():
            w[labels == lab] /= w[labels == lab].sum()
    generated = labels == 1
    for kind in sorted({r.content for r in rows if r.content}):
        of_kind = np.array([r.content == kind for r in rows])
        real_share, gen_share = w[~generated & of_kind].sum(), w[generated & of_kind].sum()
        if 0 < real_share < 1 and 0 < gen_share < 1:  # both labels show it, and not only it
            target = CONTENT_RATIO * real_share
            w[generated & of_kind] *= target / gen_share
            w[generated & ~of_kind] *= (1 - target) / (1 - gen_share)
    return w


def _flat(feats: np.ndarray, rows: list[Row]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n, k, d = feats.shape
    y = np.repeat([r.label for r in rows], k).astype(np.float64)
    w = np.repeat(image_weights(rows), k)
    return feats.reshape(n * k, d).astype(np.float64), y, w


def fit_binary(feats: np.ndarray, rows: list[Row], l2: float) -> Head:
    """Standardisation + linear head on every window; calibration left at identity."""
    x, y, w = _flat(feats, rows)
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    coef, bias = fit_logistic((x - mean) / scale, y, w, l2)
    return Head(mean=mean, scale=scale, coef=coef, bias=bias, platt_a=1.0, platt_b=0.0,
                family_coef=np.zeros((len(mean), 0)), family_bias=np.zeros(0))


def image_logits(head: Head, feats: np.ndarray) -> np.ndarray:
    """Mean window logit per image (the aggregation inference uses)."""
    n, k, d = feats.shape
    return head.window_logits(feats.reshape(n * k, d)).reshape(n, k).mean(axis=1)


def cv_logits(feats: np.ndarray, rows: list[Row], l2: float, folds: int, seed: int,
              scored_views: list[int] | None = None) -> np.ndarray:
    """Out-of-fold image logits from a group-aware k-fold; ``scored_views``: the views inference sees (the
    head trains on every view, augmented ones included, but is judged as it will be used)."""
    fold = np.array(group_folds([f"{r.source}:{r.group}" for r in rows], folds, seed))
    out = np.zeros(len(rows))
    for f in range(folds):
        tr, te = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
        head = fit_binary(feats[tr], [rows[i] for i in tr], l2)
        out[te] = image_logits(head, feats[te] if scored_views is None else feats[te][:, scored_views])
    return out


def select_l2(feats: np.ndarray, rows: list[Row], grid: tuple[float, ...], folds: int, seed: int,
              log=print, scored_views: list[int] | None = None) -> tuple[float, np.ndarray]:
    """The L2 strength with the best out-of-fold AUC, and its out-of-fold logits."""
    y = np.array([r.label for r in rows])
    best = (-1.0, grid[0], None)
    for l2 in grid:
        oof = cv_logits(feats, rows, l2, folds, seed, scored_views)
        score = auc(y, oof)
        log(f"  l2={l2:g}: out-of-fold AUC {score:.4f}")
        if score > best[0]:
            best = (score, l2, oof)
    return best[1], best[2]


def fit_detector(feats: np.ndarray, rows: list[Row], l2: float, oof_logits: np.ndarray,
                 families: list[str]) -> Head:
    """Final head on all rows, Platt-calibrated on out-of-fold logits, plus the family head."""
    head = fit_binary(feats, rows, l2)
    y = np.array([r.label for r in rows], dtype=np.float64)
    head.platt_a, head.platt_b = fit_platt(oof_logits, y)
    gen = [i for i, r in enumerate(rows) if r.label and r.family in families]
    if families and gen:
        sub = [rows[i] for i in gen]
        n, k, d = feats[gen].shape
        fam = np.repeat([families.index(r.family) for r in sub], k)
        # balance families: each weighs the same whatever its image count
        count = Counter(r.family for r in sub)
        w = np.repeat([1.0 / count[r.family] for r in sub], k)
        head.family_coef, head.family_bias = fit_softmax(
            head.standardise(feats[gen].reshape(n * k, d)), fam, len(families), w, l2)
    return head
