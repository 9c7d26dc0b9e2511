"""Edges a new user or a hostile file hits (issue 16): each was a crash, a hang or a misleading line."""

from __future__ import annotations

import json
import os
import sys
import tarfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from PIL import Image

import genscope
from genscope.text import plural

from conftest import make_images, run_genscope
from hostile import bomb_png, encode, photo, tiff_damaged


def _empty_tar(path: Path) -> Path:
    note = path.with_suffix(".txt")
    note.write_text("no image here")
    with tarfile.open(path, "w") as archive:
        archive.add(note, arcname="note.txt")
    return path


@pytest.mark.parametrize("kind", ["folder", "tar"])
def test_a_scan_of_zero_inputs_writes_empty_outputs_and_says_so(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "empty"
    if kind == "folder":
        target.mkdir()
    else:
        target = _empty_tar(tmp_path / "empty.tar")
    out = tmp_path / "out"
    done = run_genscope("scan", str(target), "--out", str(out), "--signals", "exif,provenance", "-q")
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("\n") == 1 and "no images found in" in done.stderr
    table = pq.read_table(out / "records.parquet")
    assert table.num_rows == 0 and {"path", "error", "exif.make", "provenance.ai"} <= set(table.column_names)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["inputs"] == summary["ok"] == summary["failed"] == 0
    assert (out / "report.html").stat().st_size > 1000


def test_detect_of_an_empty_folder_says_so_without_loading_a_model(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    done = run_genscope("detect", str(tmp_path / "empty"), env_extra={"GENSCOPE_MODELS": str(tmp_path / "none"),
                                                                      "GENSCOPE_AUTO_FETCH": "0"})
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr.count("\n") == 1 and "no images found in" in done.stderr


def test_dedup_of_an_empty_folder_writes_empty_outputs(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    done = run_genscope("dedup", str(tmp_path / "empty"), "--out", str(tmp_path / "dd"), "-q")
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("\n") == 1 and "no images found in" in done.stderr
    assert json.loads((tmp_path / "dd" / "summary.json").read_text())["inputs"] == 0
    assert (tmp_path / "dd" / "keep.txt").read_text() == ""
    assert pq.read_table(tmp_path / "dd" / "pairs.parquet").num_rows == 0


def test_provenance_reads_heic_like_the_scan(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Apple", "iPhone 15"
    heic = tmp_path / "camera.heic"
    heic.write_bytes(encode(photo(), "HEIF", quality=80, exif=exif.tobytes()))  # hostile registered pillow-heif
    done = run_genscope("provenance", str(heic), "--json")  # a fresh process: nothing registered for it
    record = json.loads(done.stdout)
    assert record["error"] is None and record["camera"]["make"] == "Apple", record["errors"]


def test_provenance_refuses_fifos_and_devices_without_opening_them(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo.jpg")
    done = run_genscope("provenance", str(tmp_path / "fifo.jpg"), "/dev/zero", "--json", timeout=60)
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["error"] for r in records] == ["io.not_regular", "io.not_regular"]


def test_provenance_names_a_bomb_and_says_why() -> None:
    record = genscope.provenance(bomb_png())
    assert record["error"] == "image.bomb" and "exceeds" in record["error_message"]


def test_a_bare_jpeg_xl_codestream_is_not_a_malformed_manifest() -> None:
    record = genscope.provenance(b"\xff\x0a" + bytes(range(200)))
    assert "c2pa.malformed" not in record["errors"] and record["c2pa"]["present"] is False
    assert not any("manifest" in reason for reason in record["reasons"])


def test_quiet_means_quiet_for_libtiff_too(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    for compression in ("tiff_lzw", "tiff_adobe_deflate"):
        (tmp_path / "in" / f"{compression}.tif").write_bytes(tiff_damaged(compression))
    done = run_genscope("scan", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--signals", "exif", "-q")
    assert done.returncode == 0 and done.stderr == ""
    assert pq.read_table(tmp_path / "out" / "records.parquet").column("error").to_pylist() == ["decode.corrupt"] * 2


def test_audit_of_an_image_folder_says_to_scan_first(tmp_path: Path) -> None:
    make_images(tmp_path / "in", 1)
    done = run_genscope("audit", str(tmp_path / "in"), "--out", str(tmp_path / "audit"))
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert f"run `genscope scan {tmp_path / 'in'} --out SCAN_DIR` first" in done.stderr


@pytest.mark.parametrize("command", [["scan", "--out", "OUT", "--signals", "exif"], ["detect"]])
def test_an_http_url_is_refused_as_an_input(tmp_path: Path, command: list[str]) -> None:
    args = [a.replace("OUT", str(tmp_path / "out")) for a in command]
    done = run_genscope(args[0], "https://example.com/cat.jpg", *args[1:])
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "HTTP(S) URLs are not inputs" in done.stderr


def test_explain_of_a_missing_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = run_genscope("explain", str(tmp_path / "nope.jpg"), "--out", str(tmp_path / "heat.png"))
    assert done.returncode == 2 and done.stderr == f"genscope explain: no such file: {tmp_path / 'nope.jpg'}\n"


def test_an_unknown_option_is_named_on_one_line(tmp_path: Path) -> None:
    done = run_genscope("scan", str(tmp_path), "--ouput", str(tmp_path / "out"))
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "unknown option --ouput (did you mean --out?)" in done.stderr


def test_counts_take_the_singular_for_one(tmp_path: Path) -> None:
    assert (plural(1, "image"), plural(0, "image"), plural(2, "copy", "copies")) == ("1 image", "0 images", "2 copies")
    make_images(tmp_path / "in", 1)
    done = run_genscope("scan", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--signals", "exif")
    assert done.returncode == 0 and "scanned 1 input: 1 ok" in done.stderr, done.stderr


def test_help_shows_defaults_and_plain_percent_signs() -> None:
    scan = run_genscope("scan", "--help").stdout
    assert "(default: 60.0)" in scan and "(default: 256M)" in scan and "(default: 100000000)" in scan
    replicate = run_genscope("replicate", "--help").stdout
    assert "95% CI" in replicate and "%%" not in replicate


def test_to_pandas_names_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_images(tmp_path / "in", 1)
    result = genscope.scan(tmp_path / "in", tmp_path / "out", signals=["exif"], workers=1, report=False,
                           progress=False)
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if pandas were not installed
    with pytest.raises(ImportError, match="pip install pandas"):
        result.to_pandas()
