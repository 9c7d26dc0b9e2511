"""`genscope data build-detect`: a tiny git mirror, a fake sdist with hostile members, no network needed."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest
from PIL import Image

from genscope.storage import expand_braces
from genscope.train.build_data import build_detect
from genscope.train.data import group_split
from genscope.train.image_carve import carve_webp, grid_tiles, rcc_images
from genscope.train.source_table import read_sources

from conftest import run_genscope
from hostile import encode, photo

HEADER = "kind,ref,glob,exclude,label,source,generator,licence,notes\n"
UNREACHABLE = "github,genscope-test/no-such-repo@" + "0" * 40 + ",*.png,,real,gone,,,\n"


def _git(*args: str, cwd: Path) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t",
           "PATH": "/usr/bin:/bin", "HOME": str(cwd)}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """``mirror/acme+pics/repo``, a bare repository with good, corrupt, duplicate, excluded and nested files."""
    root = tmp_path_factory.mktemp("git")
    work = root / "work"
    files = {
        "imgs/a.png": encode(photo(40, 30, seed=1), "PNG"),
        "imgs/b.jpg": encode(photo(40, 30, seed=2), "PNG"),  # a PNG named .jpg: the extension comes from content
        "imgs/corrupt.png": encode(photo(40, 30, seed=3), "PNG")[:60],
        "imgs/dup.png": encode(photo(40, 30, seed=1), "PNG"),  # same bytes as a.png
        "imgs/x_input.png": encode(photo(40, 30, seed=4), "PNG"),  # excluded by name
        "nested/deep/er/c.jpg": encode(photo(40, 30, seed=5), "JPEG", quality=90),
        "notes.txt": b"not matched",
    }
    for name, data in files.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_bytes(data)
    _git("init", "-q", str(work), cwd=root)
    _git("add", ".", cwd=work)
    _git("commit", "-q", "-m", "pics", cwd=work)
    commit = _git("rev-parse", "HEAD", cwd=work)
    _git("clone", "-q", "--bare", str(work), str(root / "mirror" / "acme+pics" / "repo"), cwd=root)
    return root / "mirror", commit


def _sources(tmp_path: Path, commit: str, extra: str = "") -> Path:
    path = tmp_path / "sources.csv"
    path.write_text(HEADER + f'github,acme/pics@{commit},"imgs/*.{{png,jpg}}; nested/**/*.jpg",*input*,generated,'
                    "pics,gen-x,MIT,\n" + "github,acme/tool@" + "1" * 40 + ",*.pth,,tool,weights,,MIT,\n" + extra)
    return path


def test_split_rule_is_the_shared_sets_and_keeps_a_group_on_one_side():
    assert group_split("pics", "g1") == group_split("pics", "g1")
    splits = [group_split("src", f"group{i}") for i in range(2000)]
    assert 0.25 < splits.count("val") / len(splits) < 0.35  # 30 % of groups by hash


def _manifest(out: Path) -> list[dict[str, str]]:
    with open(out / "manifest.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_build_keeps_unique_decodable_images_and_counts_drops(tmp_path, mirror):
    root, commit = mirror
    out = tmp_path / "out"
    result = build_detect(_sources(tmp_path, commit), out, mirror=root, progress=False)
    rows = _manifest(out)
    assert sorted(r["origin"].split(":", 1)[1] for r in rows) == ["imgs/a.png", "imgs/b.jpg", "nested/deep/er/c.jpg"]
    assert len(result.rows) == result.written == 3
    for row in rows:
        assert row["label"] == "generated" and row["source"] == "pics" and row["generator"] == "gen-x"
        assert row["licence"] == "MIT" and row["origin"].startswith(f"acme/pics@{commit}:")
        assert row["group"] == "pics:" + row["origin"].split(":", 1)[1]  # no pairing rule: the file itself
        assert row["split"] == group_split("pics", row["group"]) and row["content"] == ""
        assert (out / row["path"]).is_file()
    by_origin = {r["origin"].rsplit(":", 1)[1]: r["path"] for r in rows}
    assert by_origin["imgs/b.jpg"].endswith(".png") and by_origin["nested/deep/er/c.jpg"].endswith(".jpg")
    assert all(Path(p).stem and len(Path(p).stem) == 16 for p in by_origin.values())
    summary = json.loads((out / "build.json").read_text())
    pics = summary["sources"]["pics"]
    assert (pics["matched"], pics["kept"]) == (6, 3)
    assert pics["dropped"] == {"duplicate": 1, "excluded (*input*)": 1, "undecodable": 1}
    assert summary["tools"][0]["source"] == "weights" and "weights" not in summary["sources"]


def test_rerun_writes_nothing_new(tmp_path, mirror):
    root, commit = mirror
    out, sources = tmp_path / "out", _sources(tmp_path, commit)
    build_detect(sources, out, mirror=root, progress=False)
    before = {p: p.stat().st_mtime_ns for p in (out / "images").rglob("*")}
    again = build_detect(sources, out, mirror=root, progress=False)
    assert again.written == 0 and len(again.rows) == 3
    assert {p: p.stat().st_mtime_ns for p in (out / "images").rglob("*")} == before


def test_cli_skips_an_unreachable_source_and_names_it(tmp_path, mirror):
    root, commit = mirror
    out = tmp_path / "out"
    done = run_genscope("data", "build-detect", "--sources", str(_sources(tmp_path, commit, UNREACHABLE)),
                        "--out", str(out), "--mirror", str(root), "--quiet")
    assert done.returncode == 0, done.stderr
    assert "skipped gone" in done.stderr and "Traceback" not in done.stderr
    assert "skipped 1 source(s): gone" in done.stderr
    summary = json.loads((out / "build.json").read_text())
    assert [s["source"] for s in summary["skipped"]] == ["gone"] and summary["skipped"][0]["reason"]
    assert summary["sources"]["pics"]["kept"] == 3  # the build went on


def test_cli_reports_bad_arguments_in_one_line(tmp_path):
    done = run_genscope("data", "build-detect", "--out", str(tmp_path / "o"), "--sources", str(tmp_path / "no.csv"))
    assert done.returncode == 2 and done.stderr.strip().count("\n") == 0 and "no such file" in done.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "ftp,x,*,,real,s,,,\n")
    done = run_genscope("data", "build-detect", "--out", str(tmp_path / "o"), "--sources", str(bad))
    assert done.returncode == 2 and "kind must be" in done.stderr and "Traceback" not in done.stderr


def _tar_member(tar: tarfile.TarFile, name: str, data: bytes = b"", **fields) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in fields.items():
        setattr(info, key, value)
    tar.addfile(info, io.BytesIO(data) if data else None)


def test_hostile_sdist_members_never_write_outside_out(tmp_path):
    """A cached sdist (so no pip call) with ``..`` names, an absolute name and a symlink: only the plain file
    is read, and every file written is under OUT/images with a hash-made name."""
    out = tmp_path / "deep" / "out"
    cache = out / "cache" / "pypi"
    cache.mkdir(parents=True)
    good = encode(photo(32, 32, seed=9), "PNG")
    with tarfile.open(cache / "evil-1.0.tar.gz", "w:gz") as tar:
        _tar_member(tar, "evil-1.0/img/ok.png", good)
        _tar_member(tar, "evil-1.0/../../evil.png", encode(photo(32, 32, seed=10), "PNG"))
        _tar_member(tar, "/tmp/abs-evil.png", encode(photo(32, 32, seed=11), "PNG"))
        _tar_member(tar, "evil-1.0/img/link.png", type=tarfile.SYMTYPE, linkname="../../../etc/passwd")
    sources = tmp_path / "sources.csv"
    sources.write_text(HEADER + "pypi,evil==1.0 (sdist),**/*.png; ../../*.png,,generated,evil,,,\n")
    before = set(tmp_path.rglob("*"))
    result = build_detect(sources, out, progress=False)
    assert [r["origin"] for r in result.rows] == ["evil==1.0:img/ok.png"]
    created = set(tmp_path.rglob("*")) - before
    assert all(p == out or out in p.parents for p in created)
    assert not any("evil" in p.name for p in created if p.is_file() and p.suffix == ".png")
    assert not Path("/tmp/abs-evil.png").exists()


def test_shared_copies_are_dropped_by_hash_and_by_content(tmp_path, mirror):
    root, commit = mirror
    shared = tmp_path / "shared"
    (shared / "train").mkdir(parents=True)
    (shared / "train" / "same.png").write_bytes(encode(photo(40, 30, seed=1), "PNG"))  # = imgs/a.png
    # imgs/b.jpg's picture, re-encoded as a JPEG one pixel larger: another file, the same content
    (shared / "train" / "near.jpg").write_bytes(encode(photo(40, 30, seed=2).resize((41, 31)), "JPEG", quality=92))
    (shared / "manifest.csv").write_text("path,label\ntrain/same.png,real\ntrain/near.jpg,real\n")
    out = tmp_path / "out"
    result = build_detect(_sources(tmp_path, commit), out, mirror=root, shared=shared, progress=False)
    assert [r["origin"].rsplit(":", 1)[1] for r in result.rows] == ["nested/deep/er/c.jpg"]
    pics = result.summary["sources"]["pics"]
    assert pics["dropped"]["duplicate_of_shared"] == 2  # a.png and its copy dup.png
    assert pics["dropped"]["near_duplicate_of_shared"] == 1
    assert pics["near_duplicates"][0]["shared"] == "train/near.jpg"


def test_globs_braces_and_recursion(tmp_path):
    assert expand_braces("a/{b,c}/*.{png,jpg}") == ["a/b/*.png", "a/b/*.jpg", "a/c/*.png", "a/c/*.jpg"]
    path = tmp_path / "s.csv"
    path.write_text(HEADER + 'github,o/n@abcdef1,"GANs/{x,y}/*ex/[0-9]*.png; d/**",,real,s,,,\n')
    source = read_sources(path)[0]
    assert source.wants("GANs/x/some_ex/12.png") and not source.wants("GANs/x/some_ex/a1.png")
    assert source.wants("d/a/b/c.jpg") and source.wants("d/c.jpg") and not source.wants("GANs/z/ex/1.png")


def test_webp_carving_and_grid_tiles():
    webp = encode(photo(20, 10, seed=1), "WEBP", quality=80)
    blob = b"qres-junk" + webp + b"RIFF\xff\xff\xff\x7fWEBP" + webp
    assert [stream for _, stream in carve_webp(blob)] == [webp, webp]  # an over-long RIFF size is skipped
    assert [name for name, _ in rcc_images(blob)] == [f"#{9}", f"#{9 + len(webp) + 12}"]  # no rcc tree: offsets
    grid = encode(photo(512, 256, seed=2), "JPEG", quality=90)
    tiles = list(grid_tiles(grid, 256))
    assert [name for name, _ in tiles] == ["r0c0", "r0c1"]
    assert all(Image.open(io.BytesIO(data)).size == (256, 256) for _, data in tiles)
