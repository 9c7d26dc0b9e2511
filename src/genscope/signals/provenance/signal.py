"""``provenance``: the scan signal that reads C2PA, generation metadata, watermarks and camera EXIF.

One signal rather than one per group: the verdict needs every group, and the protocol gives a
signal no access to another's output, so separate signals would read each file twice. Columns
therefore nest under the one prefix: ``provenance.ai``, ``provenance.reasons``,
``provenance.c2pa.validation_state``, ``provenance.metadata.tool``, ``provenance.watermark.detected``,
``provenance.camera.make`` ... (the same shape as the ``provenance()`` JSON, flattened with dots).
"""

from __future__ import annotations

import json
import os
from typing import Any, ClassVar

import c2pa as sdk
import pyarrow as pa

from genscope.signals.base import Sample, SignalError
from genscope.signals.provenance.c2pa import build_context, load_trust_anchors
from genscope.signals.provenance.fields import ARROW, GROUP_FIELDS, INT, JSON, TOP_FIELDS
from genscope.signals.provenance.limits import Limits
from genscope.signals.provenance.reader import Options, read_provenance

INT64 = (-(1 << 63), (1 << 63) - 1)


def _schema() -> pa.Schema:
    fields = [pa.field(name, ARROW[kind]) for name, kind in TOP_FIELDS]
    for group, spec in GROUP_FIELDS.items():
        fields += [pa.field(f"{group}.{name}", ARROW[kind]) for name, kind in spec]
    return pa.schema(fields)


def _cell(kind: str, value: Any) -> Any:
    if kind == JSON:
        return json.dumps(value, ensure_ascii=False) if value not in (None, [], {}) else None
    if kind == INT and isinstance(value, int) and not INT64[0] <= value <= INT64[1]:
        return None  # a 64-bit unsigned seed; the exact value stays in metadata.raw
    return value


def flatten(record: dict[str, Any]) -> dict[str, Any]:
    """The nested provenance record as one flat row of the signal's schema."""
    row = {name: record.get(name) for name, _ in TOP_FIELDS}
    for group, spec in GROUP_FIELDS.items():
        values = record.get(group) or {}
        row.update({f"{group}.{name}": _cell(kind, values.get(name)) for name, kind in spec})
    return row


class ProvenanceSignal:
    """Options: ``trust_anchors`` (PEM path or text), ``watermark`` (auto/always), ``seconds`` per file."""

    name: ClassVar[str] = "provenance"
    version: ClassVar[str] = "1"
    schema: ClassVar[pa.Schema] = _schema()
    needs_image: ClassVar[bool] = False  # reads bytes; truncated files still have metadata
    report_columns: ClassVar[tuple[str, ...]] = ("ai", "metadata.tool", "c2pa.validation_state",
                                                 "watermark.detected", "camera.make")

    def __init__(self, trust_anchors: str | os.PathLike[str] | None = None, watermark: str = "auto",
                 seconds: float = Limits.seconds) -> None:
        self._pem = load_trust_anchors(trust_anchors)
        self._options = Options(limits=Limits(seconds=seconds), watermark=watermark)
        self._context: sdk.Context | None = None  # native handle: built in the worker on first use

    def compute(self, batch: list[Sample]) -> list[dict[str, Any] | SignalError]:
        if self._context is None:
            self._context = build_context(self._pem)
        out: list[dict[str, Any] | SignalError] = []
        for sample in batch:
            try:
                out.append(flatten(read_provenance(sample.data, self._context, self._options)))
            except Exception as exc:  # a reader bug must cost one row, not the scan
                out.append(SignalError("provenance.internal", f"{type(exc).__name__}: {exc}"))
        return out
