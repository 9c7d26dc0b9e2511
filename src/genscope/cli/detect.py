"""``genscope detect FILE_OR_DIR... [--jsonl]``: score images with the shipped detector.

The inputs are what ``genscope scan`` takes, and the work runs on the scan engine, local or Ray (per-file
deadline, decode limits, a crashed worker replaced); only a temporary folder of record parts is written.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys

from genscope.cli.options import (
    add_engine_arguments,
    byte_size,
    engine_options,
    library_call,
    no_inputs_note,
    positive_int,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("detect", help="score images as real or generated (shipped detector)")
    p.add_argument("inputs", nargs="+", metavar="PATH",
                   help="image files, folders (searched recursively), path lists, manifests, .tar shards, URIs")
    p.add_argument("--jsonl", action="store_true", help="one JSON object per line (default: a table)")
    p.add_argument("--model", default=None,
                   help="clip (default: CLIP probe, best on unseen generators), clip-detail (also reads the centre "
                        "at twice the magnification: stronger on GAN faces, half the speed), fast, or a model "
                        "directory")
    p.add_argument("--fast", action="store_true", help="the fast model (~4x faster, weaker on recent generators)")
    p.add_argument("--preprocess", choices=("crop", "resize"), default="crop",
                   help="fast model: native-resolution windows (default) or one global resize")
    p.add_argument("--crops", type=positive_int, default=None,
                   help="views (clip) or windows (fast) per image (default: the model's)")
    add_engine_arguments(p, batch_size=False)
    p.add_argument("--threads", type=positive_int, default=1,
                   help="ONNX Runtime threads per worker (default 1: the workers already fill the cores)")
    p.add_argument("--timeout", type=float, default=60.0, metavar="S", help="seconds allowed per file")
    p.add_argument("--max-pixels", type=positive_int, default=100_000_000,
                   help="larger images are error lines (decompression-bomb guard)")
    p.add_argument("--max-bytes", type=byte_size, default="256M", help="larger files are error lines")
    p.set_defaults(func=run)


def _line(res: dict) -> str:
    path = res["path"]
    if res.get("error"):
        return f"{path}\terror\t{res['error']}"
    if res["verdict"] != "generated":  # a family is a guess about how an image was generated: only for those
        return f"{path}\t{res['ai_score']:.3f}\t{res['verdict']}\t-"
    family = max(res["generator"].items(), key=lambda kv: kv[1], default=("-", 0.0))
    return f"{path}\t{res['ai_score']:.3f}\t{res['verdict']}\t{family[0]} ({family[1]:.2f})"


def run(args: argparse.Namespace) -> int:
    from genscope.api.detect import detect_files
    from genscope.cli import UsageError

    results = sys.stdout

    def show(res: dict) -> None:
        print(json.dumps(res) if args.jsonl else _line(res), file=results, flush=True)  # as we go on large folders

    if args.fast and args.model not in (None, "fast"):
        raise UsageError("--fast and --model name two different models; give one")
    # stdout carries results only: anything else printed during the run (Ray prints its raylet's messages, such as
    # a lost node's retried tasks, to stdout) goes to stderr, so a --jsonl consumer reads one object per line.
    with contextlib.redirect_stdout(sys.stderr):
        count = library_call(detect_files, args.inputs, show, model="fast" if args.fast else args.model,
                             preprocess=args.preprocess, n_crops=args.crops, engine=engine_options(args),
                             threads=args.threads, timeout_s=args.timeout, max_pixels=args.max_pixels,
                             max_bytes=args.max_bytes)
    if not count:
        print(no_inputs_note("detect", args.inputs), file=sys.stderr)
    return 0  # per-file errors are lines of output, not a failed job
