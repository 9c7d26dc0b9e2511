"""Build the detect-web training set: fetch each pinned source, keep decodable unique images, write a manifest.

``OUT/images/<source>/<sha256[:16]><ext>``, ``OUT/manifest.csv`` (path,label,source,generator,group,licence,
origin) and ``OUT/build.json`` (per-source counts, skipped sources and why). Downloads are cached under
``OUT/cache``, so a rerun refetches nothing and rewrites no image already there.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from genscope.decode import decode
from genscope.errors import InputError
from genscope.signals.phash import hamming, phash
from genscope.train import detect_web_rules as rules
from genscope.train.data import group_split
from genscope.train.image_carve import grid_tiles, rcc_images
from genscope.train.source_fetch import MAX_MEMBER_BYTES, SourceUnavailable, open_source
from genscope.train.source_table import Source, name_matches, read_sources

DEFAULT_SOURCES = Path(__file__).with_name("detect_web_sources.csv")
MAX_PIXELS = 50_000_000
# pHash bits two copies of one photo may differ by (re-encoded, cropped by a pixel, resized) while two
# different photos almost never come this close; aspect ratio must agree too
NEAR_BITS = 6
NEAR_ASPECT = 0.05
COLUMNS = ("path", "label", "source", "generator", "group", "split", "content", "licence", "origin")
_EXTENSIONS = {"jpeg": ".jpg", "png": ".png", "webp": ".webp", "gif": ".gif", "bmp": ".bmp", "tiff": ".tif"}


class BuildError(InputError):
    """A bad argument (missing sources CSV, shared folder without a manifest): one line for the user."""


@dataclass
class BuildResult:
    out: Path
    rows: list[dict[str, str]]
    summary: dict
    written: int  # images written by this run (0 on a rerun over a complete OUT)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (source, reason)


@dataclass
class _Shared:
    """The existing training set, to drop what it already holds: by sha256 and by perceptual hash."""

    sha256: dict[str, str]
    phashes: list[tuple[int, float, str]]  # (hash, aspect ratio, path)

    def near(self, value: int, aspect: float) -> str | None:
        for other, other_aspect, path in self.phashes:
            if hamming(value, other) <= NEAR_BITS and abs(aspect - other_aspect) <= NEAR_ASPECT * other_aspect:
                return path
        return None


def _shared_index(shared: Path, cache: Path) -> _Shared:
    """Hashes of every image the shared manifest lists, cached by (path, size, mtime) under OUT/cache."""
    manifest = shared / "manifest.csv"
    if not manifest.is_file():
        raise BuildError(f"--shared {shared}: no manifest.csv there")
    cached_file = cache / "shared_index.json"
    cached = json.loads(cached_file.read_text()) if cached_file.is_file() else {}
    index, sha256, phashes = {}, {}, []
    with open(manifest, newline="", encoding="utf-8") as f:
        paths = [row["path"] for row in csv.DictReader(f) if row.get("path")]
    for rel in paths:
        file = shared / rel
        if not file.is_file():
            continue
        stat = file.stat()
        key = f"{rel}|{stat.st_size}|{stat.st_mtime_ns}"
        entry = cached.get(key)
        if entry is None:
            data = file.read_bytes()
            decoded = decode(data, max_pixels=MAX_PIXELS)
            entry = {"sha256": hashlib.sha256(data).hexdigest(), "phash": None, "aspect": None}
            if decoded.image is not None:
                entry.update(phash=str(phash(decoded.image)), aspect=decoded.image.width / decoded.image.height)
        index[key] = entry
        sha256[entry["sha256"]] = rel
        if entry["phash"] is not None:
            phashes.append((int(entry["phash"]), entry["aspect"], rel))
    cache.mkdir(parents=True, exist_ok=True)
    cached_file.write_text(json.dumps(index))
    return _Shared(sha256, phashes)


def _items(source: Source, name: str, data: bytes) -> Iterator[tuple[str, bytes]]:
    """The images one fetched file holds: itself, the WebPs of an rcc bundle, or the tiles of a grid."""
    if name.endswith(".rcc"):
        for inner, stream in rcc_images(data):
            yield f"{name}!{inner}", stream
    elif source.source in rules.GRIDS:
        try:
            for tile, stream in grid_tiles(data, rules.GRIDS[source.source]):
                yield f"{name}#{tile}", stream
        except Exception:  # an unreadable grid is counted as undecodable below
            yield name, data
    else:
        yield name, data


def _excluded(source: Source, name: str) -> str | None:
    token = source.excluded_by(name, rules.PHRASES)
    if token is None:
        token = next((p for p in rules.BY_EYE.get(source.source, ()) if p not in rules.PIXEL_RULES
                      and name_matches(name, p)), None)
        token = f"by eye: {token}" if token else None
    return token


def _pixel_rules(source: Source) -> list[str]:
    return [t for t in (*source.excludes, *rules.BY_EYE.get(source.source, ())) if t in rules.PIXEL_RULES]


def _store(out: Path, source: str, digest: str, ext: str, data: bytes) -> tuple[str, bool]:
    """Write under a name made of the hash (never of the member name); (relative path, written now)."""
    rel = f"images/{source}/{digest[:16]}{ext}"
    target = out / rel
    if target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == digest:
        return rel, False
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(data)
    os.replace(partial, target)  # a killed run leaves no half-written image under the final name
    return rel, True


def build_detect(sources: Path, out: Path, mirror: Path | None = None, shared: Path | None = None,
                 progress: bool = True) -> BuildResult:
    """Build (or resume) the training set described by ``sources`` into ``out``."""
    if not Path(sources).is_file():
        raise BuildError(f"--sources {sources}: no such file")
    if mirror is not None and not Path(mirror).is_dir():
        raise BuildError(f"--mirror {mirror}: no such folder")
    table = read_sources(Path(sources))
    out = Path(out)
    cache = out / "cache"
    shared_index = _shared_index(Path(shared), cache) if shared is not None else _Shared({}, [])
    seen: dict[str, str] = {}  # sha256 → origin of the first copy kept in this build
    rows: list[dict[str, str]] = []
    report: dict[str, dict] = {}
    skipped: list[tuple[str, str]] = []
    tools: list[dict[str, str]] = []
    written = 0
    bar = tqdm(table, desc="sources", unit="source", disable=not progress, file=sys.stderr)
    for source in bar:
        bar.set_postfix_str(source.source)
        if source.label == "tool":
            tools.append({"source": source.source, "ref": source.ref, "note": "not images: not built"})
            continue
        entry = report.setdefault(source.source, {"kind": source.kind, "refs": [], "label": source.label,
                                                  "licence": source.licence, "matched": 0, "candidates": 0, "kept": 0,
                                                  "dropped": Counter()})
        entry["refs"].append(source.ref)
        try:
            opened = open_source(source, cache, Path(mirror) if mirror else None)
            for member in opened.members:
                entry["matched"] += 1
                if member.size > MAX_MEMBER_BYTES:
                    entry["dropped"]["too_large"] += 1
                    continue
                if token := _excluded(source, member.name):
                    entry["dropped"][f"excluded ({token})"] += 1
                    continue
                data = member.read()
                if data is None:
                    entry["dropped"]["missing_in_mirror"] += 1
                    continue
                if len(data) > MAX_MEMBER_BYTES:
                    entry["dropped"]["too_large"] += 1
                    continue
                for name, item in _items(source, member.name, data):
                    entry["candidates"] += 1
                    if name != member.name and (token := _excluded(source, name)):  # an rcc resource's own name
                        entry["dropped"][f"excluded ({token})"] += 1
                        continue
                    origin = f"{opened.origin}:{name}"
                    row, reason, match = _keep(source, name, item, origin, seen, shared_index)
                    if match:  # listed so that a wrong perceptual match can be seen and argued with
                        entry.setdefault("near_duplicates", []).append({"origin": origin, "shared": match})
                    if row is None:
                        entry["dropped"][reason] += 1
                        continue
                    row["path"], now = _store(out, source.source, row.pop("sha256"), row.pop("ext"), item)
                    written += now
                    rows.append(row)
                    entry["kept"] += 1
            entry["resolved"] = opened.resolved
        except SourceUnavailable as exc:
            skipped.append((source.source, str(exc)))
            entry["skipped"] = str(exc)
            print(f"genscope data build-detect: skipped {source.source}: {exc}", file=sys.stderr)
    bar.close()
    summary = _write(out, rows, report, skipped, tools, shared)
    _prune(out, rows, {s.source for s in table if s.label != "tool"} - {name for name, _ in skipped})
    return BuildResult(out=out, rows=rows, summary=summary, written=written, skipped=skipped)


def _keep(source: Source, name: str, data: bytes, origin: str, seen: dict[str, str],
          shared: _Shared) -> tuple[dict[str, str] | None, str, str | None]:
    """(manifest row, '', None) for one image, or (None, why it is dropped, the shared file it repeats)."""
    digest = hashlib.sha256(data).hexdigest()
    if digest in seen:
        return None, "duplicate", None
    if digest in shared.sha256:
        return None, "duplicate_of_shared", None
    decoded = decode(data, max_pixels=MAX_PIXELS)
    if decoded.image is None:
        return None, "not_an_image" if decoded.format in ("unknown", "empty") else "undecodable", None
    for rule in _pixel_rules(source):
        if not rules.PIXEL_RULES[rule](data, decoded):
            return None, f"excluded ({rule})", None
    match = shared.near(phash(decoded.image), decoded.image.width / decoded.image.height)
    if match:
        return None, "near_duplicate_of_shared", match
    seen[digest] = origin
    return {"sha256": digest, "ext": _EXTENSIONS.get(decoded.format, f".{decoded.format}"), "label": source.label,
            "source": source.source, "generator": source.generator, "content": source.content,
            "group": rules.group_for(source.source, name, decoded), "licence": source.licence,
            "origin": origin}, "", None


def _prune(out: Path, rows: list[dict[str, str]], built: set[str]) -> None:
    """Remove images a previous run kept that this run's rules drop (only hash-named files of built sources)."""
    listed = {row["path"] for row in rows}
    for source in built:
        for file in (out / "images" / source).glob("*"):
            if re.fullmatch(r"[0-9a-f]{16}\.\w+(\.part)?", file.name) and f"images/{source}/{file.name}" not in listed:
                file.unlink()


def _write(out: Path, rows: list[dict[str, str]], report: dict[str, dict], skipped: list[tuple[str, str]],
           tools: list[dict[str, str]], shared: Path | None) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    rows.sort(key=lambda r: (r["source"], r["path"]))
    partial = out / "manifest.csv.part"
    with open(partial, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            row["split"] = group_split(row["source"], row["group"])
            writer.writerow({k: row[k] for k in COLUMNS})
    os.replace(partial, out / "manifest.csv")
    for entry in report.values():
        entry["dropped"] = dict(sorted(entry["dropped"].items()))
    labels = Counter(row["label"] for row in rows)
    summary = {"images": len(rows), "by_label": dict(sorted(labels.items())), "shared": str(shared) if shared else None,
               "sources": report, "skipped": [{"source": s, "reason": r} for s, r in skipped], "tools": tools}
    (out / "build.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    return summary
