"""Hostile inputs: every file is exactly one row with the exact error code, never a crash.

The corpus is built once at collection time so that each case is its own test.
"""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import run_genscope
from hostile import LONG_NAME, Case, build_corpus

ROOT = Path(tempfile.mkdtemp(prefix="genscope-hostile-"))
atexit.register(shutil.rmtree, ROOT, ignore_errors=True)
CORPUS = ROOT / "corpus"
CASES = build_corpus(CORPUS)


@pytest.fixture(scope="module")
def scan() -> tuple[dict[str, dict], object]:
    out = ROOT / "out"
    completed = run_genscope("scan", str(CORPUS), "--out", str(out), "--quiet", "--workers", "2",
                             "--timeout", "30", drop_root_privileges=True)
    assert completed.returncode == 0, completed.stderr
    rows = {row["path"]: row for row in pq.read_table(out / "records.parquet").to_pylist()}
    return rows, completed


def test_scan_exits_zero_and_quiet_prints_nothing(scan) -> None:
    _, completed = scan
    assert completed.returncode == 0
    assert completed.stdout == "" and completed.stderr == ""


def test_exactly_one_row_per_input_and_counts_add_up(scan) -> None:
    rows, _ = scan
    assert set(rows) == {str(CORPUS / case.name) for case in CASES}
    summary = json.loads((ROOT / "out" / "summary.json").read_text())
    assert summary["inputs"] == len(CASES) == summary["ok"] + summary["failed"]
    assert summary["failed"] == sum(1 for case in CASES if case.error)
    assert sum(summary["errors_by_code"].values()) == summary["failed"]


@pytest.mark.parametrize("case", CASES, ids=[c.name[:48] for c in CASES])
def test_case_outcome(scan, case: Case) -> None:
    rows, _ = scan
    row = rows[str(CORPUS / case.name)]
    assert row["error"] == case.error, row["error_message"]
    if case.error is not None:
        assert row["error_message"]
    else:
        assert row["sha256"] and len(row["sha256"]) == 64 and row["width"] and row["height"]
    if case.format is not None:
        assert row["format"] == case.format
    for column, value in case.checks.items():
        actual = json.loads(row["meta"])["caption"] if column == "meta_caption" else row[column]
        assert actual == value, column


def test_tar_member_names_are_never_used_as_paths(scan) -> None:
    rows, _ = scan
    assert f"{CORPUS / 'shard.tar'}/../evil.jpg" in rows
    assert not (CORPUS.parent / "evil.jpg").exists() and not (ROOT / "out" / "evil.jpg").exists()


def test_long_and_non_utf8_names_are_kept_readable(scan) -> None:
    rows, _ = scan
    assert rows[str(CORPUS / LONG_NAME)]["error"] is None
    assert rows[str(CORPUS / "caf\\xe9_latin1.png")]["error"] is None
