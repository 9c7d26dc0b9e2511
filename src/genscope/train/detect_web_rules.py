"""What the detect-web data card says in words, as rules: worded exclusions, photo tests, grids, groups.

Keyed by the card's source names; a source not named here gets the plain treatment (its globs and
name-pattern excludes, one group per file).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import PurePosixPath

from PIL import Image

from genscope.decode import Decoded

# Worded excludes → the name patterns they mean in the pinned versions (checked by eye). A rule name
# (a key of PIXEL_RULES) is applied to the decoded image instead.
PHRASES: dict[str, tuple[str, ...]] = {
    # gcompris 3.1 ships the lang activity as one lang.rcc (no lang_*.rcc): its word pictures are drawings
    "lang_*": ("*/activities/lang/*",),
    "babyshapes": ("*/activities/babyshapes/*",),
    # in 3.1 the farm-animal drawings are SVG and never carved; the nine farm-animal WebPs are photos
    "farm animals drawings": (),
    "Van Gogh paintings in details_*": ("*/activities/details/*Gogh*", "*/activities/details/*PereTanguy*",
                                        "*/activities/details/*Eglise_dAuvers*"),
}

# Exclusions the notes ask for ("filter drawings by eye", "drop the logos/screenshots/thermal") that the
# exclude column does not carry: name patterns, or rule names applied to pixels/EXIF.
BY_EYE: dict[str, tuple[str, ...]] = {
    # jigsaw pieces of paintings, cartoon rockets, a Braille-history mix of drawings and screenshots
    # (and the details activity's 74 px crops of its own full images, fish cut-outs on transparency)
    "gcompris_photos_webp": ("*/activities/paintings/*", "*/activities/chronos/*", "*/activities/louis-braille/*",
                             "*/activities/details/*_[0-9].webp", "*/activities/clickgame/*"),
    "camera_jpegs_60_models": ("non-camera",),
}

# sources whose files are grids of square tiles: tile size in pixels
GRIDS = {"gan_stylegan2_community_grids": 256}

# how a source's files are grouped, beyond the generic rules in group_for
FOLDER_GROUPS = {"nano_banana", "gpt4o_images", "gan_stylegan2_community_grids"}
CAMERA_GROUPS = {"camera_jpegs_60_models"}

_THERMAL_MAKES = ("flir",)
# distinct colours in a 256² thumbnail: gradients and logos stay far below 10,000; a greyscale night shot
# from a trail camera has ~500, a blank frame 1, grey text on black 256
_PHOTO_COLOURS = 10_000
_CAMERA_COLOURS = 300


def _exif_make_model(data: bytes) -> tuple[str, str]:
    try:
        with Image.open(io.BytesIO(data)) as image:
            exif = image.getexif()
            return str(exif.get(0x010F, "")).strip(" \0"), str(exif.get(0x0110, "")).strip(" \0")
    except Exception:  # broken EXIF: no camera facts
        return "", ""


def _colours(decoded: Decoded) -> int:
    return len(decoded.image.resize((256, 256)).getcolors(256 * 256) or ())


def _camera_exif(data: bytes) -> bool:
    make, model = _exif_make_model(data)
    return bool(make or model) and not any(t in f"{make} {model}".lower() for t in _THERMAL_MAKES)


def is_camera_photo(data: bytes, decoded: Decoded) -> bool:
    """Camera EXIF from a visible-light camera (thermal imagers are not photos here), and not a blank frame or
    text on black (a test file's content): those have at most a few hundred colours."""
    return _camera_exif(data) and _colours(decoded) >= _CAMERA_COLOURS


def is_photo(data: bytes, decoded: Decoded) -> bool:
    """Camera EXIF, or an opaque image with photo-like colour variety (wallpaper gradients and logos fail)."""
    if _camera_exif(data):
        return True
    alpha = decoded.mode in ("RGBA", "LA", "PA") or "transparency" in decoded.info.get("pil_info", {})
    return not alpha and _colours(decoded) >= _PHOTO_COLOURS


PIXEL_RULES = {"non-photos": is_photo, "non-camera": is_camera_photo}


def _prompt_key(prompt: str) -> str:
    """The positive/negative texts of a ComfyUI API prompt (seed and sampler settings left out)."""
    try:
        graph = json.loads(prompt)
        texts = sorted(str(node["inputs"]["text"]) for node in graph.values()
                       if isinstance(node, dict) and isinstance(node.get("inputs"), dict)
                       and isinstance(node["inputs"].get("text"), str))
    except (ValueError, AttributeError, KeyError, TypeError):
        texts = []
    return hashlib.sha256("\n".join(texts or [prompt]).encode()).hexdigest()[:16]


def group_for(source: str, name: str, decoded: Decoded) -> str:
    """The group keeping related files on one side of a split (see docs/data.md)."""
    path = PurePosixPath(name.split("!")[-1].split("#")[0])
    # CycleGAN test outputs: <input>_fake.png next to <input>_real.png; every model translates the same inputs
    paired = re.fullmatch(r"(.+)_(fake|real)", path.stem)
    if paired and path.parent.name == "images" and path.parent.parent.name.startswith("test_"):
        return f"cyclegan_input:{paired.group(1)}"
    if source in CAMERA_GROUPS:
        return "camera:" + re.sub(r"\s*\([^)]*\)$", "", path.stem)  # "Canon EOS 20D (2)" → the model
    if source in FOLDER_GROUPS:
        return f"{source}:{path.parent}"
    prompt = decoded.info.get("pil_info", {}).get("prompt")
    if isinstance(prompt, str) and prompt.strip():
        return f"{source}:prompt:{_prompt_key(prompt)}"
    return f"{source}:{name}"
