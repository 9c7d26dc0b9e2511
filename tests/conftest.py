"""Shared helpers: run the real CLI in a subprocess, build small image folders."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hostile import encode, photo

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"


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
                 **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent),
                                                         os.environ.get("PYTHONPATH", "")])}
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
