"""Diversity on known cases from the shared data, in genscope's descriptor space.

    python benchmarks/diversity_known_cases.py

Scans ../shared/data/detect/manifest.csv with the descriptor signal (resumable), then reports
precision/recall/density/coverage for: the real set against itself (P = R = 1 expected), one narrow
generated source (the SD 1.5 art grids) against all real images (recall far below precision
expected), and all generated images against all real ones.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

import genscope
from genscope.analyses.audit import meta_values
from genscope.analyses.diversity import prdc

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "detect"


def main() -> int:
    out = Path(tempfile.gettempdir()) / "genscope-descriptor-scan"
    table = genscope.scan(str(SHARED / "manifest.csv"), out, signals=["descriptor"], report=False).records
    column = table.column("descriptor.vector").to_pylist()
    ok = np.array([v is not None for v in column])
    matrix = np.array([v for v in column if v is not None], dtype=np.float32)
    labels = np.array(meta_values(table, "label"))[ok]
    sources = np.array(meta_values(table, "source"))[ok]
    real = matrix[labels == "real"]
    cases = {
        "real vs itself": (real, real.copy()),
        "sd15_deliberate_artist_grids vs real": (real, matrix[sources == "sd15_deliberate_artist_grids"]),
        "all generated vs real": (real, matrix[labels == "generated"]),
    }
    for name, (reference, generated) in cases.items():
        print(json.dumps({"case": name, **prdc(reference, generated).as_dict()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
