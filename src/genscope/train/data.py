"""Training data: read a manifest or the shared layout into rows; group-aware folds."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

# generator name (manifest) → family the family head predicts; unknown names keep their own name
FAMILIES = {
    "sd15_deliberate2": "sd15", "sd15": "sd15",
    "sdxl": "sdxl", "sdxl_turbo": "sdxl", "sdxl_lcm": "sdxl",
    "kolors": "kolors", "kandinsky3": "kandinsky",
    "dalle2": "dalle", "midjourney_unspecified": "midjourney",
    "stable_diffusion_unspecified": "stable_diffusion_other",
    **{g: "gan" for g in ("biggan", "cyclegan", "pix2pix", "progan", "stylegan", "realgan", "stylegan2",
                          "stylegan2-ada", "stylegan|msg-stylegan")},
    "gemini-2.5-flash-image|nano-banana-pro": "gemini", "gpt-4o|gpt-image-1": "gpt_image", "flux1-dev": "flow_dit",
    # sources that do not name one generator: no family label (the binary head still learns from them)
    "many (file name)": "", "unspecified": "",
    **{g: "flow_dit" for g in ("flux1_dev", "flux1_schnell", "flux2_dev", "sd3_medium", "sd35_large",
                               "hidream_i1_dev", "chroma", "auraflow_0.2", "lumina2", "hunyuan_dit_1.2",
                               "cosmos_predict2_2b", "qwen_image", "z_image_turbo")},
}


@dataclass(frozen=True)
class Row:
    path: Path
    label: int  # 1 = generated
    source: str
    split: str
    generator: str
    group: str
    content: str = ""  # e.g. ``face``: a kind of picture whose share training evens out across labels

    @property
    def family(self) -> str:
        return FAMILIES.get(self.generator, self.generator) if self.label else ""


def read_rows(data: str | Path) -> list[Row]:
    """Rows from a manifest CSV (``path,label[,generator][,group][,source][,split]``) or a folder holding
    ``manifest.csv`` (the shared ``{train,val}/{real,generated}/<source>/`` layout)."""
    data = Path(data)
    manifest = data / "manifest.csv" if data.is_dir() else data
    rows = []
    with open(manifest, newline="") as f:
        for r in csv.DictReader(f):
            label = r["label"].strip().lower()
            if label not in ("real", "generated", "0", "1"):
                raise ValueError(f"{manifest}: label must be real/generated/0/1, got {label!r}")
            path = Path(r["path"])
            rows.append(Row(path=path if path.is_absolute() else manifest.parent / path,
                            label=int(label in ("generated", "1")),
                            source=r.get("source") or "unknown", generator=r.get("generator") or "",
                            group=r.get("group") or r["path"], split=r.get("split") or _hash_split(r),
                            content=(r.get("content") or "").strip()))
    return rows


def group_split(source: str, group: str) -> str:
    """Deterministic 70/30 split by ``source:group`` (the shared set's rule), so a group sits on one side."""
    key = f"{source}:{group}"
    return "val" if int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % 100 < 30 else "train"


def _hash_split(r: dict) -> str:
    """The split of a manifest row without a split column."""
    return group_split(r.get("source", ""), r.get("group") or r["path"])


def group_folds(groups: list[str], k: int, seed: int) -> list[int]:
    """Fold index per row such that a group never spans two folds."""
    import numpy as np

    uniq = sorted(set(groups))
    order = np.random.default_rng(seed).permutation(len(uniq))
    fold_of = {uniq[j]: i % k for i, j in enumerate(order)}
    return [fold_of[g] for g in groups]
