"""The command line: exit codes, one-line errors, quiet mode, the example folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import REPO, SHARED, make_images, run_genscope


def test_examples_scan_like_the_readme(tmp_path: Path) -> None:
    completed = run_genscope("scan", str(REPO / "examples"), "--out", str(tmp_path / "out"))
    assert completed.returncode == 0, completed.stderr
    assert "scanned 6 inputs: 5 ok, 1 failed" in completed.stderr
    table = pq.read_table(tmp_path / "out" / "records.parquet")
    assert table.num_rows == 6
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["errors_by_code"] == {"decode.truncated": 1}
    assert (tmp_path / "out" / "report.html").stat().st_size > 10_000


def test_examples_are_real_size_and_the_a1111_one_carries_its_metadata() -> None:
    from PIL import Image

    import genscope

    examples = sorted((REPO / "examples").iterdir())
    assert sum(path.stat().st_size for path in examples) < 1_000_000  # the repository stays small
    assert (REPO / "examples" / "generated_a1111_parameters.png").stat().st_size < 300_000
    for path in examples:
        if path.name.startswith("broken"):
            continue
        with Image.open(path) as image:
            assert min(image.size) >= 256, (path, image.size)
    found = genscope.provenance(REPO / "examples" / "generated_a1111_parameters.png")
    assert found["ai"] == "yes" and found["metadata"]["tool"] == "a1111" and found["metadata"]["model"]


def test_usage_errors_exit_2_with_one_line(tmp_path: Path) -> None:
    make_images(tmp_path / "in", 1)
    for args, expected in (
        (["scan", str(tmp_path / "nope"), "--out", str(tmp_path / "o")], "no such file or folder"),
        (["scan", str(tmp_path / "in"), "--out", str(tmp_path / "o"), "--signals", "nosuch"], "unknown signal"),
        (["scan", str(tmp_path / "in"), "--out", str(tmp_path / "o"), "--workers", "0"], "must be at least 1"),
        (["scan", str(tmp_path / "in"), "--out", str(tmp_path / "o"), "--signal-option", "exif.nope=1"],
         "bad options for signal 'exif'"),
        (["scan", str(tmp_path / "in"), "--out", str(tmp_path / "o"), "--signal-option", "phash"],
         "expected SIGNAL.OPTION=VALUE"),
    ):
        completed = run_genscope(*args)
        assert completed.returncode == 2, (args, completed.stderr)
        lines = completed.stderr.strip().splitlines()
        assert expected in lines[-1] and "Traceback" not in completed.stderr


def test_out_that_is_a_file_is_refused(tmp_path: Path) -> None:
    make_images(tmp_path / "in", 1)
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "records.parquet").write_text("not a folder")
    completed = run_genscope("scan", str(tmp_path / "in"), "--out", str(tmp_path / "o"))
    assert completed.returncode == 2 and "not a records folder" in completed.stderr


def test_quiet_scan_of_hostile_metadata_prints_nothing(tmp_path: Path) -> None:
    maker = SHARED / "provenance" / "make_hostile.py"
    if not maker.is_file():
        pytest.skip(f"shared provenance fixtures not found at {maker.parent}")
    subprocess.run([sys.executable, str(maker), str(tmp_path / "hostile")], check=True, capture_output=True)
    completed = run_genscope("scan", str(tmp_path / "hostile"), "--out", str(tmp_path / "out"), "--quiet")
    assert completed.returncode == 0
    assert completed.stdout == "" and completed.stderr == ""  # Pillow's metadata warnings included
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["inputs"] == len(list((tmp_path / "hostile").iterdir())) == summary["ok"] + summary["failed"]
