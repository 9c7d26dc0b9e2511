"""What both indexes need to live on disk: FAISS imported with a clear message, files replaced atomically."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def faiss_module() -> Any:
    """The ``faiss`` module, or an ImportError that says how to install it."""
    try:
        import faiss
    except ImportError:
        raise ImportError("copy search needs faiss: pip install 'genscope[replication]' (faiss-cpu)") from None
    return faiss


def atomic_write(target: Path, write: Callable[[Path], object]) -> None:
    """``write(temp)`` then rename over ``target``: a killed run leaves the old file or the new, never half."""
    tmp = target.with_name(f".{target.name}.tmp")
    write(tmp)
    tmp.replace(target)


def save_npy(target: Path, array: np.ndarray) -> None:
    with target.open("wb") as f:  # a file object: np.save would append .npy to the temp name
        np.save(f, array)
