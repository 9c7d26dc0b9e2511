"""Read descriptor vectors (and grouping metadata) out of a records table."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from genscope.errors import InputError
from genscope.models.descriptor.local import CODE_BYTES, KeypointSet
from genscope.signals import column

VECTOR, REGIONS, TRIM, MODEL, VERSION = (column("descriptor", f) for f in ("vector", "regions", "trim", "model",
                                                                         "version"))
KEYPOINT_XY, KEYPOINT_CODES = column("keypoints", "xy"), column("keypoints", "codes")
KEYPOINT_DIRECT = column("genscope.signals.keypoints:QueryKeypointsSignal", "direct")


class MissingDescriptors(InputError):
    """The records hold no descriptor column: they were scanned without the ``descriptor`` signal."""


@dataclass
class Descriptors:
    """Rows that have a descriptor, in path order; ``missing`` lists rows that have none (failed files)."""

    paths: list[str]
    vectors: np.ndarray  # (n, d) float32, L2-normalised
    rows: pa.Table  # the matching records rows (for metadata, sizes, sha256)
    missing: list[str]
    model: dict[str, Any]

    def windows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every row's window vectors stacked: ``(vectors (m, d), owner row (m,), window number (m,))``,
        window numbers counting from 1 (0 is the whole image). Empty when no row has windows."""
        if REGIONS not in self.rows.column_names:
            return np.zeros((0, self.vectors.shape[1]), np.float32), np.zeros(0, np.int64), np.zeros(0, np.int64)
        column = self.rows.column(REGIONS).combine_chunks()
        counts = np.asarray(column.value_lengths().fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64)
        flat = column.flatten().flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
        owner = np.repeat(np.arange(len(counts)), counts)
        number = np.concatenate([np.arange(1, c + 1) for c in counts]) if counts.sum() else np.zeros(0, np.int64)
        return flat.reshape(len(owner), self.vectors.shape[1]), owner, number

    def keypoints(self) -> KeypointSet | None:
        """The rows' ORB keypoints, or None when the records have no keypoints."""
        return keypoints_of(self.rows)

    def keypoints_direct(self) -> list[int | None]:
        """Per row, how many of its keypoints come from the image itself (the rest: its mirror image);
        None where all do (reference keypoints, records from before the mirror set)."""
        if KEYPOINT_DIRECT not in self.rows.column_names:
            return [None] * self.rows.num_rows
        return self.rows.column(KEYPOINT_DIRECT).to_pylist()

    def trim(self, row: int) -> tuple[float, float, float, float]:
        if TRIM not in self.rows.column_names:
            return (0.0, 0.0, 1.0, 1.0)
        value = self.rows.column(TRIM)[row].as_py()
        return tuple(value) if value else (0.0, 0.0, 1.0, 1.0)


def descriptors(table: pa.Table) -> Descriptors:
    if VECTOR not in table.column_names:
        raise MissingDescriptors("records have no descriptor.vector column; scan with --signals descriptor")
    # one gather of the rows in path order (sorting, then filtering, copied every column twice: keypoints
    # made that ~0.5 GB at 20k images)
    order = pc.sort_indices(table, sort_keys=[("path", "ascending")])
    valid = pc.is_valid(table.column(VECTOR)).take(order)
    have, lack = table.take(order.filter(valid)), table.select(["path"]).take(order.filter(pc.invert(valid)))
    column = have.column(VECTOR).combine_chunks()
    dim = column.type.list_size if pa.types.is_fixed_size_list(column.type) else None
    flat = column.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    vectors = flat.reshape(len(have), dim or (len(flat) // max(len(have), 1)))
    return Descriptors(paths=have.column("path").to_pylist(), vectors=np.ascontiguousarray(vectors), rows=have,
                       missing=lack.column("path").to_pylist(), model=model_info(have))


def keypoints_of(table: pa.Table) -> KeypointSet | None:
    """The ``keypoints`` signal's columns of every row as flat arrays (read from the Arrow buffers, no per-row
    Python objects), or None when ``table`` has none."""
    if KEYPOINT_CODES not in table.column_names:
        return None
    xy = table.column(KEYPOINT_XY).combine_chunks()
    codes = table.column(KEYPOINT_CODES).combine_chunks()
    valid = np.asarray(pc.and_(xy.is_valid(), codes.is_valid()), dtype=bool)
    xy_offsets = np.asarray(xy.offsets, dtype=np.int64)
    points = np.asarray(xy.values, dtype=np.float32)[xy_offsets[0]:xy_offsets[-1]].reshape(-1, 2)
    _, offset_buffer, data = codes.buffers()  # binary: int32 offsets, then the bytes
    code_offsets = np.frombuffer(offset_buffer, np.int32)[codes.offset:codes.offset + len(codes) + 1].astype(np.int64)
    raw = np.frombuffer(data, np.uint8)[code_offsets[0]:code_offsets[-1]] if data is not None else np.zeros(0, np.uint8)
    offsets = (xy_offsets - xy_offsets[0]) // 2
    if not np.array_equal(offsets * CODE_BYTES, code_offsets - code_offsets[0]):
        raise ValueError("keypoints.xy and keypoints.codes disagree on the number of keypoints; rescan")
    return KeypointSet(offsets, points, raw.reshape(-1, CODE_BYTES), valid)


def model_info(table: pa.Table) -> dict[str, Any]:
    """Descriptor model name and signal version; refuses a mix (vectors of two models are not comparable)."""
    info: dict[str, Any] = {}
    for key, name in (("name", MODEL), ("version", VERSION)):
        if name in table.column_names:
            values = set(table.column(name).drop_null().to_pylist())
            if len(values) > 1:
                raise ValueError(f"records mix several descriptor {key}s: {sorted(values)}; rescan")
            info[key] = values.pop() if values else None
    return info


def group_key(meta: str | None, key: str) -> str | None:
    """A grouping value from a record's ``meta`` JSON: a top-level column, a sidecar JSON field, or the caption."""
    if not meta:
        return None
    try:
        data = json.loads(meta)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    nested = data.get("json") if isinstance(data.get("json"), dict) else {}
    for source in (data, nested):
        if key in source and source[key] is not None:
            return str(source[key])
    if key in ("prompt", "caption") and data.get("caption"):
        return str(data["caption"])
    return None
