"""The "Dataset impact" report section, drawn from an ``Audit`` summary."""

from __future__ import annotations

from typing import Any

import jinja2
from markupsafe import Markup

from genscope.report import svg
from genscope.report.sections import Section


def precision_recall_plot(precision: float, recall: float, size: int = 200) -> Markup:
    """One point in the unit square (recall across, precision up), as Hataya et al. plot it."""
    pad = 28
    inner = size - 2 * pad
    x, y = pad + recall * inner, pad + (1 - precision) * inner
    return Markup(
        f'<svg class="plot" width="{size}" height="{size}" viewBox="0 0 {size} {size}" role="img">'
        f'<rect x="{pad}" y="{pad}" width="{inner}" height="{inner}" fill="none" stroke="#aaa"/>'
        f'<line x1="{pad}" y1="{pad + inner}" x2="{pad + inner}" y2="{pad}" stroke="#ddd"/>'
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="#e45756"/>'
        f'<text x="{size / 2}" y="{size - 6}" font-size="11" text-anchor="middle">recall</text>'
        f'<text x="10" y="{size / 2}" font-size="11" transform="rotate(-90 10 {size / 2})" '
        f'text-anchor="middle">precision</text></svg>')


def audit_section(summary: dict[str, Any]) -> Section:
    env = jinja2.Environment(loader=jinja2.PackageLoader("genscope.report", "templates"), autoescape=True)
    shortcuts = summary.get("shortcuts") or []
    diversity = summary.get("diversity")
    html = env.get_template("audit_section.html.j2").render(
        audit=summary,
        has_labels=any("labelled_share" in g for g in summary.get("groups", {}).values()),
        shortcut_plot=svg.bars([(s["fact"], s["auc"]) for s in shortcuts[:14]], width=480, value_format="{:.2f}",
                               scale_max=1.0, intervals=[(s["low"], s["high"]) for s in shortcuts[:14]]),
        pr_plot=precision_recall_plot(diversity["precision"], diversity["recall"]) if diversity else Markup(""),
    )
    return Section(name="audit", title="Dataset impact", html=Markup(html))
