"""Scans read shards from an S3-compatible server and write records back to a bucket.

The server is moto's standalone mode, started here on loopback; genscope reaches it through
``pyarrow.fs`` with the endpoint and credentials in the environment, as any AWS tool would.
"""

from __future__ import annotations

import io
import socket
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from genscope import read_records, scan
from genscope.engine import EngineOptions
from genscope.storage import StorageError, _bucket_filesystem, expand_braces

from conftest import make_images
from hostile import build_tar

boto3 = pytest.importorskip("boto3", reason="the object-store tests need moto[server] (in the dev extra)")
pytest.importorskip("moto", reason="the object-store tests need moto[server] (in the dev extra)")

BUCKET = "genscope-test"
CHEAP = ["exif", "phash", "container"]


def test_brace_ranges_expand_like_img2dataset() -> None:
    assert expand_braces("s3://b/{00000..00002}.tar") == ["s3://b/00000.tar", "s3://b/00001.tar", "s3://b/00002.tar"]
    assert expand_braces("x/{a,b}/{8..10}.tar") == ["x/a/8.tar", "x/a/9.tar", "x/a/10.tar", "x/b/8.tar",
                                                      "x/b/9.tar", "x/b/10.tar"]
    assert expand_braces("plain/{notarange}.jpg") == ["plain/{notarange}.jpg"]
    with pytest.raises(StorageError):
        expand_braces("{0..99999999}")


@pytest.fixture
def s3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    for key, value in {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                       "AWS_EC2_METADATA_DISABLED": "true"}.items():
        monkeypatch.setenv(key, value)
    _bucket_filesystem.cache_clear()  # clients are cached per bucket; this endpoint is new
    try:
        client = boto3.client("s3")
        deadline = time.monotonic() + 30
        while True:
            try:
                client.create_bucket(Bucket=BUCKET)
                break
            except Exception:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        yield client
    finally:
        server.kill()
        server.wait(10)
        _bucket_filesystem.cache_clear()


def _shards(folder: Path) -> list[Path]:
    """Two shards: good images with captions, and one with hostile members (a ``../`` name, a cut tail)."""
    images = make_images(folder / "images", 5)
    good = folder / "00000.tar"
    with tarfile.open(good, "w") as archive:
        for image in images:
            archive.add(image, arcname=image.name)
            caption = f"caption of {image.stem}".encode()
            info = tarfile.TarInfo(image.stem + ".txt")
            info.size = len(caption)
            archive.addfile(info, io.BytesIO(caption))
    hostile = folder / "00001.tar"
    build_tar(hostile)
    return [good, hostile]


def _upload(client, shards: list[Path]) -> None:
    for shard in shards:
        client.upload_file(str(shard), BUCKET, f"shards/{shard.name}")


def _without_prefix(table, prefix: str) -> list[dict]:
    rows = table.drop_columns(["elapsed_ms"]).to_pylist()
    for row in rows:
        for key in ("path", "shard"):
            if row[key] is not None:
                row[key] = row[key].split(prefix, 1)[-1]
    return sorted(rows, key=lambda row: row["path"])


def test_scan_reads_shards_from_a_bucket_and_writes_records_back(s3, tmp_path: Path) -> None:
    shards = _shards(tmp_path / "local")
    _upload(s3, shards)
    out = f"s3://{BUCKET}/scans/run1"
    result = scan([f"s3://{BUCKET}/shards/{{00000..00001}}.tar"], out, signals=CHEAP, progress=False)
    local = scan([str(s) for s in shards], tmp_path / "local-out", signals=CHEAP, report=False, progress=False)

    assert result.summary["inputs"] == local.summary["inputs"] == 5 + 4
    stored = read_records(out)
    assert stored.num_rows == 9
    assert all(p.startswith(f"s3://{BUCKET}/shards/0000") for p in stored.column("path").to_pylist())
    # Same bytes, same records: only the shard's location differs.
    assert _without_prefix(stored, "/shards/") == _without_prefix(local.records, "/local/")
    captions = [m for m in stored.column("meta").to_pylist() if m and "caption of" in m]
    assert len(captions) == 5
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="scans/run1/")["Contents"]}
    assert {"scans/run1/summary.json", "scans/run1/report.html"} <= keys
    assert any(k.startswith("scans/run1/records.parquet/part-") for k in keys)
    report = s3.get_object(Bucket=BUCKET, Key="scans/run1/report.html")["Body"].read().decode()
    assert f"s3://{BUCKET}/shards/00001.tar/../evil.jpg" in report  # the shard member, shown, never opened

    again = scan([f"s3://{BUCKET}/shards/{{00000..00001}}.tar"], out, signals=CHEAP, report=False, progress=False)
    # Like a local resume: good rows are kept, error rows (the cut tail member) are tried again.
    assert again.summary["timing"]["reused_from_previous_run"] == 9 - result.summary["failed"] == 8
    assert read_records(out).num_rows == 9


def test_missing_prefix_is_a_clear_error(s3, tmp_path: Path) -> None:
    from genscope.sources import SourceError

    with pytest.raises(SourceError, match="no such object or prefix"):
        scan([f"s3://{BUCKET}/nothing-here/"], tmp_path / "out", signals=CHEAP, progress=False)


def test_ray_workers_write_parts_into_the_bucket(s3, tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="the Ray engine is an extra (in the dev extra)")
    _upload(s3, _shards(tmp_path / "local"))
    out = f"s3://{BUCKET}/scans/ray"
    result = scan([f"s3://{BUCKET}/shards/"], out, signals=CHEAP, engine=EngineOptions("ray", num_cpus=2),
                  report=False, progress=False)
    assert result.summary["inputs"] == 9
    assert read_records(out).num_rows == 9
    assert sorted(read_records(out).column("path").to_pylist()) == sorted(result.records.column("path").to_pylist())
