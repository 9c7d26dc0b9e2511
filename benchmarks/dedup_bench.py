"""The near-duplicate benchmark that ``dedup_peers.py`` and ``dedup_thresholds.py`` share: build it, score pairs.

A benchmark's ``images/`` folder holds every image of a background folder (renamed ``bg_NNNN.ext``) plus, for
``originals`` of them drawn with a seed, one edited copy per transform (``cp_NNNN_<transform>.jpg``).
``truth.json`` (next to ``images/``) maps each file to its group (a copy's group is its original's; background
files whose decoded pixels are identical share a group too), so the true pairs are every pair inside a group.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from collections import defaultdict
from collections.abc import Callable, Iterable
from itertools import combinations
from pathlib import Path

from copy_transforms import border, colour, crop, jpeg, rotate, text
from PIL import Image, ImageOps

TRANSFORMS: dict[str, Callable[[Image.Image, random.Random], Image.Image]] = {
    "jpeg70": lambda im, _: jpeg(im, 70),
    "resize50": lambda im, _: im.resize((max(16, im.width // 2), max(16, im.height // 2)), Image.Resampling.BILINEAR),
    "crop10": lambda im, rng: crop(im, rng, 0.9),
    "crop20": lambda im, rng: crop(im, rng, 0.8),
    "rot5": lambda im, rng: rotate(im, rng, 5, 5),
    "rot10": lambda im, rng: rotate(im, rng, 10, 10),
    "flip": lambda im, _: ImageOps.mirror(im),
    "jitter": colour,
    "text": text,
    "border": border,
}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"}
# two files of the shared data that show the same photograph (Set5's "head" is Set14's "face" re-cropped; cosine
# 0.957, 301 keypoint inliers): a true pair, not a false positive
SAME_PICTURE = {"Set5_head.png": "Set14_face.png"}
MIN_SIDE = 128  # originals smaller than this are thumbnails, not pictures anyone copies
Pair = tuple[str, str]


def images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def build(target: Path, background: Path, originals: int, seed: int,
          originals_from: str | None = None) -> dict[str, str]:
    """Write the benchmark into ``target/images`` (reused when it was built with the same arguments) and return
    the truth map file name → group. ``originals_from``: draw originals only from this subfolder of
    ``background`` (so a set can share its background with another yet keep its originals apart)."""
    recipe = {"background": str(background.resolve()), "originals": originals, "seed": seed,
              "originals_from": originals_from,
              "transforms": list(TRANSFORMS), "same_picture": SAME_PICTURE}
    truth_file = target / "truth.json"
    if truth_file.is_file():
        saved = json.loads(truth_file.read_text())
        if saved["recipe"] == recipe:
            return saved["truth"]
    shutil.rmtree(target, ignore_errors=True)
    folder = target / "images"
    folder.mkdir(parents=True)
    rng = random.Random(seed)
    truth: dict[str, str] = {}
    pictures: dict[str, Image.Image] = {}
    by_pixels: dict[str, str] = {}
    renamed: dict[str, str] = {}
    for i, source in enumerate(images(background)):
        name = renamed[source.name] = f"bg_{i:04d}{source.suffix.lower()}"
        shutil.copyfile(source, folder / name)
        try:
            with Image.open(source) as opened:
                image = opened.convert("RGB")
        except OSError:
            continue  # an unreadable background file stays in the folder as an error row, in no group
        digest = hashlib.sha256(image.tobytes() + repr(image.size).encode()).hexdigest()
        truth[name] = by_pixels.setdefault(digest, name)  # identical pixels: the same picture twice
        if min(image.size) >= MIN_SIDE and (originals_from is None
                                            or source.relative_to(background).parts[0] == originals_from):
            pictures[name] = image
    for one, other in SAME_PICTURE.items():
        if one in renamed and other in renamed and renamed[one] in truth and renamed[other] in truth:
            truth[renamed[one]] = truth[renamed[other]]
    for name in rng.sample(sorted(pictures), originals):
        for transform, edit in TRANSFORMS.items():
            copy = f"cp_{name.split('.')[0][3:]}_{transform}.jpg"
            edit(pictures[name], rng).convert("RGB").save(folder / copy, quality=70 if transform == "jpeg70" else 90)
            truth[copy] = truth[name]
    truth_file.write_text(json.dumps({"recipe": recipe, "truth": truth}, indent=1))
    return truth


def true_pairs(truth: dict[str, str]) -> set[Pair]:
    members: dict[str, list[str]] = defaultdict(list)
    for name, group in truth.items():
        members[group].append(name)
    return {pair for names in members.values() for pair in combinations(sorted(names), 2)}


def group_pairs(groups: Iterable[Iterable[str]]) -> set[Pair]:
    """Every pair inside each group (what a tool that groups, and keeps one per group, asserts)."""
    return {pair for group in groups for pair in combinations(sorted(set(group)), 2)}


def score(found: set[Pair], truth: dict[str, str]) -> dict:
    """Pair precision and recall, and per transform how many copies were paired with their original."""
    real = true_pairs(truth)
    hits = len(found & real)
    per_transform = {t: 0 for t in TRANSFORMS}
    for name in truth:
        if name.startswith("cp_"):
            _, number, transform = name[:-4].split("_", 2)
            original = next(n for n in truth if n.startswith(f"bg_{number}."))
            per_transform[transform] += tuple(sorted((original, name))) in found
    return {"pairs_found": len(found), "true_pairs": len(real), "correct": hits,
            "precision": round(hits / len(found), 4) if found else 1.0, "recall": round(hits / len(real), 4),
            "found_per_transform": per_transform,
            "copies_per_transform": sum(n.startswith("cp_") for n in truth) // len(TRANSFORMS)}
