"""Evaluate a detector honestly: raw and normalised images, shortcut baselines, robustness, LOSO.

``evaluate(model, data)`` returns the dict written to ``metrics.json``. The figure that counts is
``conditions.normalised``: every image reduced to a 384 px centre crop saved as JPEG q90 4:4:4, so
container, size and original compression carry no information. ``images`` keeps every test image's
score under every condition, for the HTML report's curves, tables and mistake gallery. Needs no torch.
"""

from __future__ import annotations

import itertools
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from tqdm import tqdm

from genscope.metrics import (
    auc,
    average_precision,
    bootstrap_auc_ci,
    expected_calibration_error,
    threshold_metrics,
    tpr_at_fpr,
)
from genscope.models.detector import Detector
from genscope.models.detector.conditions import CONDITIONS, ROBUSTNESS, normalise
from genscope.models.detector.crops import CannotJudge
from genscope.models.detector.head import Head, sigmoid
from genscope.train.data import Row, read_rows
from genscope.train.features import augmented_features, load_rgb
from genscope.train.fit import fit_binary
from genscope.train.head_fit import fit_logistic


def binary_report(y: np.ndarray, prob: np.ndarray, threshold: float, band: tuple[float, float],
                  groups: np.ndarray, n_boot: int, seed: int) -> dict[str, Any]:
    lo, hi = bootstrap_auc_ci(y, prob, n_boot, seed, groups)
    return {"auc": auc(y, prob), "auc_ci95": [lo, hi], "ap": average_precision(y, prob),
            **threshold_metrics(y, prob, threshold),
            "tpr_at_fpr_1pct": tpr_at_fpr(y, prob, 0.01), "tpr_at_fpr_5pct": tpr_at_fpr(y, prob, 0.05),
            "ece": expected_calibration_error(y, prob),
            "uncertain_share": float(((prob >= band[0]) & (prob < band[1])).mean())}


def _views(det: Detector, image: Image.Image, preprocess: str) -> np.ndarray:
    """The image's views, or none when the detector refuses it (a degradation can shrink a small image under
    the minimum side): it then counts as undecided, a logit of 0, in every figure."""
    try:
        return det.windows(image, preprocess)
    except CannotJudge:
        return np.zeros((0, 1, 1, 3), np.uint8)


def _features(det: Detector, images: list[Image.Image], preprocess: str) -> list[np.ndarray]:
    per_image = [_views(det, im, preprocess) for im in images]
    judged = [w for w in per_image if len(w)]
    feats = det.extractor(np.concatenate(judged)) if judged else np.zeros((0, 0), np.float32)
    bounds = np.cumsum([0] + [len(w) for w in per_image])
    return [feats[a:b] for a, b in itertools.pairwise(bounds)]


def _logit(head: Head, feats: np.ndarray) -> float:
    """Mean view logit; 0 (= a score of 0.5 before calibration) for an image the detector refused."""
    return float(head.window_logits(feats).mean()) if len(feats) else 0.0


def _scores(det: Detector, feats: list[np.ndarray]) -> np.ndarray:
    return np.array([float(det.head.calibrate(_logit(det.head, f))) for f in feats])


def _file_facts(row: Row) -> tuple[str, int, int]:
    with Image.open(row.path) as im:
        return im.format or "?", im.width, im.height


def _size_vector(w: int, h: int) -> list[float]:
    return [np.log(w), np.log(h), np.log(w * h), float(w == h), float(w % 64 == 0 and h % 64 == 0)]


