"""The ``camera`` group: what the EXIF says about the capturing device (trivially forged, so a hint)."""

from __future__ import annotations

from typing import Any

from genscope.signals.provenance.exif import Exif


def _device_text(exif: Exif, name: str) -> str | None:
    text = exif.text(name)
    # ComfyUI's WebP writer hides its graph in Make/Model as "workflow:{...}" / "prompt:{...}".
    if text is None or text.startswith(("workflow:", "prompt:", "{")):
        return None
    return text


def read_camera(exif: Exif) -> dict[str, Any]:
    lens = exif.text("LensModel")
    lens_make = exif.text("LensMake")
    if lens and lens_make and not lens.startswith(lens_make):
        lens = f"{lens_make} {lens}"
    return {
        "make": _device_text(exif, "Make"),
        "model": _device_text(exif, "Model"),
        "datetime_original": exif.text("DateTimeOriginal"),
        # A GPS IFD alone proves nothing: some cameras write one with no fix.
        "gps": "GPSLatitude" in exif.values and "GPSLongitude" in exif.values,
        "lens": lens,
        "software": exif.text("Software"),
    }
