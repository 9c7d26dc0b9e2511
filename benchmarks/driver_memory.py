"""Driver peak RSS against the number of inputs: does the driver's memory grow with the images?

Builds synthetic WebDataset shards of one tiny PNG per member (``--per-shard`` members each), then
measures, in a fresh process per case, the driver's own peak RSS (``ru_maxrss`` of that process, not
of its worker processes):

- ``scan``: ``genscope scan SHARDS --out OUT --signals container --no-report -q --workers 2`` as a user
  runs it (a cheap signal: the per-image work is read, hash and decode of a 4x4 PNG);
- ``plan``: only what the driver holds before any image is processed: with units, the planned units;
  before them (``--src`` pointing at an older checkout), the item list and the path set a scan built.

``--src`` picks the genscope checkout to measure (default: this one), so the same command measures
the code before and after a change:

    python benchmarks/driver_memory.py --counts 10000,100000 --modes scan,plan
    python benchmarks/driver_memory.py --counts 10000,1000000 --modes plan --src ../main/src --label before
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "scale"

PROBE = r"""
import json, resource, runpy, sys, time
mode, target, out = sys.argv[1:4]
def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
started = time.time()
if mode == "scan":
    sys.argv = ["genscope", "scan", target, "--out", out, "--signals", "container", "--no-report", "-q",
                "--workers", "2"]
    try:
        runpy.run_module("genscope", run_name="__main__")
    except SystemExit as exc:
        assert not exc.code, exc.code
    held = None
else:
    import genscope.sources as sources
    if hasattr(sources, "plan_units"):
        plan = sources.plan_units([target])
        held = len(plan.units)
    else:  # before units: scan() listed every item and kept their paths
        items, _ = sources.enumerate_inputs([target])
        current = {item.path for item in items}
        held = len(items)
print(json.dumps({"peak_rss_mb": round(peak_mb(), 1), "held": held, "seconds": round(time.time() - started, 1)}))
"""


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (120, 30, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def build_shards(root: Path, count: int, per_shard: int) -> Path:
    target = root / f"shards-{count}"
    done = target / ".complete"
    if done.exists():
        return target
    target.mkdir(parents=True, exist_ok=True)
    data = png_bytes()
    for shard in range((count + per_shard - 1) // per_shard):
        with tarfile.open(target / f"{shard:06d}.tar", "w") as archive:
            for member in range(shard * per_shard, min(count, (shard + 1) * per_shard)):
                info = tarfile.TarInfo(f"{member:09d}.png")
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    done.write_text("")
    return target


def measure(mode: str, shards: Path, src: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src)}
    with tempfile.TemporaryDirectory(prefix="driver-mem-") as out:
        result = subprocess.run([sys.executable, "-c", PROBE, mode, str(shards), out], env=env,
                                capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="10000,1000000", help="input counts, comma-separated")
    parser.add_argument("--modes", default="plan", help="scan, plan or both (comma-separated)")
    parser.add_argument("--per-shard", type=int, default=1000)
    parser.add_argument("--src", type=Path, default=REPO / "src", help="the genscope source folder to measure")
    parser.add_argument("--label", default="after", help="name of this measurement in the results file")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "genscope-driver-memory")
    args = parser.parse_args()
    results = []
    for count in (int(c) for c in args.counts.split(",")):
        shards = build_shards(args.work, count, args.per_shard)
        for mode in args.modes.split(","):
            row = {"label": args.label, "mode": mode, "inputs": count, "shards": len(list(shards.glob("*.tar"))),
                   "date": time.strftime("%Y-%m-%d"), "load_average": round(os.getloadavg()[0], 1),
                   **measure(mode, shards, args.src.resolve())}
            print(json.dumps(row), flush=True)
            results.append(row)
    RESULTS.mkdir(parents=True, exist_ok=True)
    target = RESULTS / f"driver_memory_{args.label}.json"
    earlier = json.loads(target.read_text()) if target.exists() else []
    keep = [r for r in earlier if (r["mode"], r["inputs"]) not in {(x["mode"], x["inputs"]) for x in results}]
    target.write_text(json.dumps(keep + results, indent=2) + "\n")


if __name__ == "__main__":
    main()
