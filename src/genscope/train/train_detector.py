"""Train the shipped detector in one command.

    python -m genscope.train.train_detector --data ../shared/data/detect --out src/genscope/models/detector/weights/fast

Steps: export the frozen EfficientNet-Lite0 backbone to ONNX (torch, the ``train`` extra; skipped with
``--backbone existing.onnx``) → ``k`` augmented windows per training image through the debiasing
pipeline → cached features → L2 strength chosen by group-aware cross-validation → linear head,
Platt calibration on out-of-fold logits, family head, and held-out scores of every training image
(``calibration.npz``, for the adjusted counts of ``genscope audit``). Seeded end to end.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

from genscope.models.detector.crops import CROP
from genscope.models.detector.features import FeatureExtractor
from genscope.train.calibration import held_out_calibration, write_calibration
from genscope.train.data import Row, read_rows
from genscope.train.features import augmented_features
from genscope.train.fit import fit_detector, select_l2

L2_GRID = (3e-4, 1e-3, 3e-3, 1e-2, 3e-2)
THRESHOLD = 0.5
UNCERTAIN = (0.3, 0.7)  # calibrated probabilities in [lo, hi) are reported as "uncertain"
MIN_FAMILY_IMAGES = 3
N_CROPS = 2  # windows per image at inference: a third window cost 1.5x the time for +0.007 raw AUC


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def train(data: str | Path, out: str | Path, *, k: int = 32, seed: int = 0, folds: int = 5,
          backbone: str | Path | None = None, cache_dir: str | Path | None = "work-tmp/detector-cache",
          threads: int | None = None) -> dict:
    """Train on the ``train`` split of ``data`` and write ``backbone.onnx``, ``head.npz``, ``config.json``."""
    start = time.time()
    rows = training_rows(data, folds)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    onnx_path = out / "backbone.onnx"
    if backbone:
        if Path(backbone).resolve() != onnx_path.resolve():
            shutil.copyfile(backbone, onnx_path)
    else:
        from genscope.train.backbone import export_backbone

        export_backbone(out)
    log(f"backbone: {onnx_path} ({onnx_path.stat().st_size / 1e6:.1f} MB)")

    log(f"train rows: {len(rows)} ({sum(r.label for r in rows)} generated)")
    extractor = FeatureExtractor(onnx_path, threads)
    feats = augmented_features(rows, extractor, onnx_path, k, seed, Path(cache_dir) if cache_dir else None)
    log(f"features: {feats.shape}, {time.time() - start:.0f} s")

    l2, oof = select_l2(feats, rows, L2_GRID, folds, seed, log)
    fam_count = Counter(r.family for r in rows if r.label and r.family)
    families = sorted(f for f, c in fam_count.items() if c >= MIN_FAMILY_IMAGES)
    head = fit_detector(feats, rows, l2, oof, families)
    head.save(out / "head.npz")
    calibration = held_out_calibration(rows, feats, extractor, head, l2, folds, seed, N_CROPS)
    write_calibration(calibration, out)
    log(f"held-out calibration: TPR/FPR at {THRESHOLD} = {calibration.rates(THRESHOLD)}")
    config = {
        "format": 1,
        "crop": CROP,
        "n_crops": N_CROPS,
        "threshold": THRESHOLD,
        "uncertain": list(UNCERTAIN),
        "families": families,
        "train": {"data": str(data), "images": len(rows), "windows_per_image": k, "seed": seed,
                  "folds": folds, "l2": l2, "platt": [head.platt_a, head.platt_b],
                  "family_images": {f: fam_count[f] for f in families},
                  "seconds": round(time.time() - start, 1)},
    }
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    log(f"wrote {out} in {time.time() - start:.0f} s (l2={l2:g}, families={families})")
    return config


def training_rows(data: str | Path | list[str], folds: int) -> list[Row]:
    """The ``train`` rows of ``data`` (one or several manifests); a ValueError saying what is missing when they
    cannot train a head."""
    rows = [r for d in ([data] if isinstance(data, str | Path) else data) for r in read_rows(d)]
    train_rows = [r for r in rows if r.split == "train"]
    for label, name in ((0, "real"), (1, "generated")):
        groups = {f"{r.source}:{r.group}" for r in train_rows if r.label == label}
        if len(groups) < folds:
            splits = ", ".join(f"{s} {sum(r.split == s for r in rows)}" for s in sorted({r.split for r in rows}))
            raise ValueError(f"{data}: training needs {name} images from at least {folds} groups in the train "
                             f"split for {folds}-fold cross-validation, found {len(groups)} (rows per split: "
                             f"{splits or 'none'}); add images or lower --folds")
    return train_rows


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kind", choices=("clip", "fast"), default="clip",
                   help="clip: the default model, a probe on CLIP embeddings; fast: the EfficientNet-Lite0 windows "
                        "model (needs the train extra)")
    p.add_argument("--data", required=True, action="append",
                   help="manifest CSV (path,label[,generator][,group][,split]) or a folder with manifest.csv; "
                        "repeat to train on several (e.g. the shared set and `genscope data build-detect`'s output)")
    p.add_argument("--out", required=True, help="model directory to write")
    p.add_argument("--windows", type=int, default=32, help="fast: augmented windows per training image")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--folds", type=int, default=5, help="group-aware CV folds (L2 choice, calibration)")
    p.add_argument("--backbone", help="fast: reuse this backbone ONNX instead of exporting (no torch needed); "
                                      "clip: another tower with the same interface (default: the fetched CLIP tower)")
    p.add_argument("--cache", default=None, help="feature cache folder (default work-tmp/<kind>-cache; '' = none "
                                                 "for the fast model)")
    p.add_argument("--threads", type=int, default=None, help="ONNX Runtime threads (default: all cores)")
    p.add_argument("--l2", type=float, default=None,
                   help="clip: this L2 strength instead of choosing it by cross-validation (e.g. one chosen on a "
                        "held-out split, as clip-detail's was)")
    p.add_argument("--detail", action="store_true",
                   help="clip: also read the centre at twice the magnification beside the whole image (the "
                        "clip-detail model: two tower passes per image)")


def run(args: argparse.Namespace) -> int:
    if args.kind == "clip":
        from genscope.train.train_clip_detector import ENCODER, train_clip

        train_clip(training_rows(args.data, args.folds), args.out, list(args.data), seed=args.seed, folds=args.folds,
                   cache_dir=args.cache or "work-tmp/clip-cache", threads=args.threads,
                   encoder=args.backbone or ENCODER, detail=args.detail, l2=args.l2)
        return 0
    if len(args.data) > 1:
        raise ValueError("the fast model trains on one --data; merge the manifests or use --kind clip")
    cache = "work-tmp/detector-cache" if args.cache is None else args.cache
    train(args.data[0], args.out, k=args.windows, seed=args.seed, folds=args.folds, backbone=args.backbone,
          cache_dir=cache or None, threads=args.threads)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(p)
    return run(p.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
