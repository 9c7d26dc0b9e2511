"""Counts that every scan reports: inputs, failures by code, formats, sizes."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc


def overview(table: pa.Table) -> dict[str, Any]:
    """Counts that add up: ``ok + failed == inputs == rows``."""
    errors = [code for code in table.column("error").to_pylist() if code is not None]
    formats = Counter(fmt or "unknown" for fmt in table.column("format").to_pylist())
    pixels = pc.multiply(pc.cast(table.column("width"), pa.int64()), pc.cast(table.column("height"), pa.int64()))
    signal_errors: dict[str, int] = {}
    for name in table.column_names:
        if name.endswith(".error"):
            count = table.num_rows - table.column(name).null_count
            if count:
                signal_errors[name[: -len(".error")]] = count
    return {
        "inputs": table.num_rows,
        "ok": table.num_rows - len(errors),
        "failed": len(errors),
        "errors_by_code": dict(Counter(errors).most_common()),
        "signal_errors": signal_errors,
        "formats": dict(formats.most_common()),
        "total_bytes": int(pc.sum(table.column("bytes")).as_py() or 0),
        "median_megapixels": _median(pixels, 1e-6),
    }


def _median(values: pa.ChunkedArray, scale: float) -> float | None:
    valid = values.drop_null()
    if len(valid) == 0:
        return None
    return round(float(pc.approximate_median(valid).as_py()) * scale, 3)
