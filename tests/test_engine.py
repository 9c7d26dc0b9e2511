"""The engine isolates failures: a signal that raises, hangs, crashes its process or cannot
start never costs a row, and only the image that caused it is marked."""

from __future__ import annotations

from pathlib import Path

import pytest

import genscope
from genscope.engine import EngineOptions
from genscope.engine.base import EngineError

from conftest import make_images, run_genscope
from hostile import encode, photo


def _rows(result) -> dict[str, dict]:
    return {Path(row["path"]).name: row for row in result.records.to_pylist()}


def test_signal_exceptions_are_isolated_per_image(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    make_images(folder, 6)
    for name in ("boom.jpg", "refuse.jpg", "badtype.jpg"):
        (folder / name).write_bytes(encode(photo(seed=3), "JPEG"))
    result = genscope.scan(folder, tmp_path / "out", signals=["support_signals:FlakySignal"],
                           engine=EngineOptions(workers=1, batch_size=4), report=False, progress=False)
    rows = _rows(result)
    assert len(rows) == 9
    assert rows["boom.jpg"]["flaky.error"].startswith("signal.exception: RuntimeError: kaboom")
    assert rows["refuse.jpg"]["flaky.error"] == "flaky.refused: refused on purpose"
    assert rows["badtype.jpg"]["flaky.error"].startswith("signal.exception")
    good = [row for name, row in rows.items() if name.startswith("img_")]
    assert all(row["flaky.value"] == 48 and row["flaky.error"] is None for row in good)
    assert all(row["error"] is None for row in rows.values())  # the image itself decoded fine
    assert result.summary["signal_errors"] == {"flaky": 3}


def test_a_hanging_file_times_out_and_a_crashing_file_is_marked(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    make_images(folder, 10)
    (folder / "hang.jpg").write_bytes(encode(photo(seed=4), "JPEG"))
    (folder / "crash.jpg").write_bytes(encode(photo(seed=5), "JPEG"))
    result = genscope.scan(folder, tmp_path / "out", signals=["support_signals:HangSignal"],
                           engine=EngineOptions(workers=2, batch_size=4), timeout_s=2.0, report=False, progress=False)
    rows = _rows(result)
    assert len(rows) == 12
    assert rows["hang.jpg"]["error"] == "timeout"
    assert rows["crash.jpg"]["error"] == "worker.crashed"
    others = [row for name, row in rows.items() if name.startswith("img_")]
    assert all(row["error"] is None and row["hang.value"] == row["bytes"] for row in others)


def test_a_signal_that_cannot_start_fails_the_scan_clearly(tmp_path: Path) -> None:
    make_images(tmp_path / "in", 2)
    with pytest.raises(EngineError, match="model weights not found"):
        genscope.scan(tmp_path / "in", tmp_path / "out", signals=["support_signals:BrokenSignal"], workers=1,
                      report=False, progress=False)
    completed = run_genscope("scan", str(tmp_path / "in"), "--out", str(tmp_path / "out2"),
                             "--signals", "support_signals:BrokenSignal")
    assert completed.returncode == 1
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and "model weights not found" in lines[0] and "Traceback" not in completed.stderr


def test_batches_of_any_size_give_the_same_records(tmp_path: Path) -> None:
    make_images(tmp_path / "in", 11)
    tables = []
    for batch in (1, 4, 32):
        result = genscope.scan(tmp_path / "in", tmp_path / f"out{batch}",
                               engine=EngineOptions(workers=2, batch_size=batch), report=False, progress=False)
        tables.append(result.records.drop_columns(["elapsed_ms"]).sort_by("path").to_pylist())
    assert tables[0] == tables[1] == tables[2]
