"""Render ``report.html`` from records + summary. Everything from an image is escaped by Jinja."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import pyarrow as pa
import pyarrow.compute as pc
from markupsafe import Markup

from genscope.report import DEFAULT_HEATMAPS, evidence, svg
from genscope.report.answer import answer
from genscope.report.audit_section import audit_section
from genscope.report.columns import DETECTOR_VERSION, PHASH, PROOF, SCORE, VERDICT
from genscope.report.gallery import galleries
from genscope.report.heatmap import GRADIENT_CSS
from genscope.report.sections import report_columns, signal_names, signal_sections
from genscope.report.thumbs import record_item, thumbnails
from genscope.storage import write_text_atomic

CORE_TABLE_COLUMNS = ("format", "width", "height", "mode", "bytes")
FIRST_COLUMNS = (VERDICT, SCORE, PROOF)  # shown as verdict, score, proof


@dataclass
class Cell:
    text: str
    sort: str | float


def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("genscope.report", "templates"),
        autoescape=True,  # file names and metadata are hostile: escape everything by default
        undefined=jinja2.StrictUndefined,
    )


def write_report(table: pa.Table, summary: dict[str, Any], target: Path, *, rows: int = 500,
                 impact: dict[str, Any] | None = None, heatmaps: int = DEFAULT_HEATMAPS) -> Path:
    return write_text_atomic(target, render_report(table, summary, rows=rows, impact=impact, heatmaps=heatmaps))


def render_report(table: pa.Table, summary: dict[str, Any], *, rows: int = 500,
                  impact: dict[str, Any] | None = None, heatmaps: int = DEFAULT_HEATMAPS) -> str:
    """The report: the answer first (from ``impact``, an audit summary; default: the scan's own), then the
    galleries, the image table, the audit's details and a section per signal. ``heatmaps``: how many of the
    most-likely-generated cards get the detector's heat map."""
    impact = impact if impact is not None else summary.get("dataset_impact")
    shown = _pick_rows(table, rows)
    columns = [c for c in _table_columns(table) if shown.column(c).null_count < shown.num_rows]
    band = evidence.band_of(_first(table, DETECTOR_VERSION))
    records = shown.to_pylist()
    items = [record_item(r) if r["error"] is None else None for r in records]
    wanted = [item for item in items if item is not None]
    uris = iter(thumbnails(wanted))
    thumbs = [next(uris) if item is not None else None for item in items]
    body_rows = [{"path": r["path"], "thumb": thumb, "error": r["error"], "error_message": r["error_message"],
                  "verdict": evidence.verdict(r), "score": _cell(r.get(SCORE), SCORE),
                  "proof": evidence.proof_text(r), "reasons": evidence.reasons(r, band),
                  "cells": [_cell(r.get(c), c) for c in columns]} for r, thumb in zip(records, thumbs, strict=True)]
    formats = sorted(summary.get("formats", {}).items(), key=lambda kv: -kv[1])
    errors = list(summary.get("errors_by_code", {}).items())
    return environment().get_template("report.html.j2").render(
        title="genscope report",
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        summary=summary,
        summary_json=json.dumps(summary, indent=2, ensure_ascii=False),
        answer=answer(impact) if impact else None,
        galleries=galleries(table, heatmaps),
        gradient=GRADIENT_CSS,
        family_min=evidence.FAMILY_MIN,
        formats_plot=svg.bars(formats[:12]),
        errors=errors,
        errors_plot=svg.bars(errors[:12]),
        sections=[*([audit_section(impact)] if impact else []), *signal_sections(table)],
        columns=columns,
        rows=body_rows,
        shown=len(body_rows),
        total=table.num_rows,
    )


def _first(table: pa.Table, column: str) -> Any:
    if column not in table.column_names:
        return None
    return next((v for v in table.column(column).to_pylist() if v is not None), None)


def _pick_rows(table: pa.Table, limit: int) -> pa.Table:
    """Failures first (they need attention), then the rest in path order, at most ``limit``."""
    failed = pc.is_valid(table.column("error"))
    ordered = pa.concat_tables([table.filter(failed).sort_by("path"),
                                table.filter(pc.invert(failed)).sort_by("path")])
    return ordered.slice(0, limit)


def _table_columns(table: pa.Table) -> list[str]:
    """The columns behind the picker: core facts, then per signal its ``report_columns`` (all its scalar fields
    when it names none), less those the table shows first."""
    columns = list(CORE_TABLE_COLUMNS)
    for name in signal_names(table):
        chosen = report_columns(name)
        fields = [f"{name}.{c}" for c in chosen] if chosen is not None else [
            f.name for f in table.schema if f.name.startswith(name + ".") and not f.name.endswith(".version")
            and not pa.types.is_list(f.type) and not pa.types.is_fixed_size_list(f.type)]
        columns += [c for c in fields if c in table.column_names and c not in FIRST_COLUMNS]
        columns.append(f"{name}.error")
    return columns


def _cell(value: Any, column: str) -> Cell:
    if value is None:
        return Cell("", "")
    if isinstance(value, bool):
        return Cell("yes" if value else "no", int(value))
    if column == PHASH:
        return Cell(f"{value:016x}", f"{value:016x}")
    if isinstance(value, int | float):
        text = f"{value:.3g}" if isinstance(value, float) else str(value)
        return Cell(text, value)
    text = str(value)
    return Cell(text if len(text) <= 120 else text[:119] + "…", text[:200])


__all__ = ["Markup", "render_report", "write_report"]
