"""The detect-web data card: one row per pinned source, its globs and its exclusions."""

from __future__ import annotations

import csv
import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from genscope.errors import InputError
from genscope.storage import expand_braces

KINDS = ("github", "debian", "pypi")
LABELS = ("real", "generated", "tool")

class SourceTableError(InputError):
    """The sources CSV is malformed: the message names the row."""


@dataclass(frozen=True)
class Source:
    kind: str
    ref: str
    globs: tuple[str, ...]
    excludes: tuple[str, ...]
    label: str
    source: str
    generator: str
    licence: str
    notes: str
    content: str = ""  # what the images show when it is one thing (``face``): training balances it across labels

    @property
    def repo(self) -> str:
        return self.ref.split("@", 1)[0]

    @property
    def commit(self) -> str:
        return self.ref.split("@", 1)[1]

    @property
    def package(self) -> tuple[str, str]:
        """(name, version) of a debian or pypi ref; version '' when the row pins none."""
        name, _, version = _strip_note(self.ref).replace("==", "=").partition("=")
        return name.strip(), version.strip()

    @property
    def sdist(self) -> bool:
        return self.kind == "pypi" and "(sdist)" in self.ref

    def wants(self, path: str) -> bool:
        return any(_glob_regex(g).fullmatch(path) for g in self.globs)

    def excluded_by(self, path: str, phrases: dict[str, tuple[str, ...]]) -> str | None:
        """The exclusion that drops ``path``, or None; ``phrases`` gives the name patterns a worded one means."""
        for token in self.excludes:
            if any(name_matches(path, pattern) for pattern in (token, *phrases.get(token, ()))):
                return token
        return None


def _strip_note(field: str) -> str:
    """``usr/x/*.rcc (WebP carved out of …)`` → ``usr/x/*.rcc``: a trailing parenthesis is a remark."""
    return re.sub(r"\s*\([^)]*\)\s*$", "", field).strip()


def name_matches(path: str, pattern: str) -> bool:
    """fnmatch on the whole path, the base name and each folder name (so ``babyshapes`` names a folder)."""
    parts = PurePosixPath(path).parts
    return fnmatch.fnmatchcase(path, pattern) or any(fnmatch.fnmatchcase(part, pattern) for part in parts)


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """``*`` and ``?`` stay inside one folder, ``**`` crosses folders, ``[0-9]`` is a class."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1:end]
                out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
                i = end
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out))


def read_sources(path: Path) -> list[Source]:
    """Rows of a sources CSV (columns kind,ref,glob,exclude,label,source,generator,licence,notes[,content])."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = {"kind", "ref", "glob", "label", "source"} - set(reader.fieldnames or [])
        if missing:
            raise SourceTableError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        sources = []
        for line, row in enumerate(reader, start=2):
            kind, label = row["kind"].strip(), row["label"].strip()
            if kind not in KINDS or label not in LABELS:
                raise SourceTableError(f"{path}:{line}: kind must be {'/'.join(KINDS)} and label "
                                       f"{'/'.join(LABELS)}, got {kind!r}, {label!r}")
            if kind == "github" and not re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{7,40}", row["ref"].strip()):
                raise SourceTableError(f"{path}:{line}: github ref must be owner/name@commit, got {row['ref']!r}")
            if not re.fullmatch(r"[\w.-]+", row["source"].strip()):
                raise SourceTableError(f"{path}:{line}: source name {row['source']!r} is not a plain name")
            globs = tuple(g for part in _strip_note(row["glob"]).split(";") for g in expand_braces(part.strip()) if g)
            sources.append(Source(kind=kind, ref=row["ref"].strip(), globs=globs,
                                  excludes=tuple(e.strip() for e in (row.get("exclude") or "").split(";")
                                                 if e.strip()),
                                  label=label, source=row["source"].strip(),
                                  generator=(row.get("generator") or "").strip(),
                                  licence=(row.get("licence") or "").strip(), notes=(row.get("notes") or "").strip(),
                                  content=(row.get("content") or "").strip()))
    return sources
