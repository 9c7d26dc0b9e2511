"""The README's commands and Python names still exist as written: every ``genscope …`` line of its code
blocks parses with the real argument parser, and every ``genscope.<name>`` it uses is exported."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

import genscope
from genscope.cli import build_parser

README = (Path(__file__).parents[1] / "README.md").read_text()
BLOCKS = re.findall(r"```(\w*)\n(.*?)```", README, re.S)


def _command_lines() -> list[str]:
    lines = []
    for lang, body in BLOCKS:
        if lang not in ("bash", "sh", ""):
            continue
        for line in body.splitlines():
            for part in line.split("&&"):
                words = shlex.split(part.split(" #")[0], comments=False) if part.strip() else []
                if words and words[0].endswith("genscope") and len(words) > 1:
                    lines.append(shlex.join(words[1:]))
    return lines


COMMANDS = _command_lines()


def test_the_readme_shows_commands() -> None:
    assert len(COMMANDS) >= 20  # the blocks were found: a broken regex would make every check below vacuous


@pytest.mark.parametrize("command", COMMANDS)
def test_every_readme_command_parses(command: str) -> None:
    args = build_parser().parse_args(shlex.split(command))
    assert callable(getattr(args, "func", None)), command


def test_every_genscope_name_the_readme_uses_is_exported() -> None:
    python = "\n".join(body for lang, body in BLOCKS if lang == "python")
    names = set(re.findall(r"\bgenscope\.([A-Za-z_]\w*)", python)) - {"engine"}
    assert names >= {"scan", "audit", "clean"}
    missing = sorted(n for n in names if not hasattr(genscope, n))
    assert not missing, f"README uses genscope.{missing} which genscope does not export"
