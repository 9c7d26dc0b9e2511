"""Provenance cost per file on one core: the figure quoted for "1 MP JPEG without a manifest < 20 ms".

    python benchmarks/provenance_speed.py [--runs 50]

Builds a 1-megapixel photo-like JPEG (quality 90, 4:2:0 chroma as cameras and phones write,
camera EXIF, no C2PA manifest) and times ``genscope.provenance(bytes)`` on it: C2PA check,
container walk, EXIF, metadata parsing, watermark decodability, the verdict and a 1/8-scale
decode that checks the file is complete. The scan signal skips that last step (the engine
decodes the image itself); its figure is printed too. For context it also times the same pixels
as a 4:4:4 JPEG and as a PNG, where the watermark decoder runs on the full image. Prints the
median of ``--runs`` calls.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import time
from collections.abc import Callable

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core, before NumPy loads
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
from PIL import Image

from genscope.api.provenance import provenance
from genscope.signals.base import Sample
from genscope.signals.provenance.signal import ProvenanceSignal

SIZE = (1152, 868)  # 1.0 megapixels


def photo_like(seed: int = 0) -> Image.Image:
    """Smooth gradients plus sensor-like noise: compresses like a photo, not like a flat test card."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0 : SIZE[1], 0 : SIZE[0]].astype(np.float32)
    base = np.stack([128 + 90 * np.sin(x / 97 + c) * np.cos(y / 61 - c) for c in (0.0, 1.3, 2.6)], axis=-1)
    noisy = base + rng.normal(0, 6, base.shape)
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Canon", "Canon EOS 40D"
    buffer = io.BytesIO()
    image.save(buffer, fmt, exif=exif.tobytes(), **options)
    return buffer.getvalue()


def median_ms(call: Callable[[], object], runs: int) -> float:
    call()  # warm-up: imports, the C2PA context
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    image = photo_like()
    cases = [
        ("1 MP JPEG, q90 4:2:0, no manifest", encode(image, "JPEG", quality=90)),
        ("1 MP JPEG, q90 4:4:4 (watermark decoded)", encode(image, "JPEG", quality=90, subsampling=0)),
        ("1 MP PNG (watermark decoded)", encode(image, "PNG")),
    ]
    print(f"provenance() median of {args.runs} runs, one core, {SIZE[0]}x{SIZE[1]} px")
    for label, data in cases:
        record = provenance(data)
        assert record["c2pa"]["present"] is False and record["error"] is None, record
        ms = median_ms(lambda data=data: provenance(data), args.runs)
        print(f"  {label:<44} {ms:7.2f} ms  ({len(data) / 1024:.0f} KiB)")
    # A scan runs the same readers without the completeness check (the engine decodes the image).
    signal = ProvenanceSignal()
    sample = [Sample("bench.jpg", cases[0][1], None)]
    ms = median_ms(lambda: signal.compute(sample), args.runs)
    print(f"  {'same JPEG through the scan signal':<44} {ms:7.2f} ms")


if __name__ == "__main__":
    main()
