"""Scan throughput and peak memory of the spine.

Runs ``genscope scan`` as a user does (a fresh process, a fresh --out each run) and samples the
resident memory of the whole process tree (CLI + workers). Reports the median of --runs runs.

    python benchmarks/scan_throughput.py                      # ../shared/data/detect/val
    python benchmarks/scan_throughput.py --scale 2000,20000   # memory stays flat as inputs grow
    python benchmarks/scan_throughput.py --signals exif,phash,container   # the spine's cheap signals only
    python benchmarks/scan_throughput.py --large --signals exif   # one 10000x10000 PNG, 8-bit vs 16-bit
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))


def tree_rss(process: psutil.Process) -> int:
    total = 0
    for proc in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):  # a worker may exit between listing and reading
            total += proc.memory_info().rss
    return total


class PeakRss:
    """Samples the resident memory of a process and its children every ``interval`` s while in a ``with``
    block; ``peak`` is the largest total seen (bytes)."""

    def __init__(self, process: psutil.Process, interval: float) -> None:
        self.process, self.interval, self.peak = process, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(psutil.Error):
                self.peak = max(self.peak, tree_rss(self.process))
            time.sleep(self.interval)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


def run_scan(inputs: str, out: Path, extra: list[str]) -> dict:
    command = [sys.executable, "-m", "genscope", "scan", inputs, "--out", str(out), "--quiet", "--no-report",
               *extra]
    started = time.perf_counter()
    process = subprocess.Popen(command)
    with PeakRss(psutil.Process(process.pid), 0.05) as memory:
        code = process.wait()
    peak = memory.peak
    wall = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"scan failed with exit code {code}")
    summary = json.loads((out / "summary.json").read_text())
    return {"inputs": summary["inputs"], "wall_s": wall, "images_per_s_internal": summary["timing"]["images_per_s"],
            "images_per_s_process": summary["inputs"] / wall, "peak_rss_mb": peak / 2**20,
            "cpu_ms_per_image": summary["timing"]["cpu_ms_per_image"]}


def median_of(runs: list[dict]) -> dict:
    keys = ("wall_s", "images_per_s_internal", "images_per_s_process", "peak_rss_mb")
    return {"inputs": runs[0]["inputs"], "runs": len(runs),
            **{k: round(statistics.median(r[k] for r in runs), 2) for k in keys},
            "cpu_ms_per_image": runs[len(runs) // 2]["cpu_ms_per_image"]}


def make_folder(folder: Path, count: int) -> None:
    from conftest import make_images

    if not folder.exists() or len(list(folder.iterdir())) != count:
        make_images(folder, count, size=(160, 120))


def make_large(folder: Path, bits: int, side: int = 10_000) -> Path:
    """One greyscale PNG of side x side pixels (the default --max-pixels), 8 or 16 bits per sample."""
    import numpy as np
    from PIL import Image

    path = folder / f"large_{bits}bit.png"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        ramp = np.linspace(0, 255 if bits == 8 else 65535, side).astype(np.uint8 if bits == 8 else np.uint16)
        Image.fromarray(np.broadcast_to(ramp, (side, side)).copy()).save(path, compress_level=1)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "detect" / "val"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--signals", help="comma-separated signals (default: the scan's defaults)")
    parser.add_argument("--scale", help="comma-separated counts of synthetic 160x120 JPEGs, e.g. 2000,20000")
    parser.add_argument("--large", action="store_true",
                        help="instead: one 10000x10000 greyscale PNG at 8 and at 16 bits, one worker each")
    args = parser.parse_args()
    extra = ["--workers", str(args.workers)] if args.workers else []
    if args.signals:
        extra += ["--signals", args.signals]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        targets = {"shared_val": args.data}
        if args.large:  # the decode's peak for one image at the default --max-pixels, not throughput
            targets = {f"large_{bits}bit": str(make_large(Path(tmp), bits)) for bits in (8, 16)}
            extra += ["--workers", "1"]
        if args.scale:
            for count in (int(c) for c in args.scale.split(",")):
                folder = Path(tmp) / f"synthetic_{count}"
                make_folder(folder, count)
                targets[f"synthetic_{count}"] = str(folder)
        for name, inputs in targets.items():
            runs = [run_scan(inputs, Path(tmp) / f"out_{name}_{i}", extra) for i in range(args.runs)]
            results[name] = median_of(runs)
            print(json.dumps({name: results[name]}), flush=True)
    if args.scale and len(results) > 2:
        counts = [k for k in results if k.startswith("synthetic_")]
        low, high = results[counts[0]], results[counts[-1]]
        print(json.dumps({"rss_ratio": round(high["peak_rss_mb"] / low["peak_rss_mb"], 3),
                          "input_ratio": high["inputs"] / low["inputs"]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
