"""The replication and duplicate reports: what each shows, built on ``report.copies``."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from genscope.analyses.copy_score import PHASH_MATCH
from genscope.analyses.dedup import Dedup
from genscope.analyses.memorization import Memorization
from genscope.analyses.replication import Replication
from genscope.models.descriptor.local import MIN_INLIERS
from genscope.report import svg
from genscope.report.copies import ImageLookup, Page, Pair, Side, write

GALLERY = 48  # pairs or groups drawn; each costs two or more thumbnails


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.2f}%"


def _part(box: list[float]) -> tuple[float, ...] | None:
    """The matched window, or None when the whole image matched (nothing to outline)."""
    return None if box == [0.0, 0.0, 1.0, 1.0] else tuple(box)


def match_evidence(match: dict, threshold: float) -> str:
    """What makes a match a copy, named by the evidence that decided it (the rule of ``replicate``), or why not."""
    found = []
    if (match.get("inliers") or 0) >= MIN_INLIERS:
        found.append(f"by keypoints: {match['inliers']} inliers")
    if match.get("phash_distance") is not None and match["phash_distance"] <= PHASH_MATCH:
        found.append(f"by pHash: {match['phash_distance']} of 64 bits differ")
    if match["similarity"] > threshold:
        found.append(f"by similarity: {match['similarity']:.3f} > {threshold:g}")
    return "; ".join(found) or f"no copy: similarity {match['similarity']:.3f} ≤ {threshold:g}"


def evidence_counts(summary: dict) -> str:
    """How many replicated images each kind of evidence accounts for, e.g. "2 by similarity, 1 by keypoints only"."""
    phash, keypoints = summary.get("replicated_by_phash_only", 0), summary.get("replicated_by_keypoints_only", 0)
    parts = [f"{summary['replicated'] - phash - keypoints} by similarity > {summary['threshold']:g}"]
    if phash:
        parts.append(f"{phash} by pHash only")
    if keypoints:
        parts.append(f"{keypoints} by keypoints only")
    return ", ".join(parts)


def replication_report(result: Replication, generated: pa.Table, references: pa.Table | None, target: Path) -> Path:
    s = result.summary
    ci = s.get("replication_rate_ci95")
    threshold = s["threshold"]
    best = {row["query"]: row for row in result.matches.filter(pc.equal(result.matches.column("rank"), 1)).to_pylist()}
    top = result.top1.to_pylist()
    top.sort(key=lambda row: -best[row["query"]]["score"])  # the ranking of matches.parquet: verified copies first
    pairs = [Pair(label=match_evidence(best[row["query"]], threshold), hit=row["replicated"],
                  sides=[Side(row["query"], _part(best[row["query"]]["box"])), Side(row["reference"])])
             for row in top[:GALLERY]]
    tables = []
    if s.get("by_group"):
        rows = [[group, v["images"], v["replicated"], _pct(v["replication_rate"])]
                for group, v in list(s["by_group"].items())[:50]]
        tables.append({"title": "Replication rate per group", "header": ["group", "images", "replicated", "rate"],
                       "rows": rows})
    descriptor = s.get("descriptor") or {}
    page = Page(
        title="genscope replication report",
        subtitle=f"{s['generated']} generated images against {s['references']} references",
        cards=[("replication rate", _pct(s["replication_rate"])),
               ("95% CI", f"{_pct(ci[0])} – {_pct(ci[1])}" if ci else "–"),
               ("replicated", s["replicated"]), ("how", evidence_counts(s)),
               ("threshold", threshold), ("generated images", s["generated"]), ("references", s["references"])],
        summary=s,
        plots=[("Top-1 similarity of each generated image (red line: threshold)",
                svg.histogram(result.top1.column("similarity").to_pylist(), bins=40, width=640, height=140,
                              marker=threshold))],
        notes=[f"Descriptor {descriptor.get('name') or '?'} (signal version {descriptor.get('version') or '?'}). "
               "Similarity is the cosine of L2-normalised descriptors; see docs/replication.md for what a value "
               "means for this descriptor.",
               f"Rule: {s['rule']}.",
               f"{s['generated_without_descriptor']} generated images could not be read and have no match."],
        tables=tables,
        gallery_title=f"Top {len(pairs)} pairs by score: generated (left) and its best reference (right)",
        gallery_note="Red frame: a copy. Each label names the evidence that decided it. The outline on the generated "
                     "image is the part that matched.",
        pairs=pairs,
    )
    lookup = ImageLookup(generated, *([references] if references is not None else []))
    return write(page, lookup, target)


def dedup_report(result: Dedup, records: pa.Table, target: Path) -> Path:
    s = result.summary
    groups = result.groups
    pairs = []
    if groups.num_rows:
        ordered = groups.sort_by([("group_size", "descending"), ("group_id", "ascending"), ("keep", "descending")])
        members: dict[int, list[str]] = {}
        for row in ordered.select(["group_id", "path"]).to_pylist():
            members.setdefault(row["group_id"], []).append(row["path"])
        for gid, paths in list(members.items())[:GALLERY]:
            pairs.append(Pair(label=f"group {gid}: {len(paths)} images (first: kept)",
                              sides=[Side(p) for p in paths[:4]]))
    near = [int(v) for v in groups.column("near_copies").to_pylist()] if groups.num_rows else []
    rule = s["rule"]
    page = Page(
        title="genscope duplicates report",
        subtitle=f"{s['inputs']} inputs, similarity ≥ {rule['similarity']} alone, or ≥ {rule['floor']} with "
                 f"pHash ≤ {rule['phash']} bits or ≥ {rule['inliers']} keypoint inliers",
        cards=[("duplicate groups", s["groups"]), ("images in groups", s["images_in_groups"]),
               ("kept", s["keep"]), ("removed", s["removed"]),
               ("exact duplicate files", s["exact_duplicate_files"]),
               ("near-duplicate pairs", s["near_duplicate_pairs"]), ("merges refused", s["merges_refused"])],
        summary=s,
        plots=[("Near-copies per image in a group", svg.histogram(near, bins=20, width=640, height=120))]
        if len(set(near)) > 1 else [],
        tables=[{"title": "Loosest groups (lowest similarity of a member to the representative): review first",
                 "header": ["representative", "size", "tightness"],
                 "rows": [[g["representative"], g["size"], g["tightness"]] for g in s["loosest_groups"]]}]
        if s["loosest_groups"] else [],
        notes=["A pair is a duplicate on the strongest evidence that holds: identical bytes, the descriptor's "
               "similarity alone, or a similarity above the floor confirmed by pHash (either orientation) or by "
               f"ORB keypoints. Pairs by evidence: {s['pairs_by_evidence']}. Every judged pair, with its "
               "evidence, is in pairs.parquet.",
               "Groups join duplicates transitively, but two groups merge only when their representatives are "
               "duplicates too (merges refused: bridges such as a collage of two unrelated photos). The kept "
               "image is the one with the most pixels."],
        gallery_title=f"Largest {len(pairs)} groups",
        gallery_note="Up to four members per group; the first is the one kept.",
        pairs=pairs,
    )
    return write(page, ImageLookup(records), target)


def memorization_report(result: Memorization, records: pa.Table, target: Path) -> Path:
    s = result.summary
    flagged = [g for g in result.groups if g["flagged"]]
    pairs = [Pair(label=f"{g['clique_size']} of {g['images']} near-identical (tightness {g['tightness']}): "
                        f"{g['group'][:120]}", sides=[Side(p) for p in g["clique"][:4]], hit=True)
             for g in flagged[:GALLERY]]
    page = Page(
        title="genscope memorization report",
        subtitle=f"{s['images']} generated images in {s['groups']} groups by {s['group_by']!r}",
        cards=[("groups flagged", s["groups_flagged"]), ("groups scored", s["groups_scored"]),
               ("images with a group", s["images_with_group"]), ("threshold", s["threshold"])],
        summary=s,
        notes=[f"A group is scored when it has at least {s['min_size']} images and flagged when at least "
               f"{100 * s['flag_share']:.0f}% of them are pairwise near-identical (similarity ≥ threshold)."],
        tables=[{"title": "Groups, most memorized first", "header": ["group", "images", "clique", "share", "tightness"],
                 "rows": [[g["group"], g["images"], g["clique_size"], g["clique_share"], g["tightness"]]
                          for g in result.groups[:50]]},
                {"title": "Caption words by share of flagged groups",
                 "header": ["word", "groups", "flagged", "share"],
                 "rows": [[r["word"], r["groups"], r["flagged"], r["flagged_share"]] for r in result.phrases[:30]]}],
        gallery_title=f"Flagged groups ({len(flagged)})",
        gallery_note="Up to four members of each group's near-identical set.",
        pairs=pairs,
    )
    return write(page, ImageLookup(records), target)
