"""``detector.*`` columns: the shipped real-vs-generated detector as a scan signal."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from genscope.models.detector import DEFAULT, Detector, ensure_model, view_side
from genscope.models.detector.crops import CannotJudge, Preprocess
from genscope.signals.base import Sample, SignalError


class DetectorSignal:
    """Calibrated ``ai_score`` (1 = generated), verdict with an uncertain band, the generator families'
    probabilities given generated (``generator``) and the most likely one (``family``).

    Options: ``model`` (``clip``, the default; ``fast``; or a model directory), ``threads`` (ONNX Runtime threads; 1 by
    default because the engine already runs one worker per core), ``preprocess`` (``crop``/``resize``),
    ``n_crops`` (windows per image, ``None`` = the model's default).
    """

    name: ClassVar[str] = "detector"
    version: ClassVar[str] = "5"  # bump with every retrained model: a scan then rescores, not resumes
    schema: ClassVar[pa.Schema] = pa.schema([
        pa.field("ai_score", pa.float32()),
        pa.field("verdict", pa.string()),
        pa.field("threshold", pa.float32()),
        pa.field("family", pa.string()),
        pa.field("family_score", pa.float32()),
        pa.field("generator", pa.map_(pa.string(), pa.float32())),
    ])
    needs_image: ClassVar[bool] = True
    report_columns: ClassVar[tuple[str, ...]] = ("ai_score", "verdict", "family")

    @classmethod
    def version_for(cls, options: dict[str, Any]) -> str:
        """Rows scored by another model than the default carry its name, so switching models rescores."""
        model = options.get("model")
        return cls.version if model in (None, DEFAULT) else f"{cls.version}+{Path(str(model)).name}"

    @classmethod
    def image_side(cls, options: dict[str, Any]) -> int | None:
        """The CLIP probe sees a 224 px view, so a JPEG may decode at a reduced scale; the fast model reads
        native-resolution pixels and needs the full image."""
        return view_side(options.get("model"))

    @classmethod
    def prepare(cls, options: dict[str, Any]) -> None:
        """Fetch the CLIP tower once (first use) and fail fast on a model that cannot load."""
        ensure_model(options.get("model"))

    def __init__(self, model: str | None = None, threads: int = 1, preprocess: Preprocess = "crop",
                 n_crops: int | None = None) -> None:
        self.version = self.version_for({"model": model})
        self.detector = Detector.load(model, threads=threads)
        self.preprocess = preprocess
        self.n_crops = n_crops

    def compute(self, batch: list[Sample]) -> list[dict[str, Any] | SignalError]:
        no_image = SignalError("detector.no_image", "no decoded image")
        out: list[dict[str, Any] | SignalError] = [no_image] * len(batch)
        ready: list[tuple[int, np.ndarray]] = []
        for i, sample in enumerate(batch):
            if sample.image is None:
                continue
            try:
                ready.append((i, self.detector.windows(sample.image, self.preprocess, self.n_crops)))
            except CannotJudge as exc:
                out[i] = SignalError(f"detector.{exc.code}", str(exc))
            except ValueError as exc:
                out[i] = SignalError("detector.bad_image", str(exc))
        for (i, _), res in zip(ready, self.detector.score_windows([w for _, w in ready]), strict=True):
            if not np.isfinite(res["ai_score"]):
                out[i] = SignalError("detector.degenerate", "the model gave no finite score for this image")
                continue
            fam = max(res["generator"].items(), key=lambda kv: kv[1], default=(None, None))
            out[i] = {"ai_score": res["ai_score"], "verdict": res["verdict"], "threshold": res["threshold"],
                      "family": fam[0], "family_score": fam[1], "generator": res["generator"]}
        return out
