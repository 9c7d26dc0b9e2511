"""Do `genscope bias` intervals cover known shares? Groups assembled with known tone proportions from measured faces.

    python benchmarks/bias_mixtures.py FOLDER [FOLDER …] [--trials 200] [--size 60] [--out RESULTS.json]

Scans the folders with the faces signal (resumable, in a temporary folder), keeps images with exactly one measured
face, then for every trial draws ``--size`` images, each of a category drawn with known probabilities (the population's
true shares), and checks whether each category's 95 % interval holds its true share. Nominal coverage: 95 %.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
from results_io import emit

import genscope
from genscope.analyses.bias import FACES, run_bias

MIX = {"light": 0.2, "intermediate": 0.3, "brown": 0.5}  # categories every shared face set has enough of


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--size", type=int, default=60)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    scan = Path(tempfile.gettempdir()) / "genscope-bias-mixtures"
    records = genscope.scan(args.folders, out=scan, signals=["faces"], report=False).records
    category = [faces[0]["ita_category"] if faces and len(faces) == 1 else None
                for faces in records.column(FACES).to_pylist()]
    pools = {name: np.flatnonzero([c == name for c in category]) for name in MIX}
    rng = np.random.default_rng(0)
    covered = {name: 0 for name in MIX}
    widths = {name: [] for name in MIX}
    for trial in range(args.trials):
        # each image's category is drawn with the mixture's probabilities: the group is a sample of a population
        # whose shares are known, as a generator's outputs for one prompt are
        drawn = rng.choice(list(MIX), size=args.size, p=list(MIX.values()))
        picks = np.array([rng.choice(pools[name]) for name in drawn])
        group = records.take(picks)
        group = group.append_column("mix", pa.array(["mix"] * len(group)))
        cells = run_bias(group, by="mix", seed=trial).summary["per_group"][0]["shares"]
        for name, truth in MIX.items():
            covered[name] += cells[name]["low"] <= truth <= cells[name]["high"]
            widths[name].append(cells[name]["high"] - cells[name]["low"])
    result = {"folders": args.folders, "pool_sizes": {k: len(v) for k, v in pools.items()}, "truth": MIX,
              "trials": args.trials, "group_size": args.size,
              "coverage": {k: round(v / args.trials, 3) for k, v in covered.items()},
              "median_interval_width": {k: round(float(np.median(v)), 3) for k, v in widths.items()}}
    emit(result, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
