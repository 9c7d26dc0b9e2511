"""``report.html`` of ``genscope eval-detector``: curves, tables and the mistake gallery, one file, no JS."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from markupsafe import Markup

from genscope.metrics import pr_curve, reliability_bins, roc_curve
from genscope.models.detector import Detector
from genscope.report import svg
from genscope.report.eval_gallery import Mistake, mistakes
from genscope.report.eval_tables import (
    breakdown,
    comparison_rows,
    condition_label,
    loso_rows,
    robustness_rows,
)
from genscope.report.html import environment
from genscope.storage import write_text_atomic

ROC_MAIN = ("normalised", "raw", "normalised_resize_preprocess", "raw_resize_preprocess")
ROC_ROBUST = ("raw", "jpeg_q75", "jpeg_q50", "resize_0.5", "roundtrip_128")


def num(value: float | None, digits: int = 3) -> str:
    """Jinja filter: a figure, or an en dash when there is none (NaN when one class is missing)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}"


def pct(value: float | None) -> str:
    return "–" if value is None or math.isnan(value) else f"{100 * value:.0f} %"


def charts(metrics: dict[str, Any]) -> dict[str, Markup]:
    images = metrics["images"]
    y = np.array([im["label"] for im in images])

    def scores(key: str) -> np.ndarray:
        return np.array([im["scores"][key] for im in images])

    def legend(key: str) -> str:
        return f"{condition_label(key)} (AUC {num(metrics['conditions'][key]['auc'])})"

    present = [k for k in ROC_MAIN if k in metrics["conditions"]]
    return {
        "roc": svg.curves([(legend(k), *roc_curve(y, scores(k))) for k in present],
                          x_label="false-positive rate", y_label="true-positive rate", guide=(0, 0, 1, 1)),
        "pr": svg.curves([(f"{condition_label(k)} (AP {num(metrics['conditions'][k]['ap'])})",
                           *pr_curve(y, scores(k))) for k in ("normalised", "raw")],
                         x_label="recall", y_label="precision", guide=(0, y.mean(), 1, y.mean())),
        "reliability": svg.curves(
            [(f"{condition_label(k)} (ECE {num(metrics['conditions'][k]['ece'])})",
              *zip(*[(p, o) for p, o, _ in reliability_bins(y, scores(k))], strict=True))
             for k in ("normalised", "raw")],
            x_label="mean predicted probability (bin)", y_label="share generated", points=True, guide=(0, 0, 1, 1)),
        "roc_robust": svg.curves([(legend(k), *roc_curve(y, scores(k))) for k in ROC_ROBUST],
                                 x_label="false-positive rate", y_label="true-positive rate", guide=(0, 0, 1, 1)),
        "auc_bars": svg.bars([(condition_label(k), v["auc"]) for k, v in metrics["conditions"].items()],
                             width=600, value_format="{:.3f}", scale_max=1.0, label_w=250),
    }


def render_eval_report(metrics: dict[str, Any], gallery: dict[str, list[Mistake]]) -> str:
    env = environment()
    env.filters.update(num=num, pct=pct)
    threshold = metrics["threshold"]
    return env.get_template("eval_report.html.j2").render(
        title="genscope detector evaluation",
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        m=metrics,
        norm=metrics["conditions"]["normalised"],
        raw=metrics["conditions"]["raw"],
        charts=charts(metrics),
        comparison=comparison_rows(metrics),
        robustness=robustness_rows(metrics),
        by_source=breakdown(metrics["images"], "source", threshold),
        by_generator=breakdown(metrics["images"], "generator", threshold),
        loso=loso_rows(metrics),
        family=metrics.get("family_normalised", {}),
        gallery=gallery,
    )


def write_eval_report(metrics: dict[str, Any], target: Path, detector: Detector, mistakes_each_way: int = 6) -> Path:
    """Write ``target`` (the report for ``metrics`` from ``evaluate``); Grad-CAM comes from ``detector``."""
    return write_text_atomic(target, render_eval_report(metrics, mistakes(detector, metrics["images"],
                                                                           mistakes_each_way)))
