"""Peak RSS of ``genscope audit`` against the number of records: does the collection half grow with the rows?

Builds a synthetic scan folder (``OUT/records.parquet/`` in parts of ``--part-rows`` rows, the default
signals' columns plus ``container`` and ``exif``, a ``label`` meta key, detector scores and provenance
verdicts drawn from a fixed seed; no images), then runs, in a fresh process per case,

    genscope audit SCAN --out AUDIT --labels label

and records that process's peak RSS (``ru_maxrss``, read with ``os.wait4``) and wall time. ``--src`` picks
the genscope checkout to measure (default: this one), so one command measures before and after a change:

    python benchmarks/audit_memory.py --counts 1000000,5000000 --label after
    python benchmarks/audit_memory.py --counts 1000000 --src ../main/src --label before

The synthetic folders are kept under ``--data`` (built once per count) and reused by later runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from results_io import emit

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "scale"
SIGNALS = ("exif", "container", "provenance", "detector")


def build(folder: Path, rows: int, part_rows: int, seed: int = 0) -> None:
    """A scan folder of ``rows`` synthetic records (one part per ``part_rows``), written part by part."""
    from genscope.records import RECORDS_NAME, records_schema
    from genscope.signals import signal_class

    schema = records_schema([signal_class(name) for name in SIGNALS])
    parts = folder / RECORDS_NAME
    parts.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for start in range(0, rows, part_rows):
        pq.write_table(_part(schema, start, min(part_rows, rows - start), rng), parts / f"part-{start:012d}.parquet")
    # What a scan writes beside its records and the report shows (the audit report needs it).
    summary = {"genscope_version": "synthetic", "inputs_named": ["shards/"], "signals": dict.fromkeys(SIGNALS, "1"),
               "timing": {"images_per_s": None, "workers": 0}}
    (folder / "summary.json").write_text(json.dumps(summary))


def _part(schema: pa.Schema, start: int, n: int, rng: np.random.Generator) -> pa.Table:
    generated = rng.random(n) < 0.3
    failed = rng.random(n) < 0.01
    shard = f"shards/{start // 10_000:06d}.tar"
    score = np.where(generated, rng.beta(5, 2, n), rng.beta(2, 5, n)).astype(np.float32)
    provenance = np.where(rng.random(n) < 0.02, np.where(generated, "yes", "no"), "unknown")
    side = rng.choice([512, 768, 1024, 1536], n).astype(np.int32)
    values = {
        "path": [f"{shard}/{start + i:010d}.jpg" for i in range(n)],
        "shard": [shard] * n,
        "offset": np.arange(n, dtype=np.int64) * 60_000,
        "sha256": [f"{v:064x}" for v in rng.integers(0, 2**63, n)],
        "bytes": rng.integers(10_000, 500_000, n),
        "format": np.where(generated, "png", "jpeg"),
        "width": side, "height": np.where(rng.random(n) < 0.5, side, (side * 3) // 4).astype(np.int32),
        "mode": ["RGB"] * n, "frames": np.ones(n, np.int32),
        "error": pa.array(np.where(failed, "decode.truncated", None)),
        "meta": [json.dumps({"label": "generated" if g else "real"}) for g in generated],
        "elapsed_ms": rng.random(n).astype(np.float32) * 40,
        "exif.present": ~generated, "exif.tags": np.where(generated, 0, rng.integers(5, 60, n)).astype(np.int32),
        "container.icc": rng.random(n) < 0.4, "container.progressive": rng.random(n) < 0.2,
        "container.jpeg_quality": np.where(generated, 0, rng.integers(70, 100, n)).astype(np.int16),
        "container.bits_per_pixel": rng.random(n).astype(np.float32) * 8,
        "provenance.ai": provenance,
        "detector.ai_score": pa.array(np.where(failed, np.nan, score), from_pandas=True),
        "detector.verdict": np.where(score >= 0.5, "generated", "real"),
        "detector.threshold": np.full(n, 0.5, np.float32),
        "detector.version": ["5"] * n,
    }
    columns = [pa.array(values[f.name], type=f.type, from_pandas=True) if f.name in values
               else pa.nulls(n, f.type) for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)


def measure(scan: Path, src: Path, extra: list[str]) -> dict:
    """One ``genscope audit`` in a fresh process: its peak RSS and wall time."""
    with tempfile.TemporaryDirectory(prefix="audit-memory-") as temp:
        env = {**os.environ, "PYTHONPATH": str(src)}
        command = [sys.executable, "-m", "genscope", "audit", str(scan), "--out", temp, "--labels", "label", *extra]
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        stderr = process.stderr.read().decode() if process.stderr else ""
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"audit failed: {stderr[-2000:]}")
        audit = json.loads((Path(temp) / "audit.json").read_text())
    return {"peak_rss_mb": round(usage.ru_maxrss / 1024, 1), "seconds": round(wall, 1),
            "estimate": audit["share"].get("estimate"), "shortcuts": len(audit.get("shortcuts", [])),
            "samples": audit.get("samples")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", default="1000000,5000000", help="records per case, comma-separated")
    parser.add_argument("--part-rows", type=int, default=10_000, help="rows per part (a unit of 10,000)")
    parser.add_argument("--runs", type=int, default=1, help="runs per case (the median is reported)")
    parser.add_argument("--src", type=Path, default=REPO / "src", help="the genscope checkout measured")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "genscope-audit-memory")
    parser.add_argument("--sample", type=int, help="passed on as genscope audit --sample (default: the audit's)")
    parser.add_argument("--label", default="after", help="names the results file: audit_memory_<label>.json")
    args = parser.parse_args()
    results = []
    for rows in (int(c) for c in args.counts.split(",")):
        scan = args.data / f"records-{rows}"
        if not (scan / "records.parquet").is_dir():
            build(scan, rows, args.part_rows)
        extra = ["--sample", str(args.sample)] if args.sample else []
        runs = [measure(scan, args.src.resolve(), extra) for _ in range(args.runs)]
        median = sorted(runs, key=lambda r: r["peak_rss_mb"])[len(runs) // 2]
        results.append({"label": args.label, "rows": rows, "part_rows": args.part_rows, "sample": args.sample,
                        "date": datetime.now(UTC).strftime("%Y-%m-%d"), "load_average": round(os.getloadavg()[0], 1),
                        "runs_peak_rss_mb": [r["peak_rss_mb"] for r in runs], **median})
    RESULTS.mkdir(parents=True, exist_ok=True)
    emit({"command": " ".join(sys.argv), "results": results}, RESULTS / f"audit_memory_{args.label}.json")


if __name__ == "__main__":
    main()
