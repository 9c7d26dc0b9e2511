"""Headless Chromium for the report tests: screenshots, the DOM after scripts ran, and element boxes.

``layout`` loads a copy of a page, with a probe script, into a frame of an exact size (headless Chromium's own
window has a minimum width and subtracts browser chrome from its height); the probe writes the boxes of the
elements matching each CSS selector into the outer page, whose DOM Chromium prints: overlap and the fold are
checked without a driver.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

PROBE = """<script>(function () {
  var out = {width: window.innerWidth, height: window.innerHeight, scroll_width: document.documentElement.scrollWidth,
             boxes: {}};
  %s.forEach(function (sel) {
    out.boxes[sel] = Array.prototype.map.call(document.querySelectorAll(sel), function (el) {
      var r = el.getBoundingClientRect();
      return {x: r.left + window.scrollX, y: r.top + window.scrollY, w: r.width, h: r.height,
              text: (el.textContent || "").trim().slice(0, 80)};
    });
  });
  var pre = parent.document.createElement("pre"); pre.id = "layout-probe"; pre.textContent = JSON.stringify(out);
  parent.document.body.appendChild(pre);
})();</script>"""


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def run(*args: str) -> subprocess.CompletedProcess:
    browser = chromium()
    if browser is None:
        pytest.skip("chromium is not installed and could not be (.ci/run installs Debian's chromium)")
    profile = tempfile.mkdtemp()
    try:
        return subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                               "--no-first-run", "--disable-background-networking", "--disable-component-update",
                               "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def _framed(page: Path, text: str, width: int, height: int) -> Path:
    """A page that shows ``text`` in a frame of exactly ``width`` x ``height`` at its top left."""
    wrapper = page.with_name(f".framed-{width}-{page.name}")
    wrapper.write_text(f'<!doctype html><html><body style="margin:0"><iframe style="border:0;display:block" '
                       f'width="{width}" height="{height}" srcdoc="{html.escape(text, quote=True)}"></iframe>'
                       "</body></html>", encoding="utf-8")
    return wrapper


def _window(width: int, height: int) -> str:
    return f"--window-size={max(width, 800)},{height + 200}"


def screenshot(page: Path, shot: Path, width: int, height: int) -> np.ndarray:
    """The first ``height`` pixels of the page at ``width``: saved to ``shot``, returned as RGB."""
    wrapper = _framed(page, page.read_text(encoding="utf-8"), width, height)
    full = shot.with_name(f".full-{shot.name}")
    run(_window(width, height), f"--screenshot={full}", wrapper.resolve().as_uri())
    assert full.exists(), "chromium produced no screenshot"
    with Image.open(full) as image:
        image.convert("RGB").crop((0, 0, width, height)).save(shot)
    return np.asarray(Image.open(shot).convert("RGB"))


def layout(page: Path, width: int, height: int, selectors: list[str]) -> dict:
    """Boxes (x, y, w, h in page pixels, and the start of the text) of every element matching each selector."""
    text = page.read_text(encoding="utf-8")
    text = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", text)  # let the probe run
    wrapper = _framed(page, text.replace("</body>", PROBE % json.dumps(selectors) + "</body>"), width, height)
    dom = run(_window(width, height), "--dump-dom", wrapper.resolve().as_uri()).stdout
    found = re.search(r'<pre id="layout-probe">(.*?)</pre>', dom, re.S)
    assert found, "the layout probe did not run"
    return json.loads(found.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")
                      .replace("&amp;", "&"))


def overlapping(boxes: list[dict], slack: float = 0.5) -> list[tuple[str, str]]:
    """Pairs of boxes that overlap by more than ``slack`` pixels both ways."""
    pairs = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            dx = min(a["x"] + a["w"], b["x"] + b["w"]) - max(a["x"], b["x"])
            dy = min(a["y"] + a["h"], b["y"] + b["h"]) - max(a["y"], b["y"])
            if dx > slack and dy > slack:
                pairs.append((a["text"], b["text"]))
    return pairs


def inside(inner: dict, outer: dict, slack: float = 1.0) -> bool:
    return (inner["x"] >= outer["x"] - slack and inner["y"] >= outer["y"] - slack
            and inner["x"] + inner["w"] <= outer["x"] + outer["w"] + slack
            and inner["y"] + inner["h"] <= outer["y"] + outer["h"] + slack)
