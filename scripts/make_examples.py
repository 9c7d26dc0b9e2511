"""Rebuild ``examples/`` from ../shared/data (the committed files were made by this script).

Sources and licences are in NOTICE.md. Generated files keep their original bytes (their traces
and metadata are the point); the Kodak photos are reduced to small JPEGs; one file is cut short
on purpose so the README's first command also shows an error row.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from PIL import Image

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

COPIES = {
    "generated_kandinsky3.jpg": "detect/val/generated/kandinsky3_readme/k3_photo_16.jpg",  # Apache-2.0
    "generated_comfyui_sdxlturbo.png": "detect/val/generated/comfyui_examples/sdturbo__sdxlturbo_example.png",
    "generated_a1111_parameters.png": "provenance/metadata/a1111_parameters_chunk.png",  # MIT (sd-parsers)
}
KODAK = {"real_kodim03.jpg": "detect/train/real/kodak_lossless/kodim03.png",  # unrestricted use
         "real_kodim23.jpg": "detect/train/real/kodak_lossless/kodim23.png"}


def main() -> int:
    if not SHARED.is_dir():
        print(f"needs the shared data at {SHARED}", file=sys.stderr)
        return 1
    EXAMPLES.mkdir(exist_ok=True)
    for name, source in COPIES.items():
        shutil.copyfile(SHARED / source, EXAMPLES / name)
    for name, source in KODAK.items():
        with Image.open(SHARED / source) as image:
            image.convert("RGB").resize((image.width // 2, image.height // 2), Image.Resampling.LANCZOS).save(
                EXAMPLES / name, "JPEG", quality=90)
    data = (EXAMPLES / "real_kodim23.jpg").read_bytes()
    (EXAMPLES / "broken_truncated.jpg").write_bytes(data[: len(data) // 3])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
