"""What both indexes need on disk: FAISS imported with a clear message, arrays saved to an open file."""

from __future__ import annotations

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


def save_npy(target: Path, array: np.ndarray) -> None:
    with target.open("wb") as f:  # a file object: np.save would append .npy to the temp name
        np.save(f, array)
