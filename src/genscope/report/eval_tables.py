"""Table rows for the eval-detector report, drawn from ``metrics.json`` (see ``train.eval_detector``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from genscope.metrics import auc
from genscope.models.detector.conditions import ROBUSTNESS

LABELS = {
    "raw": "raw files",
    "normalised": "normalised",
    "raw_resize_preprocess": "raw files, preprocess=resize",
    "normalised_resize_preprocess": "normalised, preprocess=resize",
    "jpeg_q75": "JPEG q75",
    "jpeg_q50": "JPEG q50",
    "resize_0.5": "0.5× resize",
    "roundtrip_128": "128 px round trip",
}


def condition_label(key: str) -> str:
    """Human name of a ``metrics.json`` condition key; a degradation names what it was applied to."""
    if key in ROBUSTNESS:
        return "raw → " + LABELS[key]
    if key.startswith("normalised_") and key.removeprefix("normalised_") in ROBUSTNESS:
        return "normalised → " + LABELS[key.removeprefix("normalised_")]
    return LABELS.get(key, key)


def comparison_rows(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """Raw vs normalised × crop vs resize, then the shortcut baselines (AUC only) on the same images."""
    conditions = metrics["conditions"]
    rows = [{"label": condition_label(k), "key": k, **conditions[k]}
            for k in ("normalised", "raw", "normalised_resize_preprocess", "raw_resize_preprocess")
            if k in conditions]
    for kind in ("normalised", "raw") if "raw" in metrics["baselines"] else ():  # absent without train rows
        for name in ("format_only", "size_only"):
            rows.append({"label": f"{name.replace('_', '-')} baseline, {kind} files", "key": f"{kind}_{name}",
                         "auc": metrics["baselines"][kind][f"{name}_auc"], "baseline": True})
    return rows


def robustness_rows(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """Each degradation applied to the raw files and to the normalised images, with the AUC lost."""
    conditions, drops = metrics["conditions"], metrics["robustness_drop"]
    rows = []
    for base in ("raw", "normalised"):
        rows.append({"label": condition_label(base), "key": base, "drop": None, **conditions[base]})
        for name in ROBUSTNESS:
            key = name if base == "raw" else f"{base}_{name}"
            if key in conditions:
                rows.append({"label": condition_label(key), "key": key, "drop": drops.get(key), **conditions[key]})
    return rows


def breakdown(images: list[dict[str, Any]], field: str, threshold: float) -> list[dict[str, Any]]:
    """One row per (value of ``field``, class) (a source may hold both classes), generated first: size, mean
    normalised and raw score, share called generated, and the AUC of the group against every image of the
    other class. ``field`` = ``source`` or ``generator`` (real images have no generator: left out)."""
    y = np.array([im["label"] for im in images])
    keys = [(1 - im["label"], im[field] or "unknown") for im in images]
    rows = []
    for flipped, name in sorted(set(keys)):
        label = 1 - flipped
        if field == "generator" and not label:
            continue
        member = np.array([k == (flipped, name) for k in keys])
        keep = member | (y != label)
        row: dict[str, Any] = {"name": name, "kind": "generated" if label else "real", "n": int(member.sum())}
        for cond in ("normalised", "raw"):
            score = np.array([im["scores"][cond] for im in images])
            row[cond] = {"mean": float(score[member].mean()), "flagged": float((score[member] >= threshold).mean()),
                         "auc": auc(y[keep], score[keep])}
        rows.append(row)
    return rows


def loso_rows(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    table = (metrics.get("leave_one_source_out") or {}).get("sources", {})
    return [{"name": src, **row, "generators": sorted(row.get("per_generator", {}).items())}
            for src, row in table.items()]
