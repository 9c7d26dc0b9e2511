"""``genscope audit`` and ``genscope clean`` end to end, with a stand-in detector whose truth is known."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image

import genscope
from genscope.analyses.quantify import Calibration

from conftest import run_genscope

FAKE = "support_signals:RednessDetector"


def _tinted(path: Path, red: float, seed: int) -> None:
    """An image whose mean red is about ``red`` (what the stand-in detector scores)."""
    rng = np.random.default_rng(seed)
    pixels = np.empty((24, 24, 3), np.uint8)
    pixels[..., 0] = np.clip(rng.normal(red * 255, 6, (24, 24)), 0, 255)
    pixels[..., 1:] = rng.integers(0, 255, (24, 24, 2))
    Image.fromarray(pixels).save(path, "PNG")


def _collection(folder: Path, generated: int, real: int, seed: int) -> list[tuple[Path, str]]:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(generated + real):
        is_generated = i < generated
        red = rng.uniform(0.45, 0.95) if is_generated else rng.uniform(0.05, 0.55)  # overlapping: the detector errs
        path = folder / f"img_{i:04d}.png"
        _tinted(path, red, seed * 1000 + i)
        rows.append((path, "generated" if is_generated else "real"))
    return rows


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("audit")
    held_out = _collection(root / "calibration", 60, 60, seed=1)
    result = genscope.scan(root / "calibration", root / "cal-scan", signals=[FAKE], workers=2, report=False,
                           progress=False)
    labels = {str(path): label == "generated" for path, label in held_out}
    table = result.records
    Calibration(np.array(table.column("detector.ai_score").to_pylist(), dtype=np.float64),
                np.array([labels[p] for p in table.column("path").to_pylist()])).save(root / "cal.npz")
    target = _collection(root / "target", 45, 105, seed=2)  # 30 % generated
    with open(root / "manifest.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "label", "source"])
        writer.writerows((f"target/{path.name}", label, "A" if i % 2 else "B")
                         for i, (path, label) in enumerate(target))
    completed = run_genscope("scan", str(root / "manifest.csv"), "--out", str(root / "scan"), "--quiet",
                             "--signals", f"container,{FAKE}")
    assert completed.returncode == 0, completed.stderr
    return {"root": root, "scan": root / "scan", "calibration": root / "cal.npz"}


def test_audit_estimates_the_share_with_an_interval(scanned) -> None:
    out = scanned["root"] / "audit"
    completed = run_genscope("audit", str(scanned["scan"]), "--out", str(out), "--calibration",
                             str(scanned["calibration"]), "--by", "source", "--labels", "label")
    assert completed.returncode == 0, completed.stderr
    assert "generated share" in completed.stderr
    audit = json.loads((out / "audit.json").read_text())
    share = audit["share"]
    assert share["labelled_share"] == pytest.approx(0.3)
    assert share["low"] <= 0.3 <= share["high"] and share["high"] - share["low"] < 0.3
    assert abs(share["estimate"] - 0.3) < abs(share["naive_count"] - 0.3) + 0.02
    assert set(audit["groups"]) == {"A", "B"} and all("estimate" in g for g in audit["groups"].values())
    assert audit["labels_used"] == "labels from 'label'"
    assert audit["shortcuts"] and all(0.5 <= s["auc"] <= 1 for s in audit["shortcuts"])
    images = pq.read_table(out / "audit_images.parquet")
    assert images.num_rows == 150
    html = (out / "report.html").read_text()
    assert "Dataset impact" in html and "95 % interval" in html and "By source" in html


def test_clean_meets_the_target_and_says_what_it_costs(scanned) -> None:
    keep = scanned["root"] / "keep.csv"
    completed = run_genscope("clean", str(scanned["scan"]), "--max-generated", "5%", "--out", str(keep),
                             "--calibration", str(scanned["calibration"]))
    assert completed.returncode == 0, completed.stderr
    plan = json.loads(completed.stdout)
    assert plan["reachable"] and plan["residual_share"] <= 0.05 and plan["real_dropped"] > 0
    with open(keep, newline="") as handle:
        kept = list(csv.DictReader(handle))
    assert len(kept) == plan["kept"] > 0
    assert all(float(row["detector.ai_score"]) < plan["cut"] for row in kept)
    truly_generated = sum(json.loads(row["meta"])["label"] == "generated" for row in kept)
    assert truly_generated / len(kept) < 0.12  # the true residual is near the estimate, far below 30 %


def test_clean_without_detector_scores_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    _tinted(tmp_path / "in" / "a.png", 0.5, 0)
    genscope.scan(tmp_path / "in", tmp_path / "scan", signals=["exif"], workers=1, report=False, progress=False)
    completed = run_genscope("clean", str(tmp_path / "scan"), "--max-generated", "1%", "--out", str(tmp_path / "k.csv"))
    assert completed.returncode == 2 and "no detector scores" in completed.stderr


def test_clean_drops_duplicate_copies_found_by_dedup(scanned, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    _collection(folder, 5, 15, seed=3)
    for i in range(3):  # three byte-identical copies of one real image
        (folder / f"copy_{i}.png").write_bytes((folder / "img_0010.png").read_bytes())
    genscope.scan(folder, tmp_path / "scan", signals=[FAKE], workers=1, report=False, progress=False)
    dedup = run_genscope("dedup", str(folder), "--out", str(tmp_path / "dd"), "--exact-only", "--quiet")
    assert dedup.returncode == 0, dedup.stderr
    keep = tmp_path / "keep.parquet"
    completed = run_genscope("clean", str(tmp_path / "scan"), "--max-generated", "20%", "--out", str(keep),
                             "--calibration", str(scanned["calibration"]), "--drop-duplicates", str(tmp_path / "dd"))
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["dropped_as_duplicates"] == 3
    kept = [Path(p).name for p in pq.read_table(keep).column("path").to_pylist()]
    copies = [name for name in kept if name.startswith("copy_") or name == "img_0010.png"]
    assert len(copies) <= 1  # at most the group's representative survives
    missing = run_genscope("clean", str(tmp_path / "scan"), "--max-generated", "20%", "--out", str(keep),
                           "--calibration", str(scanned["calibration"]), "--drop-duplicates", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "genscope dedup" in missing.stderr


def test_clean_keeps_csv_cells_flat_with_the_shipped_detector(tmp_path: Path) -> None:
    """The shipped detector writes a map column (``detector.generator``): the CSV keep-list leaves it out,
    the Parquet one keeps it."""
    from conftest import make_images

    make_images(tmp_path / "in", 4, size=(96, 64))
    done = run_genscope("scan", str(tmp_path / "in"), "--out", str(tmp_path / "scan"), "--quiet",
                        "--signals", "detector")
    assert done.returncode == 0, done.stderr
    kept = {}
    for name in ("keep.csv", "keep.parquet"):
        completed = run_genscope("clean", str(tmp_path / "scan"), "--max-generated", "50%",
                                 "--out", str(tmp_path / name))
        assert completed.returncode == 0, completed.stderr
        kept[name] = json.loads(completed.stdout)["kept"]
    with open(tmp_path / "keep.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    parquet = pq.read_table(tmp_path / "keep.parquet")
    assert len(rows) == kept["keep.csv"] and parquet.num_rows == kept["keep.parquet"]
    header = list(rows[0]) if rows else []
    assert "path" in header and "detector.ai_score" in header and "detector.generator" not in header
    assert "detector.generator" in parquet.column_names


def test_audit_takes_embeddings_from_a_file(scanned, tmp_path: Path) -> None:
    """``--embeddings`` also reads features computed elsewhere: a .npz matched by path, or a .npy in the
    order of the sorted paths; both give the same diversity figures, and a wrong row count is refused."""
    table = pq.read_table(scanned["scan"] / "records.parquet", columns=["path", "meta"])
    paths = sorted(table.column("path").to_pylist())
    label = {r["path"]: json.loads(r["meta"])["label"] for r in table.to_pylist()}
    rng = np.random.default_rng(0)
    # generated images sit in a narrow corner of the real images' spread: precision high, recall low
    vectors = np.array([rng.normal(0, 0.2 if label[p] == "generated" else 1.0, 16) for p in paths], np.float32)
    np.savez(tmp_path / "feats.npz", path=np.array(paths), vectors=vectors)
    np.save(tmp_path / "feats.npy", vectors)
    found = {}
    for name in ("feats.npz", "feats.npy"):
        out = tmp_path / f"audit-{name}"
        done = run_genscope("audit", str(scanned["scan"]), "--out", str(out), "--labels", "label",
                            "--calibration", str(scanned["calibration"]), "--embeddings", str(tmp_path / name))
        assert done.returncode == 0, done.stderr
        found[name] = json.loads((out / "audit.json").read_text())["diversity"]
    assert {k: v for k, v in found["feats.npz"].items() if k != "embeddings"} == \
        {k: v for k, v in found["feats.npy"].items() if k != "embeddings"}
    assert found["feats.npy"]["precision"] > found["feats.npy"]["recall"]
    np.save(tmp_path / "short.npy", vectors[:-1])
    refused = run_genscope("audit", str(scanned["scan"]), "--out", str(tmp_path / "x"), "--embeddings",
                           str(tmp_path / "short.npy"), "--calibration", str(scanned["calibration"]))
    assert refused.returncode == 2 and "149 vectors for 150 records" in refused.stderr


def test_audit_and_clean_are_library_calls_with_one_result_shape(scanned, tmp_path: Path) -> None:
    """``genscope.audit`` and ``genscope.clean`` give what the commands print, from Python, on a folder or a
    table, and save the same files."""
    calibration = Calibration.load(scanned["calibration"])
    table = genscope.read_records(scanned["scan"])
    from_folder = genscope.audit(scanned["scan"], calibration=scanned["calibration"], by="source")
    from_table = genscope.audit(table, calibration=calibration, by="source")
    assert from_folder.summary["share"] == from_table.summary["share"]
    assert set(from_folder.summary["groups"]) == {"A", "B"}
    assert from_folder.tables["audit_images"].num_rows == 150
    saved = from_folder.save(tmp_path / "audit")
    assert json.loads((saved / "audit.json").read_text())["share"] == from_folder.summary["share"]
    assert (saved / "audit_images.parquet").is_file() and "Dataset impact" in (saved / "report.html").read_text()

    result = genscope.clean(table, 0.05, calibration=calibration)
    assert result.plan.reachable and result.summary["residual_share"] <= 0.05
    assert result.kept.num_rows == result.plan.kept and result.inputs == 150
    scores = result.kept.column("detector.ai_score").to_pylist()
    assert max(scores) < result.plan.cut
    keep_list = result.write_keep_list(tmp_path / "keep.parquet")
    assert pq.read_table(keep_list).num_rows == result.plan.kept


def test_library_errors_name_the_problem_not_a_traceback(scanned, tmp_path: Path) -> None:
    with pytest.raises(genscope.InputError, match="holds no genscope records"):
        genscope.audit(tmp_path)
    with pytest.raises(genscope.InputError, match="fraction"):
        genscope.clean(scanned["scan"], 5.0, calibration=scanned["calibration"])
    with pytest.raises(genscope.InputError, match="genscope dedup"):
        genscope.clean(scanned["scan"], 0.05, calibration=scanned["calibration"], drop_duplicates=tmp_path)


def test_audit_of_records_without_their_scan_summary_still_writes_a_report(scanned, tmp_path: Path) -> None:
    """A records folder copied on its own, or one bare part, has no ``summary.json`` beside it: the report says what
    the scan would have recorded is not recorded, instead of failing to render."""
    import shutil

    alone = tmp_path / "copied" / "records.parquet"
    shutil.copytree(scanned["scan"] / "records.parquet", alone)
    bare = tmp_path / "bare.parquet"
    shutil.copy(sorted(alone.glob("*.parquet"))[0], bare)
    for records in (alone, bare):
        out = tmp_path / f"audit-{records.name}-{records.parent.name}"
        done = run_genscope("audit", str(records), "--out", str(out), "--calibration", str(scanned["calibration"]))
        assert done.returncode == 0, done.stderr
        html = (out / "report.html").read_text()
        assert "Dataset impact" in html and "genscope not recorded" in html
        assert "images/s not recorded" in html and "Inputs: not recorded" in html and "Signals: not recorded" in html
