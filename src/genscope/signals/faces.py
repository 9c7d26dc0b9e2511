"""``faces.*`` columns: every face the shipped detector finds, with its box, confidence, size and skin tone (ITA°,
ITA category, Monk tone). Opt-in. Nothing about identity, gender, age or race is computed or stored."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
from PIL import Image

from genscope.errors import RunError
from genscope.models.faces import Face, FaceDetector
from genscope.models.faces.blazeface import MIN_SCORE, WEIGHTS
from genscope.models.faces.skintone import skin_tone
from genscope.signals.base import Sample, SignalError

FACE = pa.struct([
    pa.field("x", pa.int32()), pa.field("y", pa.int32()), pa.field("w", pa.int32()), pa.field("h", pa.int32()),
    pa.field("confidence", pa.float32()),
    pa.field("size", pa.float32()),  # the box's side over the image's shorter side
    pa.field("ita", pa.float32()),  # null when too few skin pixels were left to measure
    pa.field("ita_category", pa.string()),
    pa.field("monk", pa.int8()),
    pa.field("skin_pixels", pa.int32()),
])
MIN_SIDE = 16  # below this no face can be told apart; "no face found" would be a false answer
MAX_FACES = 64  # a crowd beyond this is cut (most confident first): records stay bounded per image
# The part of a BlazeFace box that is mostly cheeks, nose and mouth: above it is forehead and hair, at its sides
# background.
SKIN_BOX = (0.2, 0.3, 0.8, 0.85)


class FacesSignal:
    """Options: ``min_score`` (detector confidence, default MediaPipe's 0.5), ``threads`` (ONNX Runtime threads)."""

    name: ClassVar[str] = "faces"
    version: ClassVar[str] = "1"
    schema: ClassVar[pa.Schema] = pa.schema([pa.field("count", pa.int32()), pa.field("faces", pa.list_(FACE))])
    needs_image: ClassVar[bool] = True
    report_columns: ClassVar[tuple[str, ...]] = ("count",)

    @classmethod
    def version_for(cls, options: dict[str, Any]) -> str:
        """Another confidence threshold finds other faces: rows carry it, so changing it rescans, not resumes."""
        score = options.get("min_score", MIN_SCORE)
        return cls.version if float(score) == MIN_SCORE else f"{cls.version}+min_score={score}"

    @classmethod
    def prepare(cls, options: dict[str, Any]) -> None:
        """Fail once, in the driver, with the reason, rather than in every worker."""
        if not WEIGHTS.is_file():
            raise RunError(f"the face detector's weights are missing ({WEIGHTS}): reinstall genscope")
        try:
            import onnxruntime  # noqa: F401
        except ImportError as exc:
            raise RunError(f"the faces signal needs onnxruntime ({exc}): pip install onnxruntime") from None

    def __init__(self, min_score: float = MIN_SCORE, threads: int = 1) -> None:
        self.version = self.version_for({"min_score": min_score})
        self.detector = FaceDetector(threads=threads, min_score=min_score)

    def compute(self, batch: list[Sample]) -> list[dict[str, Any] | SignalError]:
        return [self._one(sample.image) for sample in batch]

    def _one(self, image: Image.Image | None) -> dict[str, Any] | SignalError:
        if image is None:
            return SignalError("faces.no_image", "no decoded image")
        if min(image.size) < MIN_SIDE:
            return SignalError("faces.too_small", f"{image.width}×{image.height} px: under {MIN_SIDE} px a side, "
                                                  "faces cannot be found")
        pixels = np.asarray(image.convert("RGB"))
        faces = [face_row(face, pixels) for face in self.detector.detect(image)[:MAX_FACES]]
        return {"count": len(faces), "faces": faces}


def face_row(face: Face, pixels: np.ndarray) -> dict[str, Any]:
    left, top, right, bottom = SKIN_BOX
    crop = pixels[face.y + int(top * face.h):face.y + int(bottom * face.h),
                  face.x + int(left * face.w):face.x + int(right * face.w)]
    tone = skin_tone(crop)
    return {"x": face.x, "y": face.y, "w": face.w, "h": face.h, "confidence": face.confidence,
            "size": round(min(face.w, face.h) / min(pixels.shape[:2]), 4),
            "ita": tone.ita if tone else None, "ita_category": tone.category if tone else None,
            "monk": tone.monk if tone else None, "skin_pixels": tone.pixels if tone else 0}
