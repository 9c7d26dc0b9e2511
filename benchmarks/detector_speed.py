"""Detector throughput: ``genscope detect`` on 512 px JPEGs (decode included) next to the raw ONNX
forward throughput, for each model (``clip``, the default, and ``fast``) in the same run.

    python benchmarks/detector_speed.py --n 300 --out benchmarks/results/detector/speed.json

End to end = the real command, ``genscope detect --jsonl --unit-size 8 DIR``, run as a subprocess: ``steady`` counts
the images printed after the first line over the time from the first line to the last (worker
start-up excluded), ``whole_command`` divides all images by the command's wall time (Python start-up,
model loading and worker spawning included). On a shared box those depend on the other jobs, so the
CPU time the command and its workers used is reported too: ``cpu_ms_per_image`` (start-up included)
and what the cores would give if the command had them to itself, ``cores / cpu time per image``.
Forward = the ONNX session alone on random views, one view per call (clip, as inference runs it) or one
image's windows (fast), on all cores in one process; per image, as many passes as the model makes (a detail
model: the whole-image view and the detail view).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from genscope.models.detector import Detector


def make_jpegs(folder: Path, n: int, seed: int = 0) -> list[Path]:
    """``n`` 512x512 JPEG q90 files of smooth random content (speed does not depend on content)."""
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        low = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
        img = Image.fromarray(low).resize((512, 512), Image.Resampling.BICUBIC)
        noisy = np.clip(np.asarray(img, dtype=np.int16) + rng.integers(-8, 9, (512, 512, 3)), 0, 255)
        path = folder / f"img{i:04d}.jpg"
        Image.fromarray(noisy.astype(np.uint8)).save(path, "JPEG", quality=90)
        paths.append(path)
    return paths


def time_cli(folder: Path, extra: list[str]) -> dict:
    """Run ``genscope detect --jsonl folder``; time stamps of the first and the last output line."""
    # detect prints unit by unit: units of 8 keep the lines' time stamps close to when each image was done
    cmd = [sys.executable, "-m", "genscope", "detect", str(folder), "--jsonl", "--unit-size", "8", *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    lines, first = [], None
    for line in proc.stdout:
        first = first or time.perf_counter()
        lines.append(json.loads(line))
    end = time.perf_counter()
    if proc.wait() != 0:
        raise SystemExit(f"{cmd} failed")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the command and its reaped workers
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    steady = (len(lines) - 1) / (end - first) if len(lines) > 1 else float("nan")
    return {"steady_images_per_s": round(steady, 1), "whole_command_images_per_s": round(len(lines) / (end - start), 1),
            "whole_command_s": round(end - start, 2), "cpu_ms_per_image": round(1000 * cpu / len(lines), 1),
            "cpu_bound_images_per_s": round(len(os.sched_getaffinity(0)) * len(lines) / cpu, 1),
            "errors": sum(bool(r.get("error")) for r in lines)}


def forward_rate(det: Detector, batch: int, side: int, seconds: float = 5.0) -> float:
    """Views/s of the ONNX session alone, ``batch`` views per call."""
    session = det.extractor.session
    feed = {session.get_inputs()[0].name:
            np.random.default_rng(0).integers(0, 256, (batch, 3, side, side)).astype(np.float32)}
    session.run(None, feed)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        session.run(None, feed)
        n += batch
    return n / (time.perf_counter() - start)


def measure(model: str, folder: Path, paths: list[Path], args: argparse.Namespace) -> dict:
    det = Detector.load(model)
    # a detail model's windows are (k, 2, S, S, 3): each view beside the detail view, two tower passes
    windows = det.windows(Image.open(paths[0]).convert("RGB"), n_crops=args.crops)
    views = windows.reshape(-1, *windows.shape[-3:])
    batch = 1 if det.kind == "clip" else len(views)  # as inference calls it: one CLIP view per call
    load_before = os.getloadavg()[0]
    fwd = forward_rate(det, batch, views.shape[1])
    extra = ["--model", model, *(["--workers", str(args.workers)] if args.workers else []),
             *(["--crops", str(args.crops)] if args.crops else [])]
    cli = time_cli(folder, extra)
    fwd_images = fwd / len(views)
    return {"load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            "view_px": int(views.shape[1]), "views_per_image": len(views), "end_to_end": cli,
            "onnx_forward_views_per_s": round(fwd, 1), "onnx_forward_images_per_s": round(fwd_images, 1),
            "end_to_end_over_forward": round(cli["steady_images_per_s"] / fwd_images, 2)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=300)
    p.add_argument("--models", default="clip,fast", help="comma-separated model names or directories")
    p.add_argument("--workers", type=int, default=None, help="passed to genscope detect (default: its own)")
    p.add_argument("--crops", type=int, default=None, help="views per image (default: the model's)")
    p.add_argument("--out", default="benchmarks/results/detector/speed.json")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_jpegs(Path(tmp), args.n)
        models = {m: measure(m, Path(tmp), paths, args) for m in args.models.split(",")}
    result = {"images": args.n, "image_size": "512x512 JPEG q90", "cpu_count": len(os.sched_getaffinity(0)),
              "workers": args.workers or "default", "models": models}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
