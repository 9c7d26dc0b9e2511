"""The shipped face detector (BlazeFace full-range, ONNX) and its box decoding; see ``MODEL_CARD.md``."""

from genscope.models.faces.blazeface import Face, FaceDetector

__all__ = ["Face", "FaceDetector"]
