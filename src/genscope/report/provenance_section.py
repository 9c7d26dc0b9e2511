"""The report's provenance section: verdicts, tools, C2PA states, watermarks, and each image's reasons."""

from __future__ import annotations

from collections import Counter

import jinja2
import pyarrow as pa
import pyarrow.compute as pc
from markupsafe import Markup

from genscope.report import svg
from genscope.report.columns import (
    C2PA_SIGNER,
    C2PA_STATE,
    CAMERA_MAKE,
    PROOF,
    PROOF_REASONS,
    PROVENANCE_VERSION,
    TOOL,
    WATERMARK,
)
from genscope.report.sections import Block, Section

MAX_LISTED = 300
_VERDICT_ORDER = {"yes": 0, "no": 1, "unknown": 2}

_LIST = jinja2.Environment(autoescape=True).from_string(
    '<h3>Evidence per image ({{ shown }} of {{ total }} with a reason; proven first)</h3>'
    '<div class="table-wrap" style="max-height:420px"><table><thead><tr><th>path</th><th>ai</th><th>reasons</th>'
    '</tr></thead><tbody>{% for path, ai, reasons in rows %}<tr><td class="path">{{ path }}</td><td>{{ ai }}</td>'
    '<td>{% for r in reasons %}{{ r }}{% if not loop.last %}<br>{% endif %}{% endfor %}</td></tr>{% endfor %}'
    '</tbody></table></div>')


def _counts(table: pa.Table, column: str) -> list[tuple[str, int]]:
    if column not in table.column_names:
        return []
    return Counter(v for v in table.column(column).to_pylist() if v is not None).most_common(12)


def provenance_section(table: pa.Table) -> Section:
    ran = table.num_rows - table.column(PROVENANCE_VERSION).null_count
    section = Section(name="provenance", title="Provenance: evidence that needs no model",
                      version=", ".join(sorted({v for v in table.column(PROVENANCE_VERSION).to_pylist() if v})),
                      intro=f"read for {ran} of {table.num_rows} inputs. ai = yes only on proof (C2PA AI source type, "
                            "known generator metadata, a decoded watermark); camera EXIF alone stays unknown.")
    for label, column in (("ai verdict", PROOF), ("generation tool", TOOL),
                          ("C2PA validation", C2PA_STATE),
                          ("C2PA signer", C2PA_SIGNER), ("camera make", CAMERA_MAKE)):
        counts = _counts(table, column)
        if counts:
            section.blocks.append(Block(label, svg.bars([(str(k), c) for k, c in counts])))
    if WATERMARK in table.column_names:
        detected = int(pc.sum(pc.cast(pc.fill_null(table.column(WATERMARK), False),
                                      pa.int64())).as_py() or 0)
        section.blocks.append(Block("invisible watermark", note=f"{detected} images carry a decoded SD watermark"))
    rows = [(p, a, r) for p, a, r in zip(table.column("path").to_pylist(), table.column(PROOF).to_pylist(),
                                         table.column(PROOF_REASONS).to_pylist(), strict=True) if r]
    rows.sort(key=lambda row: (_VERDICT_ORDER.get(row[1], 3), row[0]))
    section.html = Markup(_LIST.render(rows=rows[:MAX_LISTED], shown=min(len(rows), MAX_LISTED), total=len(rows)))
    return section
