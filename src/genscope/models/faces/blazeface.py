"""BlazeFace full-range (MediaPipe) on ONNX Runtime: letterbox to a square, one 192² pass, anchor decoding and
MediaPipe's weighted non-maximum suppression. Boxes come back in the input image's pixels."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

WEIGHTS = Path(__file__).with_name("weights") / "blazeface_full_range.onnx"
SIDE = 192
# The full-range model has one anchor per cell of a 48×48 grid (stride 4), all of unit size (MediaPipe's
# face_detection_full_range graph: num_layers 1, strides [4], fixed_anchor_size).
_GRID = SIDE // 4
_ANCHORS = np.stack(np.meshgrid((np.arange(_GRID) + 0.5) / _GRID, (np.arange(_GRID) + 0.5) / _GRID),
                    axis=-1).reshape(-1, 2).astype(np.float32)
MIN_SCORE = 0.5  # MediaPipe's default for this model
NMS_IOU = 0.3  # MediaPipe's min_suppression_threshold


@dataclass(frozen=True)
class Face:
    x: int  # left, pixels
    y: int  # top
    w: int
    h: int
    confidence: float


class FaceDetector:
    """``detect(image)`` → faces, most confident first. ``threads``: ONNX Runtime threads (1: the engine already
    runs one worker per core)."""

    def __init__(self, threads: int = 1, min_score: float = MIN_SCORE) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(WEIGHTS), options, providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name
        self.min_score = min_score

    def detect(self, image: Image.Image) -> list[Face]:
        width, height = image.size
        side = max(width, height)
        square = Image.new("RGB", (side, side))  # letterbox: the model expects undistorted faces
        square.paste(image.convert("RGB"), (0, 0))
        pixels = np.asarray(square.resize((SIDE, SIDE), Image.Resampling.BILINEAR), dtype=np.float32)
        regressors, scores = self.session.run(None, {self.input: (pixels / 127.5 - 1.0).transpose(2, 0, 1)[None]})
        # clip as MediaPipe does before the sigmoid, so a saturated logit cannot overflow exp
        score = 1.0 / (1.0 + np.exp(-np.clip(scores[0, :, 0], -100.0, 100.0)))
        keep = score >= self.min_score
        centre = _ANCHORS[keep] + regressors[0, keep, :2] / SIDE
        size = regressors[0, keep, 2:4] / SIDE
        boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1) * side
        faces = []
        for box, conf in weighted_nms(boxes, score[keep]):
            x0, y0 = max(0, round(box[0])), max(0, round(box[1]))
            x1, y1 = min(width, round(box[2])), min(height, round(box[3]))
            if x1 - x0 >= 2 and y1 - y0 >= 2:  # a box that lies (almost) wholly in the letterbox padding is no face
                faces.append(Face(x0, y0, x1 - x0, y1 - y0, round(float(conf), 4)))
        return faces


def weighted_nms(boxes: np.ndarray, scores: np.ndarray) -> list[tuple[np.ndarray, float]]:
    """MediaPipe's WEIGHTED suppression: each cluster of boxes overlapping the best remaining one by more than
    ``NMS_IOU`` becomes their score-weighted mean box, with the best one's score."""
    order = np.argsort(-scores)
    boxes, scores = boxes[order], scores[order]
    out = []
    while len(boxes):
        overlap = iou(boxes[0], boxes) > NMS_IOU
        weights = scores[overlap]
        out.append(((boxes[overlap] * weights[:, None]).sum(0) / weights.sum(), float(scores[0])))
        boxes, scores = boxes[~overlap], scores[~overlap]
    return out


def iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    low = np.maximum(box[:2], boxes[:, :2])
    high = np.minimum(box[2:], boxes[:, 2:])
    inter = np.prod(np.clip(high - low, 0, None), axis=1)
    area = np.prod(box[2:] - box[:2]) + np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    return inter / np.maximum(area - inter, 1e-9)
