"""Every face the detector reports on real photos, as one contact sheet to judge false positives by eye.

    python benchmarks/faces_contact_sheet.py --out sheet.png     # ../shared/data/detect, photo sources only

Prints one line per detection (index, file, box side, confidence) and writes the crops, numbered, 10 a row.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from PIL import Image, ImageDraw

from genscope.models.faces import FaceDetector

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "detect"
SOURCES = ("kodak_lossless", "bsd68_color", "usc_sipi_colour", "sr_set5_set14", "coco2017_sample")
CELL = 80


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    detector = FaceDetector()
    with (args.data / "manifest.csv").open() as f:
        rows = [r for r in csv.DictReader(f) if r["source"] in SOURCES]
    crops = []
    for row in rows:
        image = Image.open(args.data / row["path"]).convert("RGB")
        for face in detector.detect(image):
            crop = image.crop((face.x, face.y, face.x + face.w, face.y + face.h)).resize((CELL, CELL))
            print(len(crops), row["path"], face.w, face.confidence)
            crops.append((crop, face.confidence))
    print(f"{len(rows)} images, {len(crops)} detections")
    sheet = Image.new("RGB", (10 * (CELL + 4), max(1, (len(crops) + 9) // 10) * (CELL + 16)), "white")
    draw = ImageDraw.Draw(sheet)
    for k, (crop, confidence) in enumerate(crops):
        x, y = (k % 10) * (CELL + 4), (k // 10) * (CELL + 16)
        sheet.paste(crop, (x, y))
        draw.text((x, y + CELL + 1), f"{k}:{confidence:.2f}", fill="black")
    sheet.save(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
