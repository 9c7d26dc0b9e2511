"""The Ray engine gives the local engine's records, resumes the same way, and survives losing a node."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from genscope import scan
from genscope.engine import EngineOptions

from conftest import REPO, make_images, run_genscope
from hostile import build_corpus

pytest.importorskip("ray", reason="the Ray engine is an extra: pip install -e '.[ray]' (the dev extra has it)")
psutil = pytest.importorskip("psutil", reason="the node-failure test finds the node's processes with psutil")

CHEAP = ["exif", "phash", "container"]


def comparable(out: Path):
    return pq.read_table(out / "records.parquet").sort_by("path").drop_columns(["elapsed_ms"])


def test_ray_records_equal_local_on_examples_and_hostile_shards(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    cases = build_corpus(corpus)  # hostile files, and a WebDataset shard with hostile members
    targets = [str(REPO / "examples"), str(corpus)]
    local = scan(targets, tmp_path / "local", report=False, progress=False)
    on_ray = scan(targets, tmp_path / "ray", engine=EngineOptions("ray", num_cpus=2), report=False, progress=False)
    assert on_ray.summary["engine"] == "ray" and local.summary["engine"] == "local"
    assert on_ray.summary["inputs"] == local.summary["inputs"] >= len(cases)
    assert any(".tar/" in path for path in comparable(tmp_path / "ray").column("path").to_pylist())
    assert comparable(tmp_path / "ray").equals(comparable(tmp_path / "local"))


def test_ray_resume_recomputes_only_stale_signals(tmp_path: Path) -> None:
    images = tmp_path / "images"
    make_images(images, 30)
    out = tmp_path / "out"
    scan(images, out, signals=CHEAP[:2], engine=EngineOptions("ray", num_cpus=2), report=False, progress=False)
    grown = scan(images, out, signals=CHEAP, engine=EngineOptions("ray", num_cpus=2), report=False, progress=False)
    assert grown.summary["timing"]["images_per_signal"] == {"container": 30}  # exif and phash were kept
    scan(images, tmp_path / "fresh", signals=CHEAP, report=False, progress=False)
    assert comparable(out).equals(comparable(tmp_path / "fresh"))
    again = scan(images, out, signals=CHEAP, engine=EngineOptions("ray", num_cpus=2), report=False, progress=False)
    assert again.summary["timing"]["reused_from_previous_run"] == 30
    assert again.summary["timing"]["computed"] == 0


def test_detect_and_index_on_ray_equal_local(tmp_path: Path) -> None:
    from genscope.api.copies import DescriptorChoice, build_index
    from genscope.api.detect import detect_files

    make_images(tmp_path / "images", 12)
    targets = [str(REPO / "examples"), str(tmp_path / "images")]
    on_ray = EngineOptions("ray", num_cpus=2, unit_size=5)  # several units, so both actors get some
    local = EngineOptions(workers=2, unit_size=5)  # the same batches: a batch never spans two units
    local_lines: list[dict] = []
    ray_lines: list[dict] = []
    assert detect_files(targets, local_lines.append, model="fast", engine=local) == 18
    assert detect_files(targets, ray_lines.append, model="fast", engine=on_ray) == 18
    assert ray_lines == local_lines  # same scores, same errors, same input order
    descriptor = DescriptorChoice(keypoints=False)
    local_index = build_index(targets, tmp_path / "local", descriptor=descriptor, engine=local, progress=False)
    ray_index = build_index(targets, tmp_path / "ray", descriptor=descriptor, engine=on_ray, progress=False)
    assert sorted(ray_index.paths) == sorted(local_index.paths) and ray_index.meta["count"] == 17
    assert comparable(tmp_path / "ray").equals(comparable(tmp_path / "local"))


def test_cli_explains_an_unreachable_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_images(tmp_path / "images", 2)
    port = _free_port()
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    result = run_genscope("scan", str(tmp_path / "images"), "--out", str(tmp_path / "out"), "--engine", "ray",
                          "--address", f"127.0.0.1:{port}", "-q", timeout=180)
    assert result.returncode == 2, result.stderr
    assert "cannot start or join the Ray cluster at 127.0.0.1:" in result.stderr
    assert "Traceback" not in result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TwoNodeCluster:
    """A head and a second node started with ``ray start`` on this machine, token-authenticated."""

    def __init__(self) -> None:
        self.temp = Path(tempfile.mkdtemp(prefix="rt-", dir="/tmp"))  # Ray's socket paths must stay short
        self.port = _free_port()
        self.node_port = _free_port()
        tests = str(Path(__file__).parent)  # the workers import the test signals from here
        self.env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32),
                    "PYTHONPATH": os.pathsep.join([tests, os.environ.get("PYTHONPATH", "")])}
        self.ray = str(Path(sys.executable).parent / "ray")
        self.address = f"127.0.0.1:{self.port}"

    def start(self) -> None:
        common = ["--num-cpus", "1", "--node-ip-address", "127.0.0.1", "--disable-usage-stats"]
        self._ray_start("--head", "--port", str(self.port), "--temp-dir", str(self.temp),
                        "--include-dashboard=false", *common)
        self._ray_start("--address", self.address, "--node-manager-port", str(self.node_port), *common)

    def _ray_start(self, *args: str) -> None:
        result = subprocess.run([self.ray, "start", *args], env=self.env, capture_output=True, text=True,
                                timeout=180)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]

    def kill_second_node(self) -> int:
        """SIGKILL the second node's raylet and its workers, as a lost machine would vanish."""
        victims = [p for p in psutil.process_iter(["cmdline"])
                   if f"--node_manager_port={self.node_port}" in (p.info["cmdline"] or [])]
        for raylet in victims:
            for child in raylet.children(recursive=True):
                child.kill()
            raylet.kill()
        return len(victims)

    def stop(self) -> None:
        for process in psutil.process_iter(["cmdline"]):
            cmdline = " ".join(process.info["cmdline"] or [])
            if str(self.temp) in cmdline or f"node_manager_port={self.node_port}" in cmdline:
                process.kill()
        shutil.rmtree(self.temp, ignore_errors=True)


