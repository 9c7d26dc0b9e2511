"""FAISS indexes of descriptors, saved as files next to the records.

    idx = DescriptorIndex.build(vectors, paths, descriptor={"name": ..., "version": ...})
    sims, rows = idx.search(queries, k=5)          # inner product = cosine for L2-normalised vectors
    idx.save(folder); DescriptorIndex.load(folder)

Exact inner-product search (``IndexFlatIP``) unless the set is large (``AUTO_APPROX`` vectors), where an
IVF index with product quantisation keeps memory at ``PQ_BYTES_PER_DIM × dim`` bytes per vector.
Queries are searched in chunks, so memory stays ``chunk × k``: never a full similarity matrix.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from genscope.index.persist import faiss_module
from genscope.storage import atomic_write

Kind = Literal["auto", "flat", "ivf", "ivfpq"]
AUTO_APPROX = 2_000_000  # below this, exact search of 10k queries takes about a minute on 2 cores
CHUNK = 4096
INDEX_FILE, PATHS_FILE, META_FILE = "index.faiss", "index-paths.parquet", "index.json"
FORMAT = 1


def limit_search_threads(threads: int | None) -> None:
    """Cap the OpenMP threads FAISS searches with (``None``: leave its default, one per core).

    OpenMP threads spin while they wait, so on a machine busy with other work more threads than free
    cores make a search slower, not faster: 2 threads on a loaded 2-core machine made the keypoint
    vote 4x slower than 1."""
    if threads is not None:
        faiss_module().omp_set_num_threads(threads)


def factory_string(kind: Kind, n: int, dim: int) -> str:
    """The FAISS factory string for ``n`` vectors; IVF lists grow like 4·√n (FAISS's rule of thumb)."""
    if kind == "auto":
        kind = "flat" if n < AUTO_APPROX else "ivfpq"
    if kind == "flat":
        return "Flat"
    lists = int(max(1, min(65536, 4 * np.sqrt(max(n, 1)))))
    if kind == "ivf":
        return f"IVF{lists},Flat"
    if kind == "ivfpq":
        m = next(m for m in (dim // 2, dim // 4, 64, 32, 16, 8, 4, 2, 1) if m and dim % m == 0)
        return f"IVF{lists},PQ{m}"
    raise ValueError(f"unknown index kind {kind!r} (auto, flat, ivf, ivfpq)")


@dataclass
class DescriptorIndex:
    index: Any  # a faiss.Index with METRIC_INNER_PRODUCT
    paths: list[str]
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(cls, vectors: np.ndarray, paths: list[str], *, kind: Kind = "auto", nprobe: int = 32,
              descriptor: dict[str, Any] | None = None, train_size: int = 200_000, seed: int = 0) -> DescriptorIndex:
        faiss = faiss_module()
        vectors = _as_matrix(vectors)
        if len(vectors) != len(paths):
            raise ValueError(f"{len(vectors)} vectors for {len(paths)} paths")
        spec = factory_string(kind, len(vectors), vectors.shape[1])
        index = faiss.index_factory(vectors.shape[1], spec, faiss.METRIC_INNER_PRODUCT)
        if not index.is_trained:
            sample = vectors
            if len(vectors) > train_size:
                sample = vectors[np.random.default_rng(seed).choice(len(vectors), train_size, replace=False)]
            index.train(sample)
            faiss.extract_index_ivf(index).nprobe = nprobe
        index.add(vectors)
        meta = {"format": FORMAT, "factory": spec, "dim": int(vectors.shape[1]), "count": len(paths),
                "nprobe": nprobe if spec != "Flat" else None, "descriptor": descriptor or {}}
        return cls(index, list(paths), meta)

    @property
    def dim(self) -> int:
        return int(self.index.d)

    @property
    def exact(self) -> bool:
        return self.meta.get("factory") == "Flat"

    def search(self, queries: np.ndarray, k: int = 5) -> tuple[np.ndarray, np.ndarray]:
        """``(similarity, row)`` arrays of shape ``(n, k)``, best first; row -1 where fewer than k exist."""
        queries = _as_matrix(queries, self.dim)
        k = max(1, min(k, len(self.paths))) if self.paths else 1
        sims, rows = [], []
        for start in range(0, len(queries), CHUNK):
            s, r = self.index.search(queries[start:start + CHUNK], k)
            sims.append(s)
            rows.append(r)
        if not sims:
            return np.zeros((0, k), np.float32), np.zeros((0, k), np.int64)
        return np.concatenate(sims), np.concatenate(rows)

    def vectors(self, rows: list[int]) -> np.ndarray:
        """The stored vectors of index ``rows`` (approximate for PQ indexes), to score extra candidates."""
        if not self.exact and not getattr(self, "_direct_map", False):
            faiss_module().extract_index_ivf(self.index).make_direct_map()
            self._direct_map = True
        if not rows:
            return np.zeros((0, self.dim), np.float32)
        return self.index.reconstruct_batch(np.asarray(rows, np.int64))

    def range_pairs(self, queries: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every (query row, index row, similarity) with similarity ≥ ``threshold``, chunk by chunk."""
        queries = _as_matrix(queries, self.dim)
        qs, rs, ss = [], [], []
        for start in range(0, len(queries), CHUNK):
            lims, dist, rows = self.index.range_search(queries[start:start + CHUNK], float(threshold))
            lims = lims.astype(np.int64)
            qs.append(np.repeat(np.arange(len(lims) - 1), np.diff(lims)) + start)
            rs.append(rows)
            ss.append(dist)
        if not qs:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
        return np.concatenate(qs), np.concatenate(rs).astype(np.int64), np.concatenate(ss)

    def save(self, folder: str | Path) -> Path:
        """Write the three index files into ``folder`` (each via a temp file, then a rename)."""
        faiss = faiss_module()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(folder / INDEX_FILE, lambda tmp: faiss.write_index(self.index, str(tmp)))
        table = pa.table({"path": pa.array(self.paths, pa.string())})
        atomic_write(folder / PATHS_FILE, lambda tmp: pq.write_table(table, tmp))
        atomic_write(folder / META_FILE, lambda tmp: tmp.write_text(json.dumps(self.meta, indent=2) + "\n"))
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> DescriptorIndex:
        faiss = faiss_module()
        folder = Path(folder)
        if not (folder / INDEX_FILE).is_file():
            raise FileNotFoundError(f"no descriptor index in {folder} (expected {INDEX_FILE}; build one with "
                                    "`genscope index`)")
        meta = json.loads((folder / META_FILE).read_text())
        if meta.get("format") != FORMAT:
            raise ValueError(f"{folder}: index format {meta.get('format')}, this genscope reads {FORMAT}")
        index = faiss.read_index(str(folder / INDEX_FILE))
        if meta.get("nprobe"):
            faiss.extract_index_ivf(index).nprobe = int(meta["nprobe"])
        paths = pq.read_table(folder / PATHS_FILE).column("path").to_pylist()
        if len(paths) != index.ntotal:
            raise ValueError(f"{folder}: {index.ntotal} vectors but {len(paths)} paths")
        return cls(index, paths, meta)


def _as_matrix(vectors: np.ndarray, dim: int | None = None) -> np.ndarray:
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or (dim is not None and vectors.shape[1] != dim):
        raise ValueError(f"expected vectors of shape (n, {dim or 'd'}), got {vectors.shape}")
    return vectors
