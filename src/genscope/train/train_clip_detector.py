"""Train the default detector, a probe on CLIP image embeddings, in one seeded command.

    genscope train-detector --kind clip --data ../shared/data/detect --data web/manifest.csv \\
        --out src/genscope/models/detector/weights/clip
    genscope train-detector --kind clip --detail --l2 0.01 ... --out src/genscope/models/detector/weights/clip-detail

Steps: the ``train`` rows of every ``--data`` → CLIP embeddings of four views per image (raw, normalised,
two re-encoded/down-scaled; cached per file) → L2 strength by group-aware CV, judged on the raw view as
inference sees it → linear head on all views, Platt calibration on the out-of-fold logits, family head
→ ``head.npz``, ``config.json`` and ``calibration.npz`` (the out-of-fold scores, for ``genscope audit``).
``--detail`` embeds each view's ``detail_view`` too and fits the head on both side by side.
No torch: the tower runs on ONNX Runtime and the heads are NumPy.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from genscope.analyses.quantify import Calibration
from genscope.models.detector.clip_encoder import FEATURES
from genscope.models.registry import model_file
from genscope.train.calibration import write_calibration
from genscope.train.clip_features import VIEWS, clip_embeddings
from genscope.train.data import Row
from genscope.train.fit import fit_detector, select_l2

ENCODER = "clip-vit-b16-int8"
L2_GRID = (3e-3, 1e-2, 3e-2, 1e-1, 3e-1)
THRESHOLD = 0.5
UNCERTAIN = (0.3, 0.7)
MIN_FAMILY_IMAGES = 5
N_VIEWS = 1  # whole-image views per image at inference: the centre one (`--crops N` spreads N along the long axis)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def encoder_path(encoder: str | Path) -> Path:
    """A registry name (fetched once) or an ONNX file with the same interface."""
    return Path(encoder) if Path(encoder).suffix == ".onnx" else model_file(str(encoder))


def train_clip(rows: list[Row], out: str | Path, data_names: list[str], *, seed: int = 0, folds: int = 5,
               cache_dir: str | Path = "work-tmp/clip-cache", threads: int | None = None,
               encoder: str | Path = ENCODER, progress: bool = True, detail: bool = False,
               l2: float | None = None) -> dict:
    """Fit the probe on ``rows`` (the train split) and write the model directory ``out``."""
    start = time.time()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    onnx = encoder_path(encoder)
    log(f"train rows: {len(rows)} ({sum(r.label for r in rows)} generated, "
        f"{len({r.source for r in rows})} sources)")
    emb = clip_embeddings([r.path for r in rows], onnx, Path(cache_dir), threads, progress, FEATURES, detail)
    log(f"embeddings: {emb.shape} ({', '.join(VIEWS)}), {time.time() - start:.0f} s")
    raw = [VIEWS.index("raw")]
    # a given l2 still goes through the CV: its out-of-fold logits calibrate the head
    given_l2 = l2 is not None
    l2, oof = select_l2(emb, rows, (l2,) if given_l2 else L2_GRID, folds, seed, log, scored_views=raw)
    fam_count = Counter(r.family for r in rows if r.label and r.family)
    families = sorted(f for f, c in fam_count.items() if c >= MIN_FAMILY_IMAGES)
    head = fit_detector(emb, rows, l2, oof, families)
    head.save(out / "head.npz")
    calibration = Calibration(scores=np.asarray(head.calibrate(oof), dtype=np.float64),
                              labels=np.array([bool(r.label) for r in rows]))
    write_calibration(calibration, out)
    log(f"out-of-fold calibration: TPR/FPR at {THRESHOLD} = {calibration.rates(THRESHOLD)}")
    # a local tower file travels with the model; a registry tower is named and fetched on first use
    local = onnx == Path(encoder)
    if local and onnx.resolve() != (out / onnx.name).resolve():
        (out / onnx.name).write_bytes(onnx.read_bytes())
    config = {
        "format": 1,
        "kind": "clip",
        "encoder": onnx.name if local else str(encoder),
        "features": list(FEATURES),
        "detail": detail,
        "n_crops": N_VIEWS,
        "threshold": THRESHOLD,
        "uncertain": list(UNCERTAIN),
        "families": families,
        "train": {"data": data_names, "images": len(rows), "generated": sum(r.label for r in rows),
                  "sources": dict(sorted(Counter(r.source for r in rows).items())), "views": list(VIEWS),
                  "seed": seed, "folds": folds, "l2": l2, "l2_from": "given" if given_l2 else "cv",
                  "platt": [head.platt_a, head.platt_b],
                  "family_images": {f: fam_count[f] for f in families},
                  "seconds": round(time.time() - start, 1)},
    }
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    log(f"wrote {out} in {time.time() - start:.0f} s (l2={l2:g}, families={families})")
    return config
