"""The collection half reads records a batch at a time: the same answers as the whole table, samples that
say what they are, and parts on disk read without loading them together."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from genscope.analyses.audit import run_audit
from genscope.analyses.batches import Records, Reservoir
from genscope.analyses.diversity import prdc
from genscope.analyses.quantify import Calibration, estimate_share
from genscope.analyses.shortcuts import find_shortcuts
from genscope.api.audit import audit
from genscope.api.clean import clean


def records_table(n: int, seed: int = 0) -> pa.Table:
    """Synthetic records with scores, provenance, labels, shortcut facts and (mostly) vectors."""
    rng = np.random.default_rng(seed)
    generated = rng.random(n) < 0.4
    score = np.where(generated, rng.beta(5, 2, n), rng.beta(2, 5, n)).astype(np.float32)
    failed = rng.random(n) < 0.05
    vectors = rng.normal(size=(n, 6)).astype(np.float32) + generated[:, None]
    return pa.table({
        "path": [f"{'ab'[i % 2]}/{i:05d}.png" for i in range(n)], "shard": pa.nulls(n, pa.string()),
        "error": pa.array(np.where(failed, "decode.truncated", None)),
        "format": np.where(generated, "png", "jpeg"), "mode": ["RGB"] * n, "bytes": rng.integers(1000, 9000, n),
        "width": rng.integers(300, 900, n).astype(np.int32), "height": rng.integers(300, 900, n).astype(np.int32),
        "meta": [json.dumps({"label": "generated" if g else "real"}) for g in generated],
        "provenance.ai": np.where(rng.random(n) < 0.05, np.where(generated, "yes", "no"), "unknown"),
        "detector.ai_score": pa.array(np.where(failed, np.nan, score), pa.float32(), from_pandas=True),
        "detector.threshold": np.full(n, 0.5, np.float32),
        "descriptor.vector": pa.array([None if rng.random() < 0.1 else list(v) for v in vectors],
                                      pa.list_(pa.float32(), 6)),
    })


def calibration() -> Calibration:
    rng = np.random.default_rng(9)
    labels = rng.random(500) < 0.5
    return Calibration(np.where(labels, rng.beta(5, 2, 500), rng.beta(2, 5, 500)), labels)


def write_parts(table: pa.Table, folder: Path, rows: int) -> Path:
    parts = folder / "records.parquet"
    parts.mkdir(parents=True)
    for start in range(0, table.num_rows, rows):
        pq.write_table(table.slice(start, rows), parts / f"part-{start:08d}.parquet")
    return folder


def same_rows(a: pa.Table, b: pa.Table) -> bool:
    """Equal tables, a NaN score equal to a NaN score (Arrow's ``equals`` says NaN differs from itself)."""
    return a.to_pandas().equals(b.to_pandas())


def test_reservoir_keeps_everything_in_order_below_its_size_and_a_uniform_sample_above() -> None:
    small = Reservoir(10, seed=1)
    small.add(np.arange(4), np.arange(4) * 10)
    small.add(np.arange(4, 7), np.arange(4, 7) * 10)
    rows, payload = small.rows()
    assert rows.tolist() == list(range(7)) and payload.tolist() == [10 * r for r in range(7)] and not small.sampled
    large = Reservoir(1000, seed=1)
    for start in range(0, 100_000, 777):
        large.add(np.arange(start, min(start + 777, 100_000)))
    (rows,) = large.rows()
    assert large.seen == 100_000 and large.sampled and len(set(rows.tolist())) == len(rows) == 1000
    assert np.all(np.diff(rows) > 0)  # in the records' order
    assert [int(c) for c in np.histogram(rows, bins=4, range=(0, 100_000))[0]] == pytest.approx([250] * 4, abs=60)


def test_batched_audit_equals_the_whole_table_computed_at_once(tmp_path: Path) -> None:
    table = records_table(900)
    cal = calibration()
    streamed = run_audit(Records(table=table, batch_rows=7), calibration=cal, labels="label", by="format")
    # The same figures from the whole table at once, as the audit computed them before it read in batches.
    scores = table.column("detector.ai_score").to_numpy(zero_copy_only=False).astype(np.float64)
    provenance = np.array(table.column("provenance.ai").to_pylist())
    proven, proven_real = provenance == "yes", provenance == "no"
    estimate = estimate_share(scores[~proven_real], cal, 0.5, known_generated=proven[~proven_real])
    scale = estimate.rows / (estimate.rows + proven_real.sum())
    share = streamed.summary["share"]
    assert share["estimate"] == round(estimate.share * scale, 5) and share["low"] == round(estimate.low * scale, 5)
    assert share["detector_generated"] == int((scores[~np.isnan(scores)] >= 0.5).sum())
    labels = np.array([json.loads(m)["label"] == "generated" for m in table.column("meta").to_pylist()])
    decoded = np.array([e is None for e in table.column("error").to_pylist()])
    assert share["labelled_share"] == round(float(labels.mean()), 5)
    expected = [s.as_dict() for s in find_shortcuts(table.filter(pa.array(decoded)), labels[decoded])]
    assert streamed.summary["shortcuts"] == expected
    has = decoded & np.array([v is not None for v in table.column("descriptor.vector").to_pylist()])
    vectors = np.array([v if v is not None else [0.0] * 6 for v in table.column("descriptor.vector").to_pylist()],
                       np.float32)
    diversity = prdc(vectors[has & ~labels], vectors[has & labels]).as_dict()
    assert streamed.summary["diversity"] == {"embeddings": "descriptor.vector", **diversity}
    assert "samples" not in streamed.summary  # nothing was sampled
    # Parts on disk, read in batches of 7 rows, give the same audit and the same per-image table.
    on_disk = write_parts(table, tmp_path / "scan", rows=100)
    parts = Records.of(on_disk)
    parts.batch_rows = 7
    from_parts = run_audit(parts, calibration=cal, labels="label", by="format")
    assert from_parts.summary == streamed.summary
    assert same_rows(from_parts.per_image, streamed.per_image)
    whole = run_audit(table, calibration=cal, labels="label", by="format")
    assert whole.summary == streamed.summary


def test_audit_above_its_sample_size_says_how_many_rows_it_sampled(tmp_path: Path) -> None:
    table = records_table(600, seed=3)
    found = audit(write_parts(table, tmp_path / "scan", rows=64), labels="label", calibration=calibration(),
                  sample=150)
    samples = found.summary["samples"]
    decoded = table.column("error").null_count
    assert samples["size"] == 150 and samples["shortcuts"] == {"rows": 150, "of": decoded}
    assert samples["diversity"]["real"] == samples["diversity"]["generated"] == 150
    assert samples["report"] == {"rows": 150, "of": 600} and found.records.num_rows == 150
    assert any("uniform sample of 150 of" in note for note in found.summary["notes"])
    assert found.summary["share"]["rows"] == 600  # counts and the share use every row
    outside = found.per_image.column("outside_real_manifold")
    assert found.per_image.num_rows == 600 and len(outside) - outside.null_count == 150
    again = audit(tmp_path / "scan", labels="label", calibration=calibration(), sample=150)
    assert again.summary == found.summary  # seeded


def test_clean_read_in_batches_keeps_what_the_whole_table_keeps(tmp_path: Path) -> None:
    table = records_table(500, seed=5)
    whole = clean(table, 0.05, calibration=calibration())
    folder = write_parts(table, tmp_path / "scan", rows=33)
    streamed = clean(folder, 0.05, calibration=calibration())
    assert streamed.summary == whole.summary and streamed.kept.equals(whole.kept)
    keep_list = streamed.write_keep_list(tmp_path / "keep.parquet")
    assert pq.read_table(keep_list).equals(whole.kept)
    csv = streamed.write_keep_list(tmp_path / "keep.csv").read_text().splitlines()
    assert len(csv) == whole.plan.kept + 1 and "descriptor.vector" not in csv[0]


def test_audit_help_states_the_sample_default() -> None:
    import argparse

    from genscope.analyses.audit import AUDIT_SAMPLE
    from genscope.cli import audit as command

    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers())
    sample = next(a for a in parser._subparsers._group_actions[0].choices["audit"]._actions if a.dest == "sample")
    assert f"default {AUDIT_SAMPLE:,}:" in sample.help
