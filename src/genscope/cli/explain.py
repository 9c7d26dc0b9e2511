"""``genscope explain IMAGE --out heat.png``: Grad-CAM of the shipped detector over the image."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("explain", help="Grad-CAM heat map of the detector's decision")
    p.add_argument("image")
    p.add_argument("--out", required=True, help="PNG to write (heat map over the image)")
    p.add_argument("--model", default=None, help="model directory (default: the shipped weights)")
    p.add_argument("--threads", type=int, default=None)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from genscope.cli import UsageError
    from genscope.models.detector import Detector, open_rgb, overlay

    detector = Detector.load(args.model, threads=args.threads)
    image = open_rgb(args.image)
    res = detector.predict([image])[0]
    if res.get("error"):  # too small or blank: no decision to explain
        raise UsageError(f"{args.image}: {res['error']}")
    overlay(image, detector.explain(image)).save(args.out)
    print(f"{args.image}: ai_score {res['ai_score']:.3f} ({res['verdict']}); wrote {args.out}")
    return 0
