"""Every kind of input a user can name: folders, files, path lists, manifests, shards."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import genscope
from genscope.sources import SourceError, enumerate_inputs
from genscope.sources.manifest import ManifestError

from conftest import make_images
from hostile import encode, photo


def test_list_file_resolves_relative_paths_and_skips_comments(tmp_path: Path) -> None:
    images = make_images(tmp_path / "imgs", 3)
    listing = tmp_path / "list.txt"
    listing.write_text(f"# a comment\n\nimgs/{images[0].name}\n{images[1]}\nimgs/missing.jpg\n")
    items, _ = enumerate_inputs([str(listing)])
    assert [Path(i.file).name for i in items] == [images[0].name, images[1].name, "missing.jpg"]
    result = genscope.scan(str(listing), tmp_path / "out", workers=1, report=False, progress=False)
    errors = {Path(r["path"]).name: r["error"] for r in result.records.to_pylist()}
    assert errors == {images[0].name: None, images[1].name: None, "missing.jpg": "io.not_found"}


def test_csv_and_parquet_manifests_carry_their_columns_as_meta(tmp_path: Path) -> None:
    images = make_images(tmp_path / "imgs", 2)
    csv = tmp_path / "m.csv"
    csv.write_text("path,label,source\n" + "".join(f"imgs/{p.name},real,cam{i}\n" for i, p in enumerate(images)))
    parquet = tmp_path / "m.parquet"
    pq.write_table(pa.table({"path": [str(images[0])], "label": ["generated"]}), parquet)
    for manifest, labels in ((csv, ["real", "real"]), (parquet, ["generated"])):
        result = genscope.scan(str(manifest), tmp_path / f"out-{manifest.suffix}", workers=1, report=False,
                               progress=False)
        rows = sorted(result.records.to_pylist(), key=lambda r: r["path"])
        assert [json.loads(r["meta"])["label"] for r in rows] == labels
        assert all(r["error"] is None for r in rows)


def test_manifest_without_path_column_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("file,label\na.jpg,real\n")
    with pytest.raises(ManifestError, match="no 'path' column"):
        enumerate_inputs([str(bad)])


def test_missing_target_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file or folder"):
        enumerate_inputs([str(tmp_path / "nope")])


def test_inputs_named_twice_are_scanned_once(tmp_path: Path) -> None:
    images = make_images(tmp_path / "imgs", 3)
    items, duplicates = enumerate_inputs([str(tmp_path / "imgs"), str(images[0]), str(tmp_path / "imgs")])
    assert len(items) == 3 and duplicates == 4


def test_webdataset_shard_sidecars_and_folder_of_shards(tmp_path: Path) -> None:
    shards = tmp_path / "shards"
    shards.mkdir()
    for s in range(2):
        with tarfile.open(shards / f"{s:05d}.tar", "w") as archive:
            for k in range(3):
                key = f"{s:05d}{k:04d}"
                for name, data in ((f"{key}.jpg", encode(photo(seed=k), "JPEG")),
                                   (f"{key}.txt", f"caption {key}".encode()),
                                   (f"{key}.json", json.dumps({"url": f"http://example/{key}"}).encode())):
                    info = tarfile.TarInfo(name)
                    info.size = len(data)
                    archive.addfile(info, io.BytesIO(data))
    result = genscope.scan(shards, tmp_path / "out", workers=2, report=False, progress=False)
    rows = result.records.to_pylist()
    assert len(rows) == 6 and all(r["error"] is None for r in rows)
    row = next(r for r in rows if r["path"].endswith("/000010001.jpg"))
    assert row["shard"].endswith("00001.tar") and row["offset"] > 0
    meta = json.loads(row["meta"])
    assert meta["caption"] == "caption 000010001" and meta["json"]["url"] == "http://example/000010001"


def test_a_path_named_by_several_units_gets_one_row(tmp_path: Path) -> None:
    from genscope.engine import EngineOptions

    images = make_images(tmp_path / "imgs", 6)
    listing = tmp_path / "list.txt"
    listing.write_text("".join(f"imgs/{p.name}\n" for p in (images[4], images[1], images[4])))
    targets = [str(tmp_path / "imgs"), str(listing), str(images[2])]
    expected, duplicates = enumerate_inputs(targets)
    assert len(expected) == 6 and duplicates == 4
    result = genscope.scan(targets, tmp_path / "out", signals=["container"], engine=EngineOptions(workers=1,
                           unit_size=2), report=False, progress=False)
    paths = result.records.column("path").to_pylist()
    assert sorted(paths) == sorted(item.path for item in expected)
    assert result.summary["inputs"] == 6 and result.summary["duplicate_inputs_ignored"] == 4
