"""``clip`` and ``dinov2`` descriptors from a local Hugging Face checkpoint folder, run on ONNX Runtime.

The first load exports the image encoder to ONNX (``hf_export``, needs torch and transformers) into the cache,
``$GENSCOPE_CACHE/descriptors`` (default ``~/.cache/genscope/descriptors``), keyed by a digest of the
checkpoint's files; later loads use the cached file and need neither. These are general-purpose image
embeddings, not copy-detection models: similarities are on their own scale (see docs/replication.md).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from genscope.models.descriptor.hf_config import Checkpoint, cache_dir, open_checkpoint
from genscope.models.descriptor.lite0 import l2
from genscope.models.descriptor.pixels import pixels


def exported(checkpoint: Checkpoint) -> Path:
    """The cached ONNX file of ``checkpoint``, exported first if missing. Written to a temporary file and
    renamed, under a lock, so concurrent loads (one per scan worker) export once and never read half a file."""
    target = cache_dir() / f"{checkpoint.backend}-{checkpoint.digest}.onnx"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target.with_suffix(".lock")):
        if not target.is_file():
            from genscope.models.descriptor import hf_export

            fd, temp = tempfile.mkstemp(prefix=target.stem, suffix=".tmp", dir=target.parent)
            os.close(fd)
            try:
                hf_export.export(checkpoint, Path(temp))
                os.chmod(temp, 0o644)  # mkstemp makes it private; the cache is an ordinary file
                os.replace(temp, target)
            finally:
                Path(temp).unlink(missing_ok=True)
    return target


@contextlib.contextmanager
def _locked(path: Path):
    try:
        import fcntl
    except ImportError:  # no flock (Windows): concurrent exports are wasted work, not corruption
        yield
        return
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def prepare(backend: str, path: str | os.PathLike | None) -> Path:
    """Check the folder and make sure its export is cached (call it once before starting workers)."""
    return exported(open_checkpoint(backend, path))


class HFDescriptor:
    """``embed`` → ``(n, dim)`` float32, L2-normalised; ``version`` = backend, checkpoint digest, input size."""

    def __init__(self, backend: str, path: str | os.PathLike | None, threads: int | None = None,
                 batch: int = 16) -> None:
        from genscope.models.detector.features import make_session

        self.checkpoint = open_checkpoint(backend, path)
        self.onnx_path = exported(self.checkpoint)
        self.session = make_session(self.onnx_path, threads)
        self.name, self.version, self.batch = backend, self.checkpoint.version, batch
        dim = self.session.get_outputs()[0].shape[-1]
        self.dim = dim if isinstance(dim, int) else int(self.embed([Image.new("RGB", (8, 8))]).shape[1])

    def pixels(self, images: list[Image.Image]) -> np.ndarray:
        """The network's input: ``(n, h, w, 3)`` uint8, resized and centre-cropped as the checkpoint says."""
        pre = self.checkpoint.preprocessing
        return pixels(images, pre.resize, pre.crop, pre.resample)

    def embed(self, images: list[Image.Image]) -> np.ndarray:
        out = [self.session.run(None, {"image": self.pixels(images[i:i + self.batch])})[0]
               for i in range(0, len(images), self.batch)]
        return l2(np.concatenate(out)).astype(np.float32) if out else np.zeros((0, self.dim), np.float32)
