"""Local engine vs Ray engine on the same images: what Ray costs at small scale.

Builds --n distinct 512 px JPEGs (random crops of ``../shared/data/detect`` images, cached under
``work-tmp/``), then runs ``genscope scan`` as a user does, alternating the engines, a fresh process
and a fresh --out each run. Reports the median of --runs runs and the local/Ray ratio; Ray's time
includes starting its local instance, as a user would see it.

    python benchmarks/engine_throughput.py                             # 2,000 images, cheap signals
    python benchmarks/engine_throughput.py --signals default --n 2000  # with provenance and detector
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "detect"
RESULTS = REPO / "benchmarks" / "results" / "scale"


def build_images(folder: Path, count: int, seed: int = 0) -> Path:
    target = folder / f"engine-bench-{count}"
    if target.is_dir() and len(list(target.iterdir())) == count:
        return target
    target.mkdir(parents=True, exist_ok=True)
    sources = sorted(p for split in ("train", "val") for p in (SHARED / split).rglob("*") if p.is_file()
                     and p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp"))
    if not sources:
        raise SystemExit(f"no images under {SHARED}")
    rng = random.Random(seed)
    for index in range(count):
        with Image.open(sources[index % len(sources)]) as image:
            image = image.convert("RGB")
            side = min(512, *image.size)
            left = rng.randint(0, image.width - side)
            top = rng.randint(0, image.height - side)
            crop = image.crop((left, top, left + side, top + side))
        crop.save(target / f"{index:06d}.jpg", quality=90)
    return target


def run_scan(images: Path, out: Path, engine: str, signals: str | None) -> dict:
    command = [sys.executable, "-m", "genscope", "scan", str(images), "--out", str(out), "--quiet", "--no-report",
               "--engine", engine]
    if signals:
        command += ["--signals", signals]
    started = time.perf_counter()
    subprocess.run(command, check=True)
    wall = time.perf_counter() - started
    summary = json.loads((out / "summary.json").read_text())
    return {"engine": engine, "wall_s": round(wall, 2), "images_per_s": round(summary["inputs"] / wall, 2),
            "inputs": summary["inputs"], "failed": summary["failed"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="number of distinct images (default 2000)")
    parser.add_argument("--runs", type=int, default=3, help="runs per engine (default 3)")
    parser.add_argument("--signals", default="exif,phash,container",
                        help="signals to compute, or 'default' for genscope's defaults (default: the cheap three)")
    args = parser.parse_args()
    images = build_images(REPO / "work-tmp", args.n)
    signals = None if args.signals == "default" else args.signals
    runs: dict[str, list[dict]] = {"local": [], "ray": []}
    with tempfile.TemporaryDirectory() as temp:
        for run in range(args.runs):
            for engine in ("local", "ray"):  # alternated, so load from elsewhere hits both alike
                result = run_scan(images, Path(temp) / f"{engine}-{run}", engine, signals)
                runs[engine].append(result)
                print(json.dumps(result))
    median = {engine: statistics.median(r["images_per_s"] for r in results) for engine, results in runs.items()}
    report = {
        "n": args.n, "signals": args.signals, "cpus": os.cpu_count(), "load_average": os.getloadavg(),
        "median_images_per_s": median, "local_over_ray": round(median["local"] / median["ray"], 2), "runs": runs,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = f"engine_throughput_{args.signals.replace(',', '+')}_{args.n}.json"
    (RESULTS / name).write_text(json.dumps(report, indent=2) + "\n")
    print(f"local {median['local']} img/s, ray {median['ray']} img/s, local/ray ×{report['local_over_ray']} "
          f"(median of {args.runs}, {args.n} images, signals {args.signals}, load {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
