"""Choose ``genscope dedup``'s default rule on one split of the transform benchmark, report it on another.

    python benchmarks/dedup_thresholds.py        # tune: detect/train (seed 1), held out: detect/val (seed 2)
    python benchmarks/dedup_thresholds.py --descriptor lite0     # the full two-scale descriptor's rule

Both sets are built by ``dedup_bench.py`` (50 originals, one copy per transform, the rest of the folder as
distractors). The tuning split is scanned once (descriptor, pHash, keypoints); every rule of the grid is then
applied to the same records, and the rule with the highest pair recall at pair precision >= ``--precision``
wins (ties: fewer keypoint verifications, then the higher floor). The held-out split then reports the chosen
rule and, one threshold changed at a time, what each threshold buys: ``results/dedup/thresholds.json``
(lite0) or ``thresholds-<descriptor>.json``. Each descriptor is scanned with the keypoints dedup gives it.
"""

from __future__ import annotations

import argparse
import itertools
import json
from dataclasses import asdict, replace
from pathlib import Path

from dedup_bench import build, group_pairs, score

from genscope.analyses import dedup as dedup_analysis
from genscope.analyses.dedup_pairs import PairJudge, Rule
from genscope.analyses.descriptors import descriptors
from genscope.api.copies import DEDUP_DESCRIPTOR, DEDUP_RULES, DescriptorChoice, dedup_keypoints, describe

REPO = Path(__file__).resolve().parents[1]
DETECT = REPO.parent / "shared" / "data" / "detect"
GRID = {"similarity": (0.85, 0.9, 0.95), "floor": (0.15, 0.2, 0.3, 0.4), "phash": (-1, 6, 8, 10),
        "inliers": (8, 10, 12, 15)}
# one threshold at a time around the chosen rule, for the docs' "what each threshold means" table
VARIANTS = {"similarity": (0.8, 0.85, 0.95, 1.0), "floor": (0.1, 0.3, 0.5, 1.0), "phash": (-1, 4, 12),
            "inliers": (6, 15, 30, 10_000)}


def remember_verifications() -> None:
    """Keypoint verification is a pure function of the two rows: cache it across the grid's rules (each rule's
    judge still counts the verifications it asked for, as it would without the cache)."""
    verify, cache = PairJudge.verify_pair, {}

    def cached(judge: PairJudge, key: tuple[int, int]) -> int:
        full = (id(judge.vectors), *key)  # one descriptor set per split, reused by every rule
        if full not in cache:
            cache[full] = verify(judge, key)
        return cache[full]

    PairJudge.verify_pair = cached


def evaluate(records, found, truth: dict[str, str], rule: Rule) -> dict:
    result = dedup_analysis.dedup(records, found, rule=rule)
    members: dict[int, list[str]] = {}
    for row in result.groups.select(["path", "group_id"]).to_pylist():
        members.setdefault(row["group_id"], []).append(Path(row["path"]).name)
    s = result.summary
    return {"rule": asdict(rule), **score(group_pairs(members.values()), truth),
            "keypoint_verifications": s["keypoint_verifications"], "merges_refused": s["merges_refused"],
            "pairs_by_evidence": s["pairs_by_evidence"]}


def scanned(name: str, background: Path, seed: int, work: Path, descriptor: DescriptorChoice):
    truth = build(work / name, background, 50, seed)
    suffix = "" if descriptor.backend == "lite0" else f"-{descriptor.backend}"
    records = describe([str(work / name / "images")], work / f"{name}{suffix}-records", descriptor=descriptor,
                       keypoints=dedup_keypoints(descriptor), progress=False).records
    return records, descriptors(records), truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--precision", type=float, default=0.995, help="least pair precision on the tuning split")
    parser.add_argument("--work", default="/tmp/genscope-dedup-bench")
    parser.add_argument("--descriptor", default=DEDUP_DESCRIPTOR, choices=tuple(DEDUP_RULES))
    args = parser.parse_args()
    work = Path(args.work)
    descriptor = DescriptorChoice(args.descriptor)
    remember_verifications()
    tune = scanned("tune-train", DETECT / "train", 1, work, descriptor)
    grid = [evaluate(*tune, Rule(**dict(zip(GRID, values, strict=True))))
            for values in itertools.product(*GRID.values())
            if values[1] <= values[0]]
    fit = [g for g in grid if g["precision"] >= args.precision]
    best = max(fit, key=lambda g: (g["recall"], -g["keypoint_verifications"], g["rule"]["floor"]))
    chosen = Rule(**best["rule"])
    held = scanned("heldout-val", DETECT / "val", 2, work, descriptor)
    variants = [evaluate(*held, replace(chosen, **{name: value}))
                for name, values in VARIANTS.items() for value in values
                if (name != "floor" or value <= chosen.similarity) and (name != "similarity" or value >= chosen.floor)]
    result = {"descriptor": args.descriptor, "precision_target": args.precision, "chosen": asdict(chosen), "tune": best,
              "heldout": evaluate(*held, chosen), "heldout_variants": variants, "grid": grid}
    name = "thresholds" if args.descriptor == "lite0" else f"thresholds-{args.descriptor}"
    out = REPO / "benchmarks" / "results" / "dedup" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"chosen {asdict(chosen)}")
    for label, row in [("tune", best), ("held out", result["heldout"]), *[
            (", ".join(f"{k}={v}" for k, v in r["rule"].items() if v != getattr(chosen, k)), r) for r in variants]]:
        print(f"{label:>24}: precision {row['precision']:.4f} recall {row['recall']:.4f} "
              f"verifications {row['keypoint_verifications']} {row['found_per_transform']}")


if __name__ == "__main__":
    main()