def shortcut_baselines(train: list[Row], test: list[Row], test_facts: list[tuple[str, int, int]]) -> dict:
    """AUC of a format-only lookup and a size-only logistic model, fitted on ``train``."""
    y_tr = np.array([r.label for r in train], dtype=float)
    y_te = np.array([r.label for r in test])
    facts_tr = [_file_facts(r) for r in train]
    rate = {}
    for fmt in {f for f, _, _ in facts_tr}:
        mask = np.array([f == fmt for f, _, _ in facts_tr])
        rate[fmt] = y_tr[mask].mean()
    fmt_score = np.array([rate.get(f, y_tr.mean()) for f, _, _ in test_facts])
    x_tr = np.array([_size_vector(w, h) for _, w, h in facts_tr])
    mean, scale = x_tr.mean(0), x_tr.std(0) + 1e-6
    coef, bias = fit_logistic((x_tr - mean) / scale, y_tr, np.ones(len(y_tr)), 1e-3, iters=2000, lr=0.05)
    x_te = (np.array([_size_vector(w, h) for _, w, h in test_facts]) - mean) / scale
    return {"format_only_auc": auc(y_te, fmt_score), "size_only_auc": auc(y_te, sigmoid(x_te @ coef + bias))}


def camera_make(path: Path) -> str | None:
    """The EXIF camera make (and model) of a file, or None: what a camera-family FPR table groups by."""
    try:
        with Image.open(path) as im:
            exif = im.getexif()
    except Exception:  # an unreadable file has no camera to report
        return None
    make, model = str(exif.get(0x010F, "")).strip(" \x00"), str(exif.get(0x0110, "")).strip(" \x00")
    name = make or model
    return name.split()[0].title() if name else None


def camera_false_positives(test: list[Row], raw_scores: np.ndarray, threshold: float) -> dict[str, Any]:
    """False-positive rate at the shipped threshold on real images with camera EXIF, per camera make, raw files
    (a camera JPEG flagged as generated is the costliest mistake for a photographer)."""
    per: dict[str, list[float]] = {}
    for r, s in zip(test, raw_scores, strict=True):
        if not r.label and (make := camera_make(r.path)):
            per.setdefault(make, []).append(float(s))
    allv = [s for v in per.values() for s in v]
    return {"n": len(allv), "false_positive_rate": float(np.mean(np.array(allv) >= threshold)) if allv else None,
            "per_make": {m: {"n": len(v), "false_positive_rate": float(np.mean(np.array(v) >= threshold))}
                         for m, v in sorted(per.items())}}


def family_accuracy(det: Detector, rows: list[Row], feats: list[np.ndarray]) -> dict[str, Any]:
    """Top-1 accuracy of the family head on generated images whose family the model knows."""
    known = [(r, f) for r, f in zip(rows, feats, strict=True) if r.label and r.family in det.families and len(f)]
    if not known:
        return {"n": 0}
    hits = [det.families[int(np.argmax(det.head.family_probs(f)))] == r.family for r, f in known]
    per = {fam: {"n": sum(r.family == fam for r, _ in known),
                 "top1": float(np.mean([h for (r, _), h in zip(known, hits, strict=True) if r.family == fam]))}
           for fam in sorted({r.family for r, _ in known})}
    return {"n": len(known), "top1": float(np.mean(hits)), "per_family": per}


def _training_views(det: Detector, rows: list[Row], seed: int, k: int, cache_dir: Path,
                    progress: bool) -> tuple[np.ndarray, Callable[[list[Row]], list[np.ndarray]]]:
    """The features the model's head was trained on for ``rows`` ``(n, views, D)``, and a function giving any
    rows' normalised-view features as inference computes them (from the same cache for the CLIP probe)."""
    if det.kind == "clip":
        from genscope.train.clip_features import VIEWS, clip_embeddings

        def embed(rs: list[Row]) -> np.ndarray:
            return clip_embeddings([r.path for r in rs], det.extractor.onnx_path, cache_dir, progress=progress,
                                   features=det.extractor.features, detail=det.detail)

        norm = VIEWS.index("norm")
        return embed(rows), lambda rs: list(embed(rs)[:, norm:norm + 1])
    feats = augmented_features(rows, det.extractor, det.path / "backbone.onnx", k, seed, cache_dir)
    return feats, lambda rs: _features(det, [normalise(load_rgb(r.path)) for r in rs], "crop")


