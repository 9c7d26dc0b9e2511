"""The ``ai`` verdict (yes / no / unknown) and the sentences that justify it.

Conservative by design:
- yes: a C2PA manifest declares trained-algorithmic media or names a generator; generation
  metadata from a known generator; an XMP IPTC DigitalSourceType of trained algorithmic media;
  a Stable Diffusion watermark decoded above the p < 1e-6 threshold.
- no: an intact C2PA capture manifest (camera-signed capture; an expired or untrusted
  certificate does not make it tampered) and no yes-evidence.
- unknown: everything else. Camera EXIF alone stays unknown because anyone can write it; it is
  still listed as a reason.
"""

from __future__ import annotations

from typing import Any

from genscope.signals.provenance.c2pa import AI_SOURCE_TYPES
from genscope.signals.provenance.metadata import GENERATORS
from genscope.signals.provenance.watermark import SCHEMES

TOOL_LABELS = {"a1111": "AUTOMATIC1111", "forge": "Forge", "sdnext": "SD.Next", "civitai": "Civitai",
               "fooocus": "Fooocus", "comfyui": "ComfyUI", "tensorart": "TensorArt", "invokeai": "InvokeAI",
               "novelai": "NovelAI", "swarmui": "SwarmUI", "drawthings": "Draw Things",
               "midjourney": "Midjourney", "dalle": "DALL-E", "firefly": "Adobe Firefly",
               "google": "Google generative AI"}
SETTINGS = (("steps", "Steps"), ("sampler", "Sampler"), ("seed", "Seed"), ("model", "Model"))
SCHEME_LABELS = {"sd1_dwtdct": "Stable Diffusion v1", "sdxl_dwtdct": "Stable Diffusion XL"}


def _settings(meta: dict[str, Any]) -> str:
    parts = [f"{label} {meta[key]}" for key, label in SETTINGS if meta.get(key)]
    samplers = meta.get("samplers") or []
    if len(samplers) > 1:
        parts.insert(0, f"{len(samplers)} samplers")
    return ", ".join(parts)


def _c2pa_reasons(c2pa: dict[str, Any]) -> tuple[list[str], list[str], list[str]]:
    """(yes, no, neutral) sentences from the c2pa group."""
    if not c2pa.get("present") or c2pa.get("error"):
        return [], [], [f"C2PA manifest unreadable: {c2pa['error_message']}"] if c2pa.get("error") else []
    if c2pa.get("validation_state") is None:
        return [], [], [f"C2PA remote manifest referenced, not fetched: {c2pa.get('remote_manifest_url')}"]
    who = c2pa.get("signer") or "an unnamed signer"
    where = f"{c2pa.get('claim_generator') or 'unknown claim generator'}, signed by {who}"
    state = f"validation {c2pa.get('validation_state')}"
    ai_types = sorted(set(c2pa.get("digital_source_types") or []) & AI_SOURCE_TYPES)
    if ai_types:
        return [f"C2PA digitalSourceType {', '.join(ai_types)} ({where}; {state})"], [], []
    if c2pa.get("generator"):
        return [f"C2PA manifest names a generator: {c2pa['generator']} ({where}; {state})"], [], []
    if c2pa.get("capture") and not c2pa.get("tampered"):
        return [], [f"C2PA capture manifest ({where}; {state}, content intact)"], []
    note = f"C2PA manifest without an AI claim ({where}; {state}): {c2pa.get('trust')}"
    if "algorithmicMedia" in (c2pa.get("digital_source_types") or []):
        note += " Its digitalSourceType algorithmicMedia is non-trained algorithmic media: not counted as AI."
    return [], [], [note]


def _metadata_reasons(meta: dict[str, Any]) -> tuple[list[str], list[str]]:
    tool = meta.get("tool")
    yes, neutral = [], []
    if tool in GENERATORS:
        settings = _settings(meta)
        text = f"{TOOL_LABELS.get(tool, tool)} generation metadata" + (f": {settings}" if settings else "")
        yes.append(text + (f" (from {meta['source']})" if meta.get("source") else ""))
    if meta.get("digital_source_type") in AI_SOURCE_TYPES:
        yes.append(f"XMP IPTC DigitalSourceType {meta['digital_source_type']}"
                   + (f", credit {meta['credit']!r}" if meta.get("credit") else ""))
    if tool == "editor":
        neutral.append(f"Edited or exported with {meta.get('software')}")
    if tool == "screenshot":
        neutral.append("Marked as a screenshot (a user comment, not generation metadata)")
    if meta.get("error"):
        neutral.append(f"Metadata problem: {meta.get('error_message')}")
    return yes, neutral


def _watermark_reasons(mark: dict[str, Any]) -> list[str]:
    if not mark.get("detected"):
        return []
    n_bits = len(SCHEMES[mark["scheme"]])
    correct = round(mark["bit_accuracy"] * n_bits)
    text = f"{SCHEME_LABELS[mark['scheme']]} invisible watermark decoded ({correct}/{n_bits} bits)"
    if mark.get("decoded"):
        text += f": {mark['decoded']!r}"
    return [text]


def _camera_reason(camera: dict[str, Any]) -> list[str]:
    device = " ".join(v for v in (camera.get("make"), camera.get("model")) if v)
    if not device:
        return []
    gps = ", with GPS position" if camera.get("gps") else ""
    return [f"Camera EXIF: {device}{gps} (EXIF is easily forged, so it does not decide)"]


def decide(groups: dict[str, dict[str, Any]]) -> tuple[str, list[str]]:
    """``groups`` maps c2pa / metadata / watermark / camera to their dicts; returns (ai, reasons)."""
    c2pa_yes, c2pa_no, c2pa_neutral = _c2pa_reasons(groups.get("c2pa") or {})
    meta_yes, meta_neutral = _metadata_reasons(groups.get("metadata") or {})
    mark_yes = _watermark_reasons(groups.get("watermark") or {})
    yes = c2pa_yes + meta_yes + mark_yes
    neutral = c2pa_neutral + meta_neutral + _camera_reason(groups.get("camera") or {})
    if yes:
        return "yes", yes + c2pa_no + neutral
    if c2pa_no:
        return "no", c2pa_no + neutral
    return "unknown", neutral
