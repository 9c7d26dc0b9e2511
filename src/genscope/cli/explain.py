"""``genscope explain IMAGE --out heat.png``: where the detector found its evidence, drawn over the image
(occlusion sensitivity for the default CLIP probe, Grad-CAM for the fast model)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("explain", help="heat map of where the detector found its evidence")
    p.add_argument("image")
    p.add_argument("--out", required=True, help="PNG to write (heat map over the image)")
    p.add_argument("--model", default=None, help="clip (default), fast, or a model directory")
    p.add_argument("--threads", type=int, default=None)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from genscope.cli import UsageError
    from genscope.models.detector import Detector, open_rgb
    from genscope.report.heatmap import explained

    if not Path(args.image).is_file():  # before the model loads, and one line like the other commands
        raise UsageError(f"no such file: {args.image}")
    detector = Detector.load(args.model, threads=args.threads)
    try:
        image = open_rgb(args.image)
    except (OSError, ValueError) as exc:  # Pillow's errors for content it cannot decode
        raise UsageError(f"cannot decode {args.image}: {exc}") from None
    res = detector.predict([image])[0]
    if res.get("error"):  # too small or blank: no decision to explain
        raise UsageError(f"{args.image}: {res['error']}")
    method = ("occlusion: red = greying it out lowers the score most" if detector.kind == "clip"
              else "Grad-CAM: red = raises the score most")
    picture = explained(image, detector.explain(image), score=res["ai_score"], verdict=res["verdict"], method=method)
    picture.save(args.out)
    print(f"{args.image}: ai_score {res['ai_score']:.3f} ({res['verdict']}); wrote {args.out}")
    return 0
