"""Export a checkpoint folder's image encoder to ONNX (torch + transformers: the ``backbones`` extra).

The exported graph takes ``image``: uint8 NHWC ``[batch, h, w, 3]`` (the crop size; the batch is dynamic) and
returns ``embedding``: float32 ``[batch, dim]``, not normalised. Rescaling and mean/std are inside the graph.

- ``clip``: ``CLIPVisionModelWithProjection``'s ``image_embeds`` (the vision tower's pooled output through the
  visual projection), the vector CLIP compares with text.
- ``dinov2``: the CLS token of ``Dinov2Model``'s ``last_hidden_state`` (after the final layer norm; the same
  vector as ``pooler_output``). DINOv2's linear evaluation also concatenates the mean patch token; for
  whole-image retrieval the CLS token alone is the usual choice, and it keeps the dimension at ``hidden_size``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from genscope.models.descriptor.hf_config import EXTRA, Checkpoint

OPSET = 17


def _imports() -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise ImportError(f"exporting a checkpoint folder to ONNX needs torch and transformers ({exc.name} is "
                          f"missing): {EXTRA}. A cached export runs without them.") from None
    return torch, transformers


def encoder(checkpoint: Checkpoint):
    """The torch module that gets exported: uint8 NHWC images → embeddings."""
    torch, _ = _imports()
    model = _load(checkpoint)
    pre = checkpoint.preprocessing
    clip = checkpoint.backend == "clip"

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model
            self.register_buffer("scale", 1 / (255 * torch.tensor(pre.std).view(1, 3, 1, 1)))
            self.register_buffer("shift", torch.tensor(pre.mean).view(1, 3, 1, 1) / torch.tensor(pre.std)
                                 .view(1, 3, 1, 1))

        def forward(self, image):
            x = image.permute(0, 3, 1, 2).float() * self.scale - self.shift
            out = self.model(pixel_values=x)
            return out.image_embeds if clip else out.last_hidden_state[:, 0]

    return Encoder().eval()


def _load(checkpoint: Checkpoint):
    """The image model, every weight it needs read from the folder (never left at random initialisation)."""
    torch, transformers = _imports()
    folder = str(checkpoint.folder)
    # local_files_only: a folder path never reaches the hub; eager attention: plain ops for the exporter
    options: dict[str, Any] = {"local_files_only": True, "dtype": torch.float32, "attn_implementation": "eager",
                               "output_loading_info": True}
    if checkpoint.backend == "dinov2":
        kind = transformers.Dinov2Model
    else:
        kind = transformers.CLIPVisionModelWithProjection
        if checkpoint.config.get("model_type") == "clip":  # a whole CLIP model: its vision tower and projection
            whole = transformers.CLIPConfig.from_pretrained(folder, local_files_only=True)
            options["config"] = whole.vision_config
            options["config"].projection_dim = whole.projection_dim  # kept at the top level, not in vision_config
    logging = transformers.utils.logging
    verbosity, bar = logging.get_verbosity(), logging.is_progress_bar_enabled()
    logging.set_verbosity_error()  # the unused text tower is not worth a page of warnings
    logging.disable_progress_bar()  # nor a bar for a one-off load: both restored below
    try:
        model, info = kind.from_pretrained(folder, **options)
    finally:
        logging.set_verbosity(verbosity)
        if bar:
            logging.enable_progress_bar()
    bad = [*info.get("missing_keys", ()), *(str(k[0] if isinstance(k, tuple) else k)
                                            for k in info.get("mismatched_keys", ()))]
    if bad:
        raise ValueError(f"{folder} lacks weights the {checkpoint.backend} image encoder needs (missing or of "
                         f"another shape): {', '.join(sorted(bad)[:5])}")
    return model.eval()


def export(checkpoint: Checkpoint, target: Path) -> None:
    """Write the ONNX file to ``target`` (the caller renames it into place)."""
    torch, _ = _imports()
    module = encoder(checkpoint)
    width, height = checkpoint.preprocessing.crop
    example = torch.zeros((2, height, width, 3), dtype=torch.uint8)
    with torch.no_grad(), warnings.catch_warnings():
        # the TorchScript exporter's deprecation notice and tracer notes about shape checks fixed at the crop size
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (example,), str(target), dynamo=False, opset_version=OPSET,
                          input_names=["image"], output_names=["embedding"],
                          dynamic_axes={"image": {0: "batch"}, "embedding": {0: "batch"}})
