"""Rebuild ``examples/`` from ../shared/data (the committed files were made by this script).

Sources and licences are in NOTICE.md. Generated files keep their original bytes (their traces
and metadata are the point), except the A1111 example: one 512 x 512 Stable Diffusion 1.5 sample cut from
a 2 x 2 grid and saved as PNG with an AUTOMATIC1111 ``parameters`` text chunk, written here, as the web UI
writes it. Only its checkpoint comes from the source; prompt, seed and sampler are illustrative. The Kodak
photos are reduced to small JPEGs; one file is cut short on purpose so the README's first command also
shows an error row.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from PIL import Image, PngImagePlugin

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

COPIES = {
    "generated_kandinsky3.jpg": "detect/val/generated/kandinsky3_readme/k3_photo_16.jpg",  # Apache-2.0
    "generated_comfyui_sdxlturbo.png": "detect/val/generated/comfyui_examples/sdturbo__sdxlturbo_example.png",
}
A1111_SOURCE = "detect/val/generated/sd15_deliberate_artist_grids/Ian-McQue.webp"  # MIT (StableDiffusion-CheatSheet)
A1111_PARAMETERS = ("a colossal rusty airship hovering over a desert town, by Ian McQue\n"
                    "Negative prompt: blurry, lowres\n"
                    "Steps: 25, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1234567890, Size: 512x512, "
                    "Model: deliberate_v2")
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
    with Image.open(SHARED / A1111_SOURCE) as grid:  # the top-left sample of the grid: one SD 1.5 output
        sample = grid.convert("RGB").crop((0, 0, grid.width // 2, grid.height // 2))
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", A1111_PARAMETERS)
    sample.save(EXAMPLES / "generated_a1111_parameters.png", "PNG", pnginfo=info, optimize=True)
    data = (EXAMPLES / "real_kodim23.jpg").read_bytes()
    (EXAMPLES / "broken_truncated.jpg").write_bytes(data[: len(data) // 3])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