@pytest.fixture
def cluster():
    nodes = TwoNodeCluster()
    try:
        nodes.start()
        yield nodes
    finally:
        nodes.stop()


@pytest.mark.parametrize("command", [
    ["scan", "--signals", "exif,support_signals:SlowSignal"],
    ["index", "--no-keypoints"],  # replicate's descriptor pass is the same call
])
def test_two_node_cluster_survives_losing_a_node_mid_run(tmp_path: Path, cluster: TwoNodeCluster,
                                                         command: list[str]) -> None:
    images = tmp_path / "images"
    make_images(images, 400)
    out = tmp_path / "out"
    parts = out / "records.parquet"
    scan_command = [sys.executable, "-m", "genscope", command[0], str(images), "--out", str(out), *command[1:],
                    "--engine", "ray", "--address", cluster.address, "--unit-size", "25", "-q"]
    process = subprocess.Popen(scan_command, env=cluster.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None and len(list(parts.glob("part-*"))) < 2:
        time.sleep(0.1)
    assert process.poll() is None, "the run finished before the node could be killed; make it slower"
    assert cluster.kill_second_node() == 1
    _, stderr = process.communicate(timeout=300)
    # Ray restarts the lost actors on the head node and retries their units: one run suffices.
    assert process.returncode == 0, stderr[-3000:]
    paths = pq.read_table(parts).column("path").to_pylist()
    assert len(paths) == len(set(paths)) == 400
    assert {Path(p).name for p in paths} == {p.name for p in images.iterdir()}
    if command[0] == "index":
        assert sorted(pq.read_table(out / "index-paths.parquet").column("path").to_pylist()) == sorted(paths)
    # The same records as a local run of the same command and units (so the same batches: a model's last bits
    # may depend on its batch): the retried units computed what a local worker does.
    local = subprocess.run([sys.executable, "-m", "genscope", command[0], str(images), "--out", str(tmp_path / "local"),
                            *command[1:], "--workers", "2", "--unit-size", "25", "-q"], env=cluster.env,
                           capture_output=True, text=True, timeout=600)
    assert local.returncode == 0, local.stderr[-3000:]
    assert comparable(out).equals(comparable(tmp_path / "local"))


def test_detect_on_a_two_node_cluster_survives_losing_a_node_mid_run(tmp_path: Path,
                                                                     cluster: TwoNodeCluster) -> None:
    from genscope.api.detect import detect_files

    images = tmp_path / "images"
    make_images(images, 300, size=(320, 240))  # large enough for the detector to score, slow enough to kill
    command = [sys.executable, "-m", "genscope", "detect", str(images), "--jsonl", "--fast", "--engine", "ray",
               "--address", cluster.address, "--unit-size", "25"]
    with (tmp_path / "stderr.txt").open("w") as errors:
        process = subprocess.Popen(command, env=cluster.env, stdout=subprocess.PIPE, stderr=errors, text=True)
        first = process.stdout.readline()  # lines print unit by unit: the first unit is done, the rest are running
        assert process.poll() is None, "the run finished before the node could be killed; make it slower"
        assert cluster.kill_second_node() == 1
        rest = process.stdout.read()  # the same buffered reader: readline may have read ahead
        process.wait(timeout=300)
    assert process.returncode == 0, (tmp_path / "stderr.txt").read_text()[-3000:]
    on_ray = [json.loads(line) for line in [first, *rest.splitlines()]]  # stdout holds results only
    paths = [line["path"] for line in on_ray]
    assert len(paths) == len(set(paths)) == 300  # every input exactly once, after the lost actors' units were retried
    assert paths == sorted(paths)  # still in input order
    local: list[dict] = []
    detect_files([str(images)], local.append, model="fast", engine=EngineOptions(workers=2, unit_size=25))
    assert on_ray == local and all("error" not in line for line in local)
