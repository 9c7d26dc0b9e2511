"""Face detector recall per skin-tone band, face size and pose, on folders of one-face portraits pasted into real
scenes without faces.

    python benchmarks/faces_recall.py FFHQ_DIR TPDNE_DIR [--shares 1,0.5,…] [--out RESULTS.json]

The shipped figures (``src/genscope/models/faces/recall.json``, shown in every bias report and applied by
``genscope bias --recall shipped``) are this script's output on the ``ffhq_faces`` and ``gan_tpdne_faces`` sources of
``../shared/data/detect-web/sources.csv``.

Every portrait holds one face, centred (FFHQ-aligned portraits and thispersondoesnotexist faces are). The tone band
of each face is measured on a fixed central box, *independently of the detector*, so a face the detector misses
still counts in its band. Each portrait is also shrunk to a share of a 640 px scene (``--shares``) and pasted at a
seeded random place into one of the photos of ``benchmarks/faces_no_face.csv`` (real photos judged by eye to hold no
face), so small faces are looked for in clutter, at a known box. A face counts as found when a detected box contains
the pasted face's centre; every other box on the scene is an extra (false) box. The face's size is its box side over
the image's shorter side, the measure ``faces.size`` records: the portrait's share times the side of the box the
detector finds on the whole portrait (its median where it finds none), so recall is tallied in the size bands
``genscope bias`` corrects by.

The photos of ``faces_no_face.csv`` are also searched whole: every box on them is a false positive
(``benchmarks/faces_false_positives.py`` lists them).

Pose comes from ``benchmarks/faces_turned.csv`` (portraits judged by eye to be turned three-quarter or in profile;
the rest are frontal). Its rows outside the portrait folders are real photos of profile faces at a located centre
(fractions of the image), looked for at their own size.
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from faces_false_positives import false_boxes, rates
from PIL import Image
from results_io import emit

from genscope.models.faces import FaceDetector
from genscope.models.faces.skintone import CATEGORY_NAMES, skin_tone

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared" / "data"
CANVAS = 640
CENTRAL = (0.35, 0.45, 0.65, 0.75)  # cheeks and nose of an aligned portrait
SIZE_BANDS = (0.0, 0.04, 0.055, 0.08, 0.115, 0.16, 0.25)  # lower edges of face side / image's shorter side


def band(image: Image.Image) -> str:
    w, h = image.size
    crop = np.asarray(image.crop((int(CENTRAL[0] * w), int(CENTRAL[1] * h), int(CENTRAL[2] * w),
                                  int(CENTRAL[3] * h))).convert("RGB"))
    tone = skin_tone(crop)
    return tone.category if tone else "unmeasured"


def scenes(listing: Path) -> list[Image.Image]:
    """The no-face photos, each cut to a centred square and resized to the canvas."""
    out = []
    with listing.open() as f:
        for row in csv.DictReader(f):
            image = Image.open(SHARED / "detect" / row["path"]).convert("RGB")
            side = min(image.size)
            left, top = (image.width - side) // 2, (image.height - side) // 2
            out.append(image.crop((left, top, left + side, top + side)).resize((CANVAS, CANVAS)))
    return out


def placed(image: Image.Image, share: float, scene: Image.Image,
           rng: np.random.Generator) -> tuple[Image.Image, tuple[int, int]]:
    if share >= 1.0:
        return image, (image.width // 2, image.height // 2)
    side = max(8, round(CANVAS * share))
    at = (int(rng.integers(0, CANVAS - side + 1)), int(rng.integers(0, CANVAS - side + 1)))
    canvas = scene.copy()
    canvas.paste(image.resize((side, side), Image.Resampling.LANCZOS), at)
    return canvas, (at[0] + side // 2, at[1] + side // 2)


def found(faces: list, centre: tuple[float, float]) -> bool:
    return any(f.x <= centre[0] <= f.x + f.w and f.y <= centre[1] <= f.y + f.h for f in faces)


def size_band(size: float) -> float:
    return SIZE_BANDS[int(np.searchsorted(SIZE_BANDS, size, side="right")) - 1]


def cell(hits: list[bool]) -> dict:
    return {"faces": len(hits), "found": int(sum(hits)), "recall": round(float(np.mean(hits)), 3)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--shares", default="1.0,0.5,0.3,0.2,0.15,0.1,0.075,0.05")
    parser.add_argument("--no-face", type=Path, default=HERE / "faces_no_face.csv")
    parser.add_argument("--turned", type=Path, default=HERE / "faces_turned.csv")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    shares = [float(s) for s in args.shares.split(",")]
    with args.turned.open() as f:
        turned = list(csv.DictReader(f))
    pose = {row["file"]: row["pose"] for row in turned}
    backgrounds = scenes(args.no_face)
    detector, rng = FaceDetector(), np.random.default_rng(0)
    by_tone: dict[tuple[str, float], list[bool]] = defaultdict(list)
    by_pose: dict[tuple[str, float], list[bool]] = defaultdict(list)
    by_share: dict[tuple[str, float], list[bool]] = defaultdict(list)
    extra, scenes_used = 0, 0  # boxes that are not the pasted face, on the scenes
    started, images = time.perf_counter(), 0
    portraits = [p for folder in args.folders for p in sorted(folder.iterdir())
                 if p.suffix.lower() in (".jpg", ".jpeg", ".png")]
    ratios = {}
    for path in portraits:  # the side of the face's box on the whole portrait, where the detector finds it
        image = Image.open(path).convert("RGB")
        faces = [f for f in detector.detect(image) if found([f], (image.width / 2, image.height / 2))]
        if faces:
            ratios[path] = min(faces[0].w, faces[0].h) / min(image.size)
    median_ratio = float(np.median(list(ratios.values())))
    for k, path in enumerate(portraits):
        image = Image.open(path).convert("RGB")
        tone, kind = band(image), pose.get(f"{path.parent.name}/{path.name}", "frontal")
        for share in shares:
            canvas, centre = placed(image, share, backgrounds[k % len(backgrounds)], rng)
            faces = detector.detect(canvas)
            hit = found(faces, centre)
            scale = 1.0 if share >= 1.0 else max(8, round(CANVAS * share)) / CANVAS
            size = size_band(ratios.get(path, median_ratio) * scale)
            by_tone[tone, size].append(hit)
            by_pose[kind, size].append(hit)
            by_share[kind, share].append(hit)
            if share < 1.0:
                extra += len(faces) - hit
                scenes_used += 1
            images += 1
    seconds = time.perf_counter() - started
    in_scenes = []
    for row in turned:  # profile faces in real photos, at a located centre
        if not row["file"].startswith("detect/"):
            continue
        image = Image.open(SHARED / row["file"]).convert("RGB")
        centre = (float(row["centre_x"]) * image.width, float(row["centre_y"]) * image.height)
        in_scenes.append({"file": row["file"], "note": row["note"], "found": found(detector.detect(image), centre)})

    no_face_images, no_face_boxes = false_boxes(args.no_face)

    def table(hits: dict, names: list[str], keys: list[float]) -> dict:
        return {name: {str(key): cell(hits[name, key]) for key in keys if hits[name, key]}
                for name in names if any(hits[name, key] for key in keys)}

    result = {"folders": [f"{f.name} ({sum(p.parent == f for p in portraits)} portraits)" for f in args.folders],
              "size_bands": list(SIZE_BANDS), "shares": shares, "canvas": CANVAS,
              "face_to_portrait": {"median": round(median_ratio, 3), "portraits_measured": len(ratios)},
              "per_tone": table(by_tone, [*CATEGORY_NAMES, "unmeasured"], list(SIZE_BANDS)),
              "per_pose": table(by_pose, ["frontal", "three_quarter", "profile"], list(SIZE_BANDS)),
              "per_pose_by_share": table(by_share, ["frontal", "three_quarter", "profile"], shares),
              "profiles_in_photos": in_scenes,
              "no_face_photos": {"images": no_face_images, "at_0.5": rates(no_face_images, no_face_boxes)["0.5"]},
              "extra_boxes_on_scenes": {"boxes": extra, "scenes": scenes_used,
                                        "per_scene": round(extra / max(scenes_used, 1), 4)},
              "detections": images, "detections_per_second": round(images / seconds, 1),
              "command": "python benchmarks/faces_recall.py FFHQ_DIR TPDNE_DIR --out src/genscope/models/faces/"
                         "recall.json"}
    emit(result, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
