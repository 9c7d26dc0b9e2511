"""One report section per signal: a generic summary of each column, or a signal's own renderer.

A signal that wants a richer section adds ``"name": "module:function"`` to ``CUSTOM_SECTIONS``;
the function takes the records table and returns a ``Section``.
"""

from __future__ import annotations

import importlib
import math
from collections import Counter
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
from markupsafe import Markup

from genscope.report import svg

CUSTOM_SECTIONS: dict[str, str] = {
    "provenance": "genscope.report.provenance_section:provenance_section",
    "detector": "genscope.report.detector_section:detector_section",
    "faces": "genscope.report.bias_section:faces_section",
}


@dataclass
class Block:
    label: str
    plot: Markup = field(default_factory=Markup)
    note: str = ""


@dataclass
class Section:
    name: str
    title: str
    version: str = ""
    intro: str = ""
    blocks: list[Block] = field(default_factory=list)
    html: Markup = field(default_factory=Markup)  # free-form part for custom sections (must be built escaped)


def signal_names(table: pa.Table) -> list[str]:
    return [name[: -len(".version")] for name in table.column_names if name.endswith(".version")]


def report_columns(name: str) -> tuple[str, ...] | None:
    """The fields a signal asks to show in the image table (its ``report_columns``), if any."""
    from genscope.signals import REGISTRY, UnknownSignal, signal_class

    if name not in REGISTRY:
        return None
    try:
        return getattr(signal_class(name), "report_columns", None)
    except UnknownSignal:
        return None


def signal_sections(table: pa.Table) -> list[Section]:
    sections = []
    for name in signal_names(table):
        target = CUSTOM_SECTIONS.get(name)
        if target:
            module, function = target.split(":")
            sections.append(getattr(importlib.import_module(module), function)(table))
        else:
            sections.append(generic_section(table, name))
    return sections


def generic_section(table: pa.Table, name: str) -> Section:
    versions = sorted({v for v in table.column(f"{name}.version").to_pylist() if v is not None})
    computed = table.num_rows - table.column(f"{name}.version").null_count
    section = Section(name=name, title=f"Signal: {name}", version=", ".join(versions),
                      intro=f"computed for {computed} of {table.num_rows} inputs")
    empty = []
    for field_ in table.schema:
        if not field_.name.startswith(name + ".") or field_.name.endswith((".version", ".error")):
            continue
        column = table.column(field_.name)
        if column.null_count == len(column):
            empty.append(field_.name)
            continue
        block = column_block(field_.name, column)
        if block is not None:
            section.blocks.append(block)
    if empty:
        section.intro += f"; no values in {', '.join(empty)}"
    errors = [e.split(":", 1)[0] for e in table.column(f"{name}.error").to_pylist() if e]
    if errors:
        section.blocks.append(Block("errors", svg.bars(Counter(errors).most_common(10)),
                                    f"{len(errors)} inputs where this signal failed"))
    return section


def column_block(label: str, column: pa.ChunkedArray) -> Block | None:
    kind = column.type
    valid = column.drop_null()
    missing = f"{column.null_count} empty" if column.null_count else ""
    if pa.types.is_boolean(kind):
        true = int(pc.sum(pc.cast(valid, pa.int64())).as_py() or 0)
        return Block(label, svg.bars([("yes", true), ("no", len(valid) - true)]), missing)
    if pa.types.is_uint64(kind):  # hashes: what matters is how many collide
        counts = Counter(valid.to_pylist())
        shared = sum(c for c in counts.values() if c > 1)
        return Block(label, note=f"{len(counts)} distinct of {len(valid)}; {shared} inputs share an "
                                 "identical value with another")
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        values = [float(v) for v in valid.to_pylist() if math.isfinite(v)]
        if not values:
            return Block(label, note="no finite values")
        ordered = sorted(values)
        if ordered[0] == ordered[-1]:  # a histogram of a constant is one bar: say it instead
            return Block(label, note=f"all {len(values)} values are {ordered[0]:.4g}" + (f" · {missing}" if missing
                                                                                           else ""))
        note = (f"min {ordered[0]:.4g} · median {ordered[len(ordered) // 2]:.4g} · max {ordered[-1]:.4g}"
                + (f" · {missing}" if missing else ""))
        return Block(label, svg.histogram(values), note)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        counts = Counter(valid.to_pylist())
        note = f"{len(counts)} distinct" + (f" · {missing}" if missing else "")
        return Block(label, svg.bars([(k[:80], c) for k, c in counts.most_common(10)]), note)
    return None