def leave_one_source_out(det: Detector, rows: list[Row], seed: int, k: int, cache_dir: Path,
                         log: Callable[[str], None], bar_off: bool | None = True) -> dict:
    """Train the head without one generated source (all its splits), test it on that source against the
    real val images, everything normalised. Also per generator inside each left-out source."""
    train = [r for r in rows if r.split == "train"]
    train_feats, normalised_feats = _training_views(det, train, seed, k, cache_dir, bar_off is False)
    real_val = [r for r in rows if r.split == "val" and not r.label]
    l2 = float(det.config["train"]["l2"])
    sources = sorted({r.source for r in rows if r.label})
    real_feats = normalised_feats(real_val)
    table = {}
    for src in tqdm(sources, desc="leave-one-source-out", unit="source", disable=bar_off, leave=False):
        keep = [i for i, r in enumerate(train) if not (r.label and r.source == src)]
        head = fit_binary(train_feats[keep], [train[i] for i in keep], l2)
        held = [r for r in rows if r.label and r.source == src]
        held_feats = normalised_feats(held)
        score = lambda fs, h=head: np.array([_logit(h, f) for f in fs])  # noqa: E731
        s_real, s_held = score(real_feats), score(held_feats)
        y = np.r_[np.zeros(len(s_real)), np.ones(len(s_held))]
        per_gen = {}
        for gen in sorted({r.generator or "unknown" for r in held}):
            sel = np.array([(r.generator or "unknown") == gen for r in held])
            per_gen[gen] = {"n": int(sel.sum()), "auc": auc(np.r_[np.zeros(len(s_real)), np.ones(sel.sum())],
                                                            np.r_[s_real, s_held[sel]])}
        table[src] = {"n_generated": len(held), "n_real": len(real_val), "auc": auc(y, np.r_[s_real, s_held]),
                      "per_generator": per_gen}
        log(f"  LOSO {src}: AUC {table[src]['auc']:.3f} (n={len(held)})")
    aucs = [v["auc"] for v in table.values()]
    return {"sources": table, "mean_auc": float(np.mean(aucs)), "min_auc": float(np.min(aucs)),
            "note": "head refitted without the source; test: that source (train+val) vs real val, normalised"}


