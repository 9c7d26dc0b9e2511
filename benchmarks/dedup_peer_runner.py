"""One peer dedup tool on one folder, run by ``dedup_peers.py`` with the peers' own Python (never genscope's):

    PEER_PYTHON dedup_peer_runner.py TOOL FOLDER OUT.json WORK_DIR

Writes ``{"groups": [[file name, ...], ...]}`` (each tool's duplicate sets at its default settings) or
``{"error": "..."}`` when the tool cannot run (e.g. CNN weights that cannot be fetched offline).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def imagededup_pairs(method: str, folder: str) -> list[list[str]]:
    from imagededup import methods

    duplicates = getattr(methods, method)().find_duplicates(image_dir=folder)  # default thresholds
    return [[a, b] for a, others in duplicates.items() for b in others]


def fastdup_components(folder: str, work: str) -> list[list[str]]:
    import fastdup

    fd = fastdup.create(work_dir=work, input_dir=folder)
    fd.run(overwrite=True, print_summary=False)
    components, _ = fd.connected_components()
    groups: dict[int, list[str]] = {}
    for name, component in zip(components["filename"], components["component_id"], strict=True):
        groups.setdefault(int(component), []).append(Path(name).name)
    return [g for g in groups.values() if len(g) > 1]


def cleanvision_sets(folder: str) -> list[list[str]]:
    from cleanvision import Imagelab

    lab = Imagelab(data_path=folder)
    lab.find_issues({"exact_duplicates": {}, "near_duplicates": {}})
    return [[Path(p).name for p in group] for kind in ("exact_duplicates", "near_duplicates")
            for group in lab.info[kind]["sets"]]


TOOLS = {
    "imagededup-phash": lambda folder, _: imagededup_pairs("PHash", folder),
    "imagededup-cnn": lambda folder, _: imagededup_pairs("CNN", folder),
    "fastdup": fastdup_components,
    "cleanvision": lambda folder, _: cleanvision_sets(folder),
}


def main() -> None:
    tool, folder, out, work = sys.argv[1:5]
    os.environ.setdefault("SENTRY_OPT_OUT", "1")  # fastdup: no telemetry from a benchmark
    try:
        result = {"groups": TOOLS[tool](folder, work)}
    except Exception as exc:  # a peer that fails is reported, not fatal to the benchmark
        result = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
    Path(out).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
