"""Detector throughput: end-to-end images/s on 512 px JPEGs (decode included) next to the raw ONNX
forward throughput, in the same run.

    python benchmarks/detector_speed.py --n 200 --out benchmarks/results/detector/speed.json
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from genscope.models.detector import Detector
from genscope.models.detector_crops import CROP


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


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--threads", type=int, default=None, help="ONNX Runtime threads (default: all cores)")
    p.add_argument("--out", default="benchmarks/results/detector/speed.json")
    args = p.parse_args()
    det = Detector.load(threads=args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_jpegs(Path(tmp), args.n)
        det.predict(paths[:16])  # warm-up: first ORT runs allocate
        t = time.perf_counter()
        res = det.predict(paths)
        e2e = args.n / (time.perf_counter() - t)
        windows = len(det.windows(Image.open(paths[0]).convert("RGB")))
    x = np.random.default_rng(0).integers(0, 256, (16, 3, CROP, CROP)).astype(np.float32)
    det.extractor.session.run(None, {"input": x})
    reps = max(1, args.n * windows // 16)
    t = time.perf_counter()
    for _ in range(reps):
        det.extractor.session.run(None, {"input": x})
    fwd = reps * 16 / (time.perf_counter() - t)
    result = {"images": args.n, "load_average_1min": round(os.getloadavg()[0], 2),
              "image_size": "512x512 JPEG q90", "windows_per_image": windows,
              "cpu_count": len(os.sched_getaffinity(0)), "ort_threads": args.threads or "all",
              "end_to_end_images_per_s": round(e2e, 1), "onnx_forward_windows_per_s": round(fwd, 1),
              "onnx_forward_images_per_s": round(fwd / max(windows, 1), 1),
              "errors": sum(bool(r.get("error")) for r in res)}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
