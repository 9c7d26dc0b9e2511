"""One image's evidence in plain words: the verdict, the proof, the detector's score and its band.

Proof (provenance) decides first; the detector's score speaks only where there is none. A generator
family is a guess about how an image was made, so it is named only for images judged generated and only
when the family head is at least ``FAMILY_MIN`` sure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from genscope.models.detector import DEFAULT, MODELS, model_config
from genscope.report.columns import (
    C2PA_GENERATOR,
    DETECTOR_ERROR,
    FAMILY,
    FAMILY_SCORE,
    PROOF,
    PROOF_REASONS,
    SCORE,
    THRESHOLD,
    TOOL,
    VERDICT,
    WATERMARK,
)

# What a row needs for its verdict, proof and reasons
COLUMNS = (PROOF, PROOF_REASONS, TOOL, C2PA_GENERATOR, WATERMARK, SCORE, THRESHOLD, VERDICT, FAMILY, FAMILY_SCORE,
           DETECTOR_ERROR)
FAMILY_MIN = 0.6  # the family head's top-1 is 0.90 right on val (model card); below 0.6 it is mostly a guess
DEFAULT_BAND = (0.3, 0.7)


@dataclass(frozen=True)
class Verdict:
    label: str  # what a person reads
    tone: str  # proof, generated, uncertain-generated, uncertain-real, real, real-proof, none, error
    rank: int  # for sorting by evidence: proof first


def detector_model(version: str | None) -> str | None:
    """The shipped model a ``detector.version`` names (``4`` → the default, ``4+fast`` → ``fast``), else None."""
    if not version:
        return None
    name = version.split("+", 1)[1] if "+" in version else DEFAULT
    return name if name in MODELS else None


def band_of(version: str | None) -> tuple[float, float]:
    """The uncertain band of the model that scored (the default's when it is not a shipped model)."""
    _, config = model_config(detector_model(version) or DEFAULT)
    low, high = config.get("uncertain", DEFAULT_BAND)
    return float(low), float(high)


def verdict(row: dict[str, Any]) -> Verdict:
    proof = row.get(PROOF)
    score = row.get(SCORE)
    threshold = row.get(THRESHOLD) or 0.5
    if row.get("error"):
        return Verdict("could not be read", "error", 6)
    if proof == "yes":
        return Verdict("proven generated", "proof", 0)
    if proof == "no":
        return Verdict("proven real", "real-proof", 5)
    said = row.get(VERDICT)
    if score is None:
        return Verdict("not judged", "none", 6)
    if said == "generated":
        return Verdict("generated (detector)", "generated", 1)
    if said == "uncertain":
        return (Verdict("uncertain, leaning generated", "uncertain-generated", 2) if score >= threshold
                else Verdict("uncertain, leaning real", "uncertain-real", 3))
    return Verdict("real (detector)", "real", 4)


def proof_text(row: dict[str, Any]) -> str:
    """The table's short proof column: what provenance found, or nothing."""
    proof = row.get(PROOF)
    if proof == "yes":
        tool = row.get(TOOL)
        if row.get(C2PA_GENERATOR):
            return "C2PA: generated"
        if row.get(WATERMARK):
            return "watermark"
        return f"metadata: {tool}" if tool else "yes"
    return "C2PA: camera capture" if proof == "no" else ""


def detector_line(row: dict[str, Any], band: tuple[float, float]) -> str | None:
    score = row.get(SCORE)
    if score is None:
        error = row.get(DETECTOR_ERROR)
        return f"Detector: no score ({error.split(':', 1)[0]})" if error else None
    low, high = band
    where = (f"above {high:g}: generated" if score >= high else f"below {low:g}: real" if score < low
             else f"in the uncertain band {low:g}–{high:g}")
    return f"Detector score {score:.3f} ({where})"


def family_line(row: dict[str, Any]) -> str | None:
    family, sure = row.get(FAMILY), row.get(FAMILY_SCORE)
    if row.get(VERDICT) != "generated" or not family or sure is None or sure < FAMILY_MIN:
        return None
    return f"Looks like the {family} family ({sure:.2f}; a hint, not proof)"


def reasons(row: dict[str, Any], band: tuple[float, float]) -> list[str]:
    """Every reason for the verdict, proof first: C2PA, generation metadata, watermark (the provenance signal's
    own sentences), then the detector's score with its band, then the family."""
    lines = list(row.get(PROOF_REASONS) or [])
    lines += [line for line in (detector_line(row, band), family_line(row)) if line]
    return lines
