"""A scan killed with SIGKILL and rerun ends with every input exactly once, reusing finished work."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pyarrow.parquet as pq

import genscope

from conftest import genscope_command, make_images


def _env() -> dict[str, str]:
    # The test signals' folder, before this checkout's genscope where PYTHONPATH names it.
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}


def test_sigkill_midway_then_rerun_gives_each_input_once(tmp_path: Path) -> None:
    make_images(tmp_path / "in", 400)
    out = tmp_path / "out"
    args = ["scan", str(tmp_path / "in"), "--out", str(out), "--workers", "2", "--quiet",
            "--signals", "exif,phash,support_signals:SlowSignal"]
    env = _env()
    process = subprocess.Popen(genscope_command(*args), env=env, start_new_session=True)
    parts = out / "records.parquet"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(parts.glob("part-*.parquet")):
        time.sleep(0.1)
    assert process.poll() is None, "the scan finished before it could be killed; make it slower"
    os.killpg(process.pid, signal.SIGKILL)  # the whole group: the CLI and its workers
    process.wait(30)
    done_before = sum(pq.read_metadata(p).num_rows for p in parts.glob("part-*.parquet"))
    assert 0 < done_before < 400
    assert not (out / "summary.json").exists()

    rerun = subprocess.run(genscope_command(*args), env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    table = _every_input_once(parts, out, 400, done_before)
    assert table.filter(table.column("error").is_valid()).num_rows == 0


def test_rerun_recomputes_only_missing_signals_and_changed_files(tmp_path: Path) -> None:
    images = make_images(tmp_path / "in", 12)
    out = tmp_path / "out"
    first = genscope.scan(tmp_path / "in", out, signals=["exif"], workers=1, report=False, progress=False)
    before = {row["path"]: row for row in first.records.to_pylist()}

    images[0].write_bytes(images[1].read_bytes())  # one file changes content
    (tmp_path / "in" / "new.jpg").write_bytes(images[2].read_bytes())  # one file is new
    images[3].unlink()  # one file is gone
    second = genscope.scan(tmp_path / "in", out, signals=["exif", "phash"], workers=1, report=False,
                           progress=False)
    rows = {row["path"]: row for row in second.records.to_pylist()}
    assert len(rows) == 12 and str(images[3]) not in rows
    assert all(row["phash.hash"] is not None and row["exif.version"] == "1" for row in rows.values())
    assert rows[str(images[0])]["sha256"] == before[str(images[1])]["sha256"]
    timing = second.summary["timing"]
    assert timing["computed"] == 12 and timing["reused_from_previous_run"] == 0
    assert timing["images_per_signal"] == {"exif": 2, "phash": 12}  # exif: the changed and the new file

    third = genscope.scan(tmp_path / "in", out, signals=["exif", "phash"], workers=1, report=False,
                          progress=False)
    assert third.summary["timing"]["computed"] == 0
    assert third.summary["timing"]["reused_from_previous_run"] == 12
    assert third.records.sort_by("path").drop_columns(["elapsed_ms"]).equals(
        second.records.sort_by("path").drop_columns(["elapsed_ms"]))


def test_a_rerun_with_fewer_inputs_is_refused_unless_replace(tmp_path: Path) -> None:
    from conftest import run_genscope

    paths = make_images(tmp_path / "in", 4)
    out = tmp_path / "out"
    first = genscope.scan(tmp_path / "in", out, signals=["container"], workers=1, report=False, progress=False)
    assert first.summary["earlier_rows_dropped"] == 0
    fewer = ["scan", str(paths[0]), str(paths[1]), "--out", str(out), "--signals", "container", "-q"]
    refused = run_genscope(*fewer)
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "2 rows for inputs not given this time" in refused.stderr and "--replace" in refused.stderr
    assert pq.read_table(out / "records.parquet").num_rows == 4  # nothing touched

    replaced = run_genscope(*fewer, "--replace")
    assert replaced.returncode == 0 and replaced.stderr == "", replaced.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["earlier_rows_dropped"] == 2 and summary["inputs"] == 2
    assert pq.read_table(out / "records.parquet").num_rows == 2


def test_files_gone_from_a_named_folder_leave_with_a_note(tmp_path: Path) -> None:
    from conftest import run_genscope

    paths = make_images(tmp_path / "in", 3)
    out = tmp_path / "out"
    args = ["scan", str(tmp_path / "in"), "--out", str(out), "--signals", "container", "-q"]
    assert run_genscope(*args).returncode == 0
    paths[0].unlink()
    done = run_genscope(*args)
    assert done.returncode == 0 and "note: dropped 1 row of an earlier run" in done.stderr
    assert pq.read_table(out / "records.parquet").num_rows == 2


def _shards(folder: Path, count: int, per_shard: int) -> None:
    import io
    import tarfile

    folder.mkdir(parents=True)
    images = make_images(folder.parent / "loose", per_shard)
    for s in range(count):
        with tarfile.open(folder / f"{s:05d}.tar", "w") as archive:
            for k, image in enumerate(images):
                data = image.read_bytes() + bytes([s % 256, s // 256])  # distinct bytes per shard
                info = tarfile.TarInfo(f"{s:05d}{k:04d}.jpg")
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))


def test_sigkill_midway_through_shards_then_rerun_gives_each_input_once(tmp_path: Path) -> None:
    _shards(tmp_path / "shards", 40, 10)  # the driver plans 40 units; workers list each shard
    out = tmp_path / "out"
    args = ["scan", str(tmp_path / "shards"), "--out", str(out), "--workers", "2", "--quiet",
            "--signals", "exif,support_signals:SlowSignal"]
    env = _env()
    process = subprocess.Popen(genscope_command(*args), env=env, start_new_session=True)
    parts = out / "records.parquet"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(parts.glob("part-*.parquet"))) < 3:
        time.sleep(0.05)
    assert process.poll() is None, "the scan finished before it could be killed; make it slower"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(30)
    done_before = len({p for part in parts.glob("part-*.parquet")
                       for p in pq.read_table(part, columns=["path"]).column("path").to_pylist()})
    assert 0 < done_before < 400

    rerun = subprocess.run(genscope_command(*args), env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    _every_input_once(parts, out, 400, done_before)


def test_a_folder_whose_runs_shift_still_resumes_every_row(tmp_path: Path) -> None:
    from genscope.engine import EngineOptions

    images = make_images(tmp_path / "in", 10)
    out = tmp_path / "out"
    small_units = EngineOptions(workers=1, unit_size=4)  # runs of 4 files: img_0..3, 4..7, 8..9
    genscope.scan(tmp_path / "in", out, signals=["exif"], engine=small_units, report=False, progress=False)
    (tmp_path / "in" / "aaa.jpg").write_bytes(images[0].read_bytes())  # sorts first: every run shifts
    again = genscope.scan(tmp_path / "in", out, signals=["exif"], engine=small_units, report=False, progress=False)
    assert again.summary["timing"]["reused_from_previous_run"] == 10
    assert again.summary["timing"]["computed"] == 1 and again.summary["earlier_rows_dropped"] == 0
    paths = again.records.column("path").to_pylist()
    assert len(paths) == len(set(paths)) == 11
    images[5].unlink()  # gone from a named folder: dropped with a note, never refused
    third = genscope.scan(tmp_path / "in", out, signals=["exif"], engine=small_units, report=False, progress=False)
    assert third.summary["earlier_rows_dropped"] == 1 and third.records.num_rows == 10
    assert third.summary["timing"]["reused_from_previous_run"] == 10


def _every_input_once(parts: Path, out: Path, inputs: int, done_before: int):
    """After a killed run and its rerun: one row per input, and the rows finished before the kill were reused."""
    table = pq.read_table(parts)
    paths = table.column("path").to_pylist()
    assert len(paths) == inputs == len(set(paths))
    timing = json.loads((out / "summary.json").read_text())["timing"]
    assert timing["reused_from_previous_run"] == done_before
    assert timing["computed"] == inputs - done_before
    return table
