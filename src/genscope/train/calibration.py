"""Held-out scores that let ``genscope audit`` correct its counts: ``calibration.npz`` next to the model.

Each training image is scored the way inference scores any image (its native-resolution windows,
the mean window logit, the shipped Platt calibration) by a head fitted without the image's group.
Those scores and the labels give the detector's true- and false-positive rates at any threshold on
images it was not trained on — what the adjusted count in ``analyses/quantify.py`` needs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from genscope.analyses.quantify import Calibration
from genscope.models.detector.crops import image_windows
from genscope.models.detector.features import FeatureExtractor
from genscope.models.detector.head import Head
from genscope.train.data import Row, group_folds
from genscope.train.features import load_rgb
from genscope.train.fit import fit_binary


def held_out_calibration(rows: list[Row], train_feats: np.ndarray, extractor: FeatureExtractor, head: Head,
                         l2: float, folds: int, seed: int, n_crops: int) -> Calibration:
    fold = np.array(group_folds([f"{r.source}:{r.group}" for r in rows], folds, seed))
    windows = [extractor(image_windows(load_rgb(row.path), n_crops, "crop")) for row in rows]
    logits = np.zeros(len(rows))
    for f in range(folds):
        train, held = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
        fold_head = fit_binary(train_feats[train], [rows[i] for i in train], l2)
        for i in held:
            logits[i] = float(fold_head.window_logits(windows[i]).mean())
    scores = np.asarray(head.calibrate(logits), dtype=np.float64)
    return Calibration(scores=scores, labels=np.array([bool(r.label) for r in rows]))


def write_calibration(calibration: Calibration, out: Path) -> Path:
    target = out / "calibration.npz"
    calibration.save(target)
    return target