def _image_rows(test: list[Row], scores: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    return [{"path": str(r.path), "label": r.label, "source": r.source, "generator": r.generator,
             "group": r.group, "scores": {k: float(v[i]) for k, v in scores.items()}} for i, r in enumerate(test)]


def evaluate(model: str | Path | None, data: str | Path | list[str], *, split: str = "val", n_boot: int = 1000,
             seed: int = 0, loso: bool = True, cache_dir: str | Path | None = None,
             threads: int | None = None, log: Callable[[str], None] | None = None,
             progress: bool | None = None) -> dict[str, Any]:
    """Every metric of ``metrics.json`` for the model on ``split`` of ``data``. ``progress``: progress bars
    on stderr (None = only on a terminal); ``log`` gets one line per finished step."""
    log = log or (lambda m: tqdm.write(m, file=sys.stderr))  # tqdm.write keeps an active bar intact
    bar_off = None if progress is None else not progress
    start = time.time()
    det = Detector.load(model, threads)
    rows = [r for d in ([data] if isinstance(data, str | Path) else data) for r in read_rows(d)]
    test = [r for r in rows if r.split == split]
    train = [r for r in rows if r.split == "train"]
    y = np.array([r.label for r in test])
    if not test or y.all() or not y.any():
        splits = ", ".join(sorted({r.split for r in rows})) or "none"
        raise ValueError(f"{data}: split {split!r} needs both real and generated images (it has {len(test)} rows, "
                         f"{int(y.sum())} generated; splits in the data: {splits})")
    # the shortcut baselines and leave-one-source-out fit on the train rows: both classes needed there
    trainable = {r.label for r in train} == {0, 1}
    missing_train = {"note": "not computed: the data has no train rows of both classes to fit on"}
    groups = np.array([f"{r.source}:{r.group}" for r in test])
    originals = [load_rgb(r.path) for r in tqdm(test, desc="decode", unit="img", disable=bar_off, leave=False)]
    result: dict[str, Any] = {"model": str(det.path), "data": str(data), "split": split, "n": len(test),
                              "n_generated": int(y.sum()), "threshold": det.threshold,
                              "uncertain_band": list(det.band), "conditions": {}}
    normalised_feats = None
    scores: dict[str, np.ndarray] = {}
    # the crop-vs-resize comparison is the fast model's (the CLIP probe always sees CLIP's resized view)
    both = ("crop", "resize") if det.kind != "clip" else ("crop",)
    passes = [(name, pre) for name in CONDITIONS for pre in (both if name in ("raw", "normalised") else ("crop",))]
    for name, pre in tqdm(passes, desc="conditions", unit="pass", disable=bar_off, leave=False):
        feats = _features(det, [CONDITIONS[name](im) for im in originals], pre)
        prob = _scores(det, feats)
        key = name if pre == "crop" else f"{name}_resize_preprocess"
        scores[key] = prob
        result["conditions"][key] = binary_report(y, prob, det.threshold, det.band, groups, n_boot, seed)
        result["conditions"][key]["refused"] = sum(not len(f) for f in feats)  # scored 0.5: too small after it
        log(f"  {key}: AUC {result['conditions'][key]['auc']:.4f}")
        if key == "normalised":
            normalised_feats, normalised_prob = feats, prob
    raw_auc = result["conditions"]["raw"]["auc"]
    norm_auc = result["conditions"]["normalised"]["auc"]
    result["robustness_drop"] = {k: raw_auc - result["conditions"][k]["auc"] for k in ROBUSTNESS}
    result["robustness_drop"].update({f"normalised_{k}": norm_auc - result["conditions"][f"normalised_{k}"]["auc"]
                                      for k in ROBUSTNESS})
    facts = [_file_facts(r) for r in test]
    result["baselines"] = {"raw": shortcut_baselines(train, test, facts),
                           "normalised": shortcut_baselines(train, test, [("JPEG", *normalise(im).size)
                                                                          for im in originals])} \
        if trainable else missing_train
    result["per_source_normalised"] = {}
    for src in sorted({r.source for r in test if r.label}):
        sel = np.array([(not r.label) or r.source == src for r in test])
        result["per_source_normalised"][src] = {"n": int(sum(r.source == src for r in test)),
                                                "auc_vs_all_real": auc(y[sel], normalised_prob[sel])}
    for src in sorted({r.source for r in test if not r.label}):
        sel = np.array([r.source == src for r in test])
        fpr = float((normalised_prob[sel] >= det.threshold).mean())
        result["per_source_normalised"][src] = {"n": int(sel.sum()), "false_positive_rate": fpr,
                                                "mean_score": float(normalised_prob[sel].mean())}
    result["false_positives_by_camera"] = camera_false_positives(test, scores["raw"], det.threshold)
    result["per_generator_normalised"] = {}
    for gen in sorted({r.generator or "unknown" for r in test if r.label}):
        sel = np.array([(not r.label) or (r.generator or "unknown") == gen for r in test])
        result["per_generator_normalised"][gen] = {"n": int(sel.sum() - (y == 0).sum()),
                                                   "auc_vs_all_real": auc(y[sel], normalised_prob[sel])}
    result["family_normalised"] = family_accuracy(det, test, normalised_feats)
    if loso and not trainable:
        result["leave_one_source_out"] = missing_train
    elif loso:
        cfg = det.config["train"]
        # the training command's feature cache, so leave-one-source-out reuses what training computed
        cache = Path(cache_dir or ("work-tmp/clip-cache" if det.kind == "clip" else "work-tmp/detector-cache"))
        result["leave_one_source_out"] = leave_one_source_out(
            det, rows, int(cfg["seed"]), int(cfg.get("windows_per_image", 0)), cache, log, bar_off)
    result["images"] = _image_rows(test, scores)
    result["seconds"] = round(time.time() - start, 1)
    return result
