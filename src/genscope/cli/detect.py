"""``genscope detect FILE_OR_DIR... [--jsonl]``: score images with the shipped detector."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff", ".heic", ".heif",
                  ".avif"}


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("detect", help="score images as real or generated (shipped detector)")
    p.add_argument("inputs", nargs="+", help="image files or folders (searched recursively)")
    p.add_argument("--jsonl", action="store_true", help="one JSON object per line (default: a table)")
    p.add_argument("--model", default=None, help="model directory (default: the shipped weights)")
    p.add_argument("--preprocess", choices=("crop", "resize"), default="crop",
                   help="native-resolution windows (default) or one global resize")
    p.add_argument("--crops", type=int, default=None, help="windows per image (default: the model's)")
    p.add_argument("--workers", type=int, default=None,
                   help="processes scoring in parallel (default: one per core; 1 = this process only)")
    p.add_argument("--threads", type=int, default=None,
                   help="ONNX Runtime threads per process (default: cores / workers)")
    p.set_defaults(func=run)


def iter_paths(inputs: list[str]) -> Iterator[Path]:
    """Files as given; folders expanded to their image files in sorted order."""
    for raw in inputs:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*")
                              if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            yield path  # a missing file still gets its own error line


def _line(path: Path, res: dict) -> str:
    if res.get("error"):
        return f"{path}\terror\t{res['error']}"
    family = max(res["generator"].items(), key=lambda kv: kv[1], default=("-", 0.0))
    return f"{path}\t{res['ai_score']:.3f}\t{res['verdict']}\t{family[0]} ({family[1]:.2f})"


def run(args: argparse.Namespace) -> int:
    from genscope.models.detector_pool import CHUNK, predict_paths

    paths = list(iter_paths(args.inputs))
    chunks = predict_paths(paths, args.model, args.preprocess, args.crops, args.workers, args.threads)
    for start, results in zip(range(0, len(paths), CHUNK), chunks, strict=True):
        for path, res in zip(paths[start:start + CHUNK], results, strict=True):
            print(json.dumps({"path": str(path), **res}) if args.jsonl else _line(path, res))
        sys.stdout.flush()  # print as we go on large folders
    return 0  # per-file errors are lines of output, not a failed job
