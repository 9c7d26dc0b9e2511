"""genscope dedup against fastdup, imagededup and cleanvision on one machine, in one run.

    python benchmarks/dedup_peers.py --peer-python /work/peers-venv/bin/python              # held-out val split
    python benchmarks/dedup_peers.py --background ../shared/data/detect --originals-from val   # the issue's set
    python benchmarks/dedup_peers.py --scale 2000 --peer-python ...                          # speed only

Quality: builds the transform benchmark (``dedup_bench.py``: a background folder plus, for N originals drawn
with a seed, one copy per transform), runs each tool at its default settings in a fresh process and scores
pair precision, pair recall and, per transform, how many copies each tool paired with their original.
Speed (``--scale N``): N distinct synthetic small JPEGs; wall time and peak RSS (process tree) per tool, and
genscope's descriptor pass alone (``scan`` with dedup's default descriptor signal) as images/s. Each tool is
stopped after ``--limit`` seconds. Median of ``--runs`` runs; results in ``benchmarks/results/dedup/``.

The peers are never genscope dependencies: they run from ``--peer-python`` (a venv of their own, e.g.
``python -m venv /work/peers-venv && /work/peers-venv/bin/pip install fastdup imagededup cleanvision``);
without it, or when a peer is not installed there, it is skipped with the reason printed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pyarrow.parquet as pq
from dedup_bench import TRANSFORMS, build, group_pairs, score
from scan_throughput import PeakRss

from genscope.api.copies import DEDUP_DESCRIPTOR
from genscope.models.descriptor import backend

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "dedup"
RUNNER = Path(__file__).with_name("dedup_peer_runner.py")
DEDUP_SIGNAL = backend(DEDUP_DESCRIPTOR).signal  # the descriptor pass dedup runs by default
PEERS = ("fastdup", "imagededup-phash", "imagededup-cnn", "cleanvision")
PEER_MODULES = {"fastdup": "fastdup", "imagededup-phash": "imagededup", "imagededup-cnn": "imagededup",
                "cleanvision": "cleanvision"}


def measured(command: list[str], limit: float) -> dict:
    """Run ``command``; wall time, peak RSS of its process tree, and whether it was stopped at ``limit`` s."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    watched = psutil.Process(process.pid)
    with PeakRss(watched, 0.1) as memory:
        try:
            _, err = process.communicate(timeout=limit)
            stopped = False
        except subprocess.TimeoutExpired:
            for child in watched.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    child.kill()
            process.kill()
            _, err = process.communicate()
            stopped = True
    peak = memory.peak
    return {"wall_s": round(time.perf_counter() - started, 2), "peak_rss_mb": round(peak / 2**20),
            "stopped_at_limit": stopped, "returncode": process.returncode, "stderr": (err or "")[-1500:]}


def genscope_groups(out: Path) -> list[list[str]]:
    groups: dict[int, list[str]] = {}
    for row in pq.read_table(out / "groups.parquet", columns=["path", "group_id"]).to_pylist():
        groups.setdefault(row["group_id"], []).append(Path(row["path"]).name)
    return list(groups.values())


