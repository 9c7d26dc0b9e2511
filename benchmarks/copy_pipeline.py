"""genscope's own replication pipeline on in-memory images, for the copy benchmarks: the same records columns a
scan writes (descriptor + windows, pHash, keypoints), the same indexes, the same ``analyses.replication``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
from PIL import Image

from genscope.analyses.descriptors import descriptors
from genscope.analyses.replication import replicate
from genscope.index import DescriptorIndex, KeypointIndex, limit_search_threads
from genscope.signals.keypoints import KeypointsSignal, QueryKeypointsSignal
from genscope.signals.phash import phash


def records(names: list[str], images: list[Image.Image], descriptor, query: bool, local: bool) -> pa.Table:
    """A records-like table: ``descriptor.*``, ``phash.hash`` and (``local``) ``keypoints.*`` per image; the
    ``query`` side gets window vectors (when the descriptor has them) and denser keypoints, as in a scan by
    ``genscope replicate``."""
    windows = query and hasattr(descriptor, "regions")
    columns: dict[str, Any] = {"path": names, "meta": [None] * len(names), "descriptor.model": [],
                               "descriptor.vector": [],
                               "phash.hash": pa.array([phash(im) for im in images], pa.uint64())}
    if windows:
        columns |= {"descriptor.regions": [], "descriptor.trim": []}
    for image in images:
        if windows:
            vectors, kept = descriptor.regions(image)
            columns["descriptor.regions"].append(vectors[1:].tolist())
            columns["descriptor.trim"].append(list(kept))
        else:
            vectors = descriptor.embed([image])
        columns["descriptor.vector"].append(vectors[0].tolist())
        columns["descriptor.model"].append(descriptor.version)
    if local:
        signal = QueryKeypointsSignal if query else KeypointsSignal  # each side's signal's own rows
        rows = [signal.row(signal.find(im)) for im in images]
        columns |= {f"keypoints.{name}": [row[name] for row in rows] for name in signal.schema.names}
    table = pa.table(columns)
    dim = len(columns["descriptor.vector"][0])
    return table.set_column(table.column_names.index("descriptor.vector"), "descriptor.vector",
                            table.column("descriptor.vector").cast(pa.list_(pa.float32(), dim)))


class Pipeline:
    """References indexed once; ``scores(queries)`` gives a (queries, references) matrix holding the ``score``
    of each query's top ``k`` matches from ``replicate`` (−inf elsewhere), and each query's rank-1 ``box``."""

    def __init__(self, descriptor, refs: list[Image.Image], local: bool = True, threads: int = 1) -> None:
        limit_search_threads(threads)  # OpenMP threads spin on a busy machine (see its docstring)
        self.descriptor, self.local = descriptor, local
        self.windows = hasattr(descriptor, "regions")
        found = descriptors(records(self.names("r", len(refs)), refs, descriptor, query=False, local=local))
        self.hashes = dict(zip(found.paths, found.rows.column("phash.hash").to_pylist(), strict=True))
        self.index = DescriptorIndex.build(found.vectors, found.paths, descriptor=found.model)
        self.keypoints = KeypointIndex.build(found.keypoints()) if local else None
        self.row = {p: i for i, p in enumerate(found.paths)}

    @staticmethod
    def names(prefix: str, n: int) -> list[str]:
        return [f"{prefix}{i:06d}" for i in range(n)]

    def scores(self, queries: list[Image.Image], k: int = 10) -> tuple[np.ndarray, np.ndarray, list[list[float]]]:
        """Also the cosine matrix (best of the whole query and its windows), from the same vectors."""
        names = self.names("q", len(queries))
        found = descriptors(records(names, queries, self.descriptor, query=True, local=self.local))
        refs = self.index.vectors(list(range(len(self.row))))
        cosine = found.vectors @ refs.T
        vectors, owners, _ = found.windows()
        np.maximum.at(cosine, owners, vectors @ refs.T)
        hashes = self.hashes | dict(zip(found.paths, found.rows.column("phash.hash").to_pylist(), strict=True))
        result = replicate(found, self.index, threshold=0.5, k=k, windows=self.windows, phashes=hashes,
                           keypoints=self.keypoints)
        out = np.full((len(queries), len(self.row)), -np.inf)
        boxes: list[list[float]] = [[0.0, 0.0, 1.0, 1.0] for _ in queries]
        for row in result.matches.to_pylist():
            q = int(row["query"][1:])
            out[q, self.row[row["reference"]]] = row["score"]
            if row["rank"] == 1:
                boxes[q] = row["box"]
        return cosine, out, boxes
