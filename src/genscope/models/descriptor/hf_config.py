"""A local Hugging Face checkpoint folder for the ``clip`` and ``dinov2`` descriptors: checked, its preprocessing
read, its bytes digested. JSON and hashing only: no torch, no transformers.

The folder is what ``save_pretrained`` writes or what ``hf download <repo> --local-dir DIR`` fetches:
``config.json``, the weights (``model.safetensors``, or ``pytorch_model.bin``, or a sharded index of either) and,
optionally, ``preprocessor_config.json``. Without the latter, each family's standard preprocessing applies.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from PIL import Image

from genscope.models.descriptor.sscd import file_digest

# model_type values in config.json each backend accepts (a whole CLIP model, or its vision tower saved alone)
MODEL_TYPES = {"clip": ("clip", "clip_vision_model"), "dinov2": ("dinov2",)}
EXTRA = "pip install 'genscope[backbones]'"
# Part of every digest: bump it when the exported graph changes for the same checkpoint (pooling, normalisation).
EXPORT_FORMAT = "genscope-hf-export-1"
CLIP_MEAN, CLIP_STD = (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
WEIGHTS = ("model.safetensors", "pytorch_model.bin")  # in the order transformers prefers them


@dataclass(frozen=True)
class Preprocessing:
    resize: int | tuple[int, int]  # shorter side, or (width, height) to squash to
    crop: tuple[int, int]  # centre crop (width, height): the network's input size
    resample: Image.Resampling
    mean: tuple[float, ...]
    std: tuple[float, ...]


@dataclass(frozen=True)
class Checkpoint:
    backend: str
    folder: Path
    config: dict[str, Any]
    preprocessing: Preprocessing
    files: tuple[Path, ...]  # everything the digest covers

    @cached_property
    def digest(self) -> str:
        """12 hex digits over the export format and every file's name and bytes."""
        lines = [EXPORT_FORMAT, *(f"{f.name} {_file_digest(f)}" for f in self.files)]
        return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:12]

    @property
    def version(self) -> str:
        width, height = self.preprocessing.crop
        return f"{self.backend}:{self.digest}:{width}x{height}"


def _file_digest(path: Path) -> str:
    stat = path.stat()
    return _digest_of(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=64)
def _digest_of(path: str, size: int, mtime_ns: int) -> str:
    """Hash a file once per process while its size and mtime stay (checks then loads repeat it)."""
    return file_digest(Path(path))


def cache_dir() -> Path:
    """``$GENSCOPE_CACHE/descriptors``, by default ``~/.cache/genscope/descriptors``."""
    root = os.environ.get("GENSCOPE_CACHE")
    return (Path(root) if root else Path.home() / ".cache" / "genscope") / "descriptors"


def open_checkpoint(backend: str, path: str | os.PathLike | None) -> Checkpoint:
    """The checkpoint folder at ``path`` for ``backend`` (``clip`` or ``dinov2``), checked; raises
    ``FileNotFoundError`` (no such folder, no config.json, no weights) or ``ValueError`` (not a folder, another
    kind of model)."""
    if backend not in MODEL_TYPES:
        raise ValueError(f"{backend!r} is not a checkpoint-folder backend ({', '.join(MODEL_TYPES)})")
    if path is None:
        raise ValueError(f"the {backend} descriptor needs the path of a Hugging Face checkpoint folder")
    folder = Path(path).expanduser()
    if not folder.exists():
        raise FileNotFoundError(f"{backend} checkpoint folder {folder} does not exist")
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder: the {backend} descriptor needs a Hugging Face checkpoint "
                         "folder (config.json + model.safetensors), e.g. from save_pretrained or "
                         "hf download")
    config = _json(folder / "config.json", required=True)
    model_type = config.get("model_type")
    if model_type not in MODEL_TYPES[backend]:
        other = next((b for b, types in MODEL_TYPES.items() if model_type in types), None)
        hint = f"; use --descriptor {other}" if other else ""
        raise ValueError(f"{folder} holds a {model_type!r} model, not {backend} "
                         f"(config.json model_type must be one of {', '.join(MODEL_TYPES[backend])}){hint}")
    processor = folder / "preprocessor_config.json"
    files = [folder / "config.json", *([processor] if processor.is_file() else []), *_weights(folder)]
    return Checkpoint(backend, folder, config, _preprocessing(backend, config, _json(processor)), tuple(files))


def _json(path: Path, required: bool = False) -> dict[str, Any]:
    if not path.is_file():
        if required:
            raise FileNotFoundError(f"{path} not found: not a Hugging Face checkpoint folder")
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a JSON object")
    return data


def _weights(folder: Path) -> list[Path]:
    """The weight files transformers would load: safetensors first, single file or shards."""
    for name in WEIGHTS:
        if (folder / name).is_file():
            return [folder / name]
        index = folder / f"{name}.index.json"
        if index.is_file():
            shards = sorted(set(_json(index).get("weight_map", {}).values()))
            missing = [s for s in shards if not (folder / s).is_file()]
            if missing or not shards:
                raise FileNotFoundError(f"{index} names shards that are not there: {missing[:3]}")
            return [index, *(folder / s for s in shards)]
    raise FileNotFoundError(f"no PyTorch weights in {folder} (model.safetensors or pytorch_model.bin); "
                            "download them too, e.g. hf download <repo> --local-dir DIR")


def _preprocessing(backend: str, config: dict[str, Any], processor: dict[str, Any]) -> Preprocessing:
    """From ``preprocessor_config.json``, falling back on the family's standard: CLIP squashes nothing, resizes
    the shorter side to the tower's image size and crops it; DINOv2 resizes to 256 and crops 224 (ImageNet)."""
    if backend == "clip":
        vision = config.get("vision_config", config) if config.get("model_type") == "clip" else config
        side = int(vision.get("image_size", 224))
        default_resize, default_crop, mean, std = side, side, CLIP_MEAN, CLIP_STD
    else:
        default_resize, default_crop, mean, std = 256, 224, IMAGENET_MEAN, IMAGENET_STD
    resize: int | tuple[int, int] = default_resize
    if processor.get("do_resize", True) and "size" in processor:
        resize = _size(processor["size"])
    crop = _size(processor.get("crop_size", default_crop)) if processor.get("do_center_crop", True) else None
    if crop is None:  # no crop: the network still needs one fixed input size
        crop = resize if isinstance(resize, tuple) else (resize, resize)
    elif isinstance(crop, int):
        crop = (crop, crop)
    if processor.get("do_normalize", True):
        mean, std = tuple(processor.get("image_mean", mean)), tuple(processor.get("image_std", std))
    else:
        mean, std = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
    if len(mean) != 3 or len(std) != 3:
        raise ValueError(f"image_mean/image_std must have 3 values (RGB), got {mean} / {std}")
    resample = Image.Resampling(int(processor.get("resample", Image.Resampling.BICUBIC)))
    return Preprocessing(resize, crop, resample, tuple(map(float, mean)), tuple(map(float, std)))


def _size(value: Any) -> int | tuple[int, int]:
    """A processor size: an int, ``{"shortest_edge": n}`` or ``{"height": h, "width": w}``."""
    if isinstance(value, int):
        return value
    if isinstance(value, dict):
        if "shortest_edge" in value:
            return int(value["shortest_edge"])
        if "height" in value and "width" in value:
            return int(value["width"]), int(value["height"])
    raise ValueError(f"unsupported size in preprocessor_config.json: {value!r}")