def run_tool(tool: str, images: Path, work: Path, args: argparse.Namespace) -> tuple[dict, list[list[str]] | None]:
    """One run of ``tool`` on ``images``: the measurement and its duplicate groups (None when it failed)."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    if tool in ("genscope", "genscope-descriptor"):
        verb = ["dedup"] if tool == "genscope" else ["scan", "--signals", DEDUP_SIGNAL]
        result = measured([sys.executable, "-m", "genscope", *verb, str(images), "--out", str(work / "out"),
                           "--quiet", "--no-report"], args.limit)
        done = result["returncode"] == 0
        if done and tool == "genscope-descriptor":
            timing = json.loads((work / "out" / "summary.json").read_text())["timing"]
            result["descriptor_images_per_s"] = timing["images_per_s"]
            result["descriptor_cpu_ms_per_image"] = timing["cpu_ms_per_image"].get("descriptor")
        return result, (genscope_groups(work / "out") if done and tool == "genscope" else None)
    answer = work / "answer.json"
    result = measured([args.peer_python, str(RUNNER), tool, str(images), str(answer), str(work / "tool")],
                      args.limit)
    reply = json.loads(answer.read_text()) if answer.is_file() else {"error": result["stderr"] or "no answer"}
    if "error" in reply:
        result["error"] = reply["error"]
        return result, None
    return result, reply["groups"]


def available(tool: str, peer_python: str | None) -> str | None:
    """None when ``tool`` can run, else the reason it is skipped."""
    if tool.startswith("genscope"):
        return None
    if not peer_python:
        return "no --peer-python given"
    check = subprocess.run([peer_python, "-c", f"import {PEER_MODULES[tool]}"], capture_output=True, text=True)
    return None if check.returncode == 0 else f"not installed in {peer_python}: {check.stderr.strip()[-200:]}"


def median_run(runs: list[dict]) -> dict:
    wall = statistics.median(r["wall_s"] for r in runs)
    middle = min(runs, key=lambda r: abs(r["wall_s"] - wall))
    return {**middle, "wall_s": wall, "runs": len(runs), "wall_s_all": [r["wall_s"] for r in runs]}


def quality(args: argparse.Namespace) -> dict:
    background = Path(args.background)
    target = Path(args.work) / f"set-{background.name}-{args.originals_from or 'all'}-{args.seed}"
    truth = build(target, background, args.originals, args.seed, args.originals_from)
    rows = {}
    for tool in ["genscope", *args.tools]:
        reason = available(tool, args.peer_python)
        if reason:
            print(f"skip {tool}: {reason}", file=sys.stderr)
            rows[tool] = {"skipped": reason}
            continue
        runs, groups = [], None
        for _ in range(args.runs):
            result, groups = run_tool(tool, target / "images", Path(args.work) / f"run-{tool}", args)
            runs.append(result)
            if groups is None:
                break
        rows[tool] = median_run(runs)
        if groups is not None:
            rows[tool].update(score(group_pairs(groups), truth))
        print(f"{tool}: {json.dumps({k: v for k, v in rows[tool].items() if k != 'stderr'})}", file=sys.stderr)
    return {"set": {"background": str(background), "originals": args.originals, "originals_from": args.originals_from,
                    "seed": args.seed, "images": len(truth), "transforms": list(TRANSFORMS)}, "tools": rows}


def speed(args: argparse.Namespace) -> dict:
    sys.path.insert(0, str(REPO / "tests"))
    from conftest import make_images

    folder = Path(args.work) / f"scale-{args.scale}"
    if not folder.exists() or len(list(folder.iterdir())) != args.scale:
        shutil.rmtree(folder, ignore_errors=True)
        make_images(folder, args.scale, size=(160, 120))
    rows = {}
    for tool in ["genscope-descriptor", "genscope", *args.tools]:
        reason = available(tool, args.peer_python)
        if reason:
            print(f"skip {tool}: {reason}", file=sys.stderr)
            rows[tool] = {"skipped": reason}
            continue
        runs = [run_tool(tool, folder, Path(args.work) / f"run-{tool}", args)[0] for _ in range(args.runs)]
        rows[tool] = median_run(runs)
        rows[tool]["images_per_s"] = round(args.scale / rows[tool]["wall_s"], 1)
        print(f"{tool}: {json.dumps({k: v for k, v in rows[tool].items() if k != 'stderr'})}", file=sys.stderr)
    return {"set": {"synthetic_jpegs": args.scale, "size": [160, 120], "limit_s": args.limit}, "tools": rows}


def table(result: dict) -> str:
    head = "| tool | pair precision | pair recall | " + " / ".join(TRANSFORMS) + " found | wall s | peak RSS MB |"
    lines = [head, "|" + "---|" * 6]
    for tool, r in result["tools"].items():
        if "skipped" in r or "error" in r:
            lines.append(f"| {tool} | {r.get('skipped') or r.get('error')} | | | | |")
            continue
        found = " / ".join(str(r.get("found_per_transform", {}).get(t, "-")) for t in TRANSFORMS)
        lines.append(f"| {tool} | {r.get('precision', '-')} | {r.get('recall', '-')} | {found} | {r['wall_s']} "
                     f"| {r['peak_rss_mb']} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--background", default=str(REPO.parent / "shared" / "data" / "detect" / "val"))
    parser.add_argument("--originals-from", metavar="SUBFOLDER",
                        help="draw the originals only from this subfolder of --background")
    parser.add_argument("--originals", type=int, default=50)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--peer-python", help="python of a venv with fastdup, imagededup, cleanvision")
    parser.add_argument("--tools", default=",".join(PEERS), help="peers to run (comma-separated)")
    parser.add_argument("--scale", type=int, help="speed run on this many synthetic JPEGs instead")
    parser.add_argument("--limit", type=float, default=900, help="stop a tool after this many seconds")
    parser.add_argument("--work", default="/tmp/genscope-dedup-bench")
    parser.add_argument("--name", help="results file name (default: from the set)")
    args = parser.parse_args()
    args.tools = [t for t in args.tools.split(",") if t]
    result = speed(args) if args.scale else quality(args)
    result["runs"] = args.runs
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = args.name or (f"speed-{args.scale}" if args.scale else
                         f"peers-{Path(args.background).name}-{args.originals_from or 'all'}")
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n")
    print(table(result))


if __name__ == "__main__":
    main()
