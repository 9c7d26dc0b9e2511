"""``genscope train-detector --data DIR_OR_MANIFEST --out MODEL_DIR`` (needs the ``train`` extra)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    from genscope.train.train_detector import add_arguments

    p = subparsers.add_parser("train-detector", help="train the real-vs-generated detector (torch extra)")
    add_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from genscope.cli import UsageError
    from genscope.train.train_detector import run as train_run

    try:
        return train_run(args)
    except (ValueError, FileNotFoundError) as exc:  # data that cannot train a head, a missing manifest or file
        raise UsageError(str(exc)) from None
