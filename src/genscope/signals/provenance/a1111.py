"""AUTOMATIC1111-style "infotext" (also Forge, SD.Next, Civitai, Fooocus's a1111 scheme).

Layout: the prompt, an optional ``Negative prompt:`` paragraph, then one last line of
``Key: value`` pairs separated by commas. Values may be quoted or hold JSON (Civitai resources),
so the parameter line is split with a small bracket- and quote-aware scanner, not a regex.
"""

from __future__ import annotations

import re

from genscope.signals.provenance.generation import Generation, to_float, to_int

NEGATIVE = "Negative prompt:"
MAX_PARAM_LINE = 64 * 1024  # real parameter lines are a few KB; the scanner is a Python loop
STEPS_KEY = re.compile(r"(?:^|,\s*)Steps:\s*\d+")


def split_params(line: str) -> dict[str, str]:
    """``"Steps: 20, Sampler: Euler a, Lora hashes: \"a: 1, b: 2\""`` -> dict, brackets respected."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(line):
        if ch == '"' and (i == 0 or line[i - 1] != "\\"):
            quoted = not quoted
        elif not quoted and ch in "[{":
            depth += 1
        elif not quoted and ch in "]}":
            depth = max(0, depth - 1)
        elif ch == "," and not quoted and depth == 0:
            parts.append(line[start:i])
            start = i + 1
    parts.append(line[start:])
    params: dict[str, str] = {}
    for part in parts:
        key, sep, value = part.partition(":")
        if sep and key.strip():
            params.setdefault(key.strip(), value.strip().strip('"'))
    return params


def looks_like_infotext(text: str) -> bool:
    return any(STEPS_KEY.search(line) for line in text.strip().splitlines()[-3:])


def tool_of(params: dict[str, str]) -> str:
    """Which A1111 descendant wrote these parameters."""
    version = params.get("Version", "")
    if params.get("App", "").lower() == "sd.next":
        return "sdnext"
    if "Civitai resources" in params or "Civitai metadata" in params:
        return "civitai"
    if version.lower().startswith("fooocus"):
        return "fooocus"
    if re.match(r"f\d", version) or version in ("neo", "classic") or "forge" in version.lower():
        return "forge"
    return "a1111"


def parse_infotext(text: str) -> Generation | None:
    lines = text.strip().splitlines()
    at = next((i for i in range(len(lines) - 1, -1, -1) if STEPS_KEY.search(lines[i])), None)
    if at is None:
        return None
    params = split_params(lines[at][:MAX_PARAM_LINE])
    prompt_lines, negative_lines, into_negative = [], [], False
    for line in lines[:at]:
        if line.startswith(NEGATIVE):
            into_negative = True
            line = line[len(NEGATIVE) :].lstrip()
        (negative_lines if into_negative else prompt_lines).append(line)
    return Generation(
        tool=tool_of(params),
        prompt="\n".join(prompt_lines).strip() or None,
        negative_prompt="\n".join(negative_lines).strip() or None,
        seed=to_int(params.get("Seed")),
        steps=to_int(params.get("Steps")),
        sampler=params.get("Sampler"),
        cfg_scale=to_float(params.get("CFG scale")),
        model=params.get("Model"),
    )
