"""The faces signal and `genscope bias` at scale: images/s of `scan` with and without the signal, and peak memory
of both and of `genscope bias` on the resulting records, at one or more collection sizes.

    python benchmarks/faces_scale.py [--sizes 100000] [--workers 2] [--out RESULTS.json]
    python benchmarks/faces_scale.py --sizes 10000,50000      # memory flat across sizes
    python benchmarks/faces_scale.py --sizes 0 --records 100000,1000000   # `genscope bias` alone, synthetic records

The collection is repeated real small photos: the ``ffhq_faces`` and ``gan_tpdne_faces`` portraits and the
``sr_hr_urban_sun_bsd`` street photos of the built web data set, each downscaled once to 256 px (JPEG, quality 90),
then hard-linked N times (same bytes, so every image costs a full decode and detection) into folders of 1,000:
`genscope bias --by folder` then has N/1000 groups. One run per size (a 100k scan takes long on 2 cores).

``--records``: records written directly (no scan) in parts of 10,000 rows as a scan writes them, one image in ten
with a face (a random tone category), in folders of 1,000, to measure `genscope bias` alone at sizes a scan on this
machine does not reach.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image
from results_io import emit
from scan_throughput import PeakRss, run_scan

from genscope.models.faces.skintone import CATEGORY_NAMES
from genscope.records import RECORDS_NAME, records_schema
from genscope.signals.faces import FacesSignal

REPO = Path(__file__).resolve().parents[1]
BUILT = REPO.parent / "data" / "detect-web-built" / "images"
SOURCES = ("ffhq_faces", "gan_tpdne_faces", "sr_hr_urban_sun_bsd")
SIDE, PER_FOLDER = 256, 1000
BASE = "exif,phash,container"


def make_pool(built: Path, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    pool = []
    for source in SOURCES:
        for path in sorted((built / source).iterdir()):
            target = folder / f"{source}_{path.stem}.jpg"
            if not target.exists():
                image = Image.open(path).convert("RGB")
                image.thumbnail((SIDE, SIDE))
                image.save(target, quality=90)
            pool.append(target)
    return pool


def make_collection(pool: list[Path], folder: Path, count: int) -> None:
    for i in range(count):
        sub = folder / f"g{i // PER_FOLDER:04d}"
        if i % PER_FOLDER == 0:
            sub.mkdir(parents=True, exist_ok=True)
        os.link(pool[i % len(pool)], sub / f"{i:07d}.jpg")


def run_bias(records: Path, out: Path) -> dict:
    command = [sys.executable, "-m", "genscope", "bias", str(records), "--by", "folder", "--out", str(out)]
    started = time.perf_counter()
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    with PeakRss(psutil.Process(process.pid), 0.05) as memory:
        _, errors = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"bias failed with exit code {process.returncode}: {errors}")
    summary = json.loads((out / "summary.json").read_text())
    return {"wall_s": round(time.perf_counter() - started, 1), "peak_rss_mb": round(memory.peak / 2**20, 1),
            "faces": summary["faces"], "groups": summary["groups"]}


def write_records(folder: Path, count: int, part_rows: int = 10_000) -> None:
    """Synthetic records with the faces signal's columns: one image in ten holds one face of a random category."""
    schema = records_schema([FacesSignal])
    face_type = schema.field("faces.faces").type.value_type
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    for start in range(0, count, part_rows):
        rows = min(part_rows, count - start)
        ids = np.arange(start, start + rows)
        has = rng.random(rows) < 0.1
        n = int(has.sum())
        faces = pa.StructArray.from_arrays(
            [pa.array(np.zeros(n, np.int32)), pa.array(np.zeros(n, np.int32)), pa.array(np.full(n, 40, np.int32)),
             pa.array(np.full(n, 40, np.int32)), pa.array(np.full(n, 0.9, np.float32)),
             pa.array(np.full(n, 0.2, np.float32)), pa.array(np.zeros(n, np.float32)),
             pa.array(rng.choice(CATEGORY_NAMES, n)), pa.array(np.full(n, 5, np.int8)),
             pa.array(np.full(n, 300, np.int32))], fields=list(face_type))
        offsets = pa.array(np.concatenate([[0], np.cumsum(has)]).astype(np.int32))
        columns = {"path": pa.array([f"g{i // PER_FOLDER:04d}/{i:07d}.jpg" for i in ids]),
                   "faces.faces": pa.ListArray.from_arrays(offsets, faces),
                   "faces.count": pa.array(has.astype(np.int32))}
        table = pa.table({f.name: columns.get(f.name, pa.nulls(rows, f.type)) for f in schema}, schema=schema)
        pq.write_table(table, folder / f"part-{start:09d}.parquet")


def rounded(result: dict) -> dict:
    keep = ("inputs", "wall_s", "images_per_s_internal", "images_per_s_process", "peak_rss_mb", "cpu_ms_per_image")
    return {k: round(result[k], 2) if isinstance(result[k], float) else result[k] for k in keep}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--records", default="", help="sizes of synthetic records to run `genscope bias` alone on")
    parser.add_argument("--built", type=Path, default=BUILT)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    result = {"command": "python " + " ".join(sys.argv), "load_before": os.getloadavg(), "sizes": {}}
    with tempfile.TemporaryDirectory() as tmp:
        sizes = [int(c) for c in args.sizes.split(",") if int(c)]
        pool = make_pool(args.built, Path(tmp) / "pool") if sizes else []
        result["pool_images"] = len(pool)
        for count in (int(c) for c in args.records.split(",") if c):
            records = Path(tmp) / f"records_{count}" / RECORDS_NAME
            write_records(records, count)
            result.setdefault("bias_on_synthetic_records", {})[count] = run_bias(records.parent,
                                                                                 Path(tmp) / f"bias_r{count}")
            print(json.dumps({count: result["bias_on_synthetic_records"][count]}), flush=True)
        for count in sizes:
            images = Path(tmp) / f"images_{count}"
            make_collection(pool, images, count)
            extra = ["--workers", str(args.workers)]
            without = run_scan(str(images), Path(tmp) / f"scan_{count}_base", [*extra, "--signals", BASE])
            scan = Path(tmp) / f"scan_{count}_faces"
            with_faces = run_scan(str(images), scan, [*extra, "--signals", f"{BASE},faces"])
            row = {"scan": rounded(without), "scan_with_faces": rounded(with_faces),
                   "faces_speed_ratio": round(with_faces["images_per_s_internal"] / without["images_per_s_internal"],
                                              3),
                   "bias": run_bias(scan, Path(tmp) / f"bias_{count}"), "load_after": os.getloadavg()}
            result["sizes"][count] = row
            print(json.dumps({count: row}), flush=True)
    counts = sorted(result["sizes"])
    if len(counts) > 1:
        low, high = result["sizes"][counts[0]], result["sizes"][counts[-1]]
        result["rss_ratio"] = {key: round(high[key]["peak_rss_mb"] / low[key]["peak_rss_mb"], 3)
                               for key in ("scan", "scan_with_faces", "bias")}
        result["input_ratio"] = counts[-1] / counts[0]
    emit(result, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
