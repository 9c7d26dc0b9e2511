"""The records columns the report reads, named through the signals' own declarations (``signals.column``): a
renamed field fails here, at import, not as a section silently missing from every report."""

from __future__ import annotations

from genscope.signals import column

SCORE, VERDICT, THRESHOLD, FAMILY, FAMILY_SCORE, DETECTOR_VERSION, DETECTOR_ERROR = (
    column("detector", f) for f in ("ai_score", "verdict", "threshold", "family", "family_score", "version", "error"))
PROOF, PROOF_REASONS, PROVENANCE_VERSION = (column("provenance", f) for f in ("ai", "reasons", "version"))
TOOL, C2PA_GENERATOR, C2PA_STATE, C2PA_SIGNER, WATERMARK, CAMERA_MAKE = (
    column("provenance", f) for f in ("metadata.tool", "c2pa.generator", "c2pa.validation_state", "c2pa.signer",
                                      "watermark.detected", "camera.make"))
PHASH = column("phash", "hash")
FACES = column("faces", "faces")
