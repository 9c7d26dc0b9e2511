"""The shipped face detector (BlazeFace full-range, ONNX) and its box decoding; see ``MODEL_CARD.md``."""

from pathlib import Path

from genscope.models.faces.blazeface import Face, FaceDetector

# The shipped detector's recall per tone band and face size (benchmarks/faces_recall.py): shown in every bias report,
# and the correction `genscope bias --recall shipped` applies.
RECALL = Path(__file__).with_name("recall.json")

__all__ = ["RECALL", "Face", "FaceDetector"]
