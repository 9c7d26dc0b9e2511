"""The report is one self-contained, escaped HTML file that a browser renders."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

import genscope

import browser
from conftest import SHARED, make_images
from hostile import encode, photo

XSS = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("report")
    folder = root / "in"
    make_images(folder, 5)
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", XSS)
    exif = Image.Exif()
    exif[0x010F] = XSS  # camera make, shown in the table
    (folder / "meta.png").write_bytes(encode(photo(seed=9), "PNG", pnginfo=info, exif=exif.tobytes()))
    (folder / "name_<img src=x onerror=alert(2)>.jpg").write_bytes(encode(photo(seed=8), "JPEG"))
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff" + b"\x00" * 50)
    result = genscope.scan(folder, root / "out", workers=1, progress=False)
    return result.out / "report.html"


def test_everything_from_an_image_is_escaped(report: Path) -> None:
    html = report.read_text()
    assert XSS not in html and "<img src=x onerror" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the EXIF make, shown as text
    assert "name_&lt;img src=x onerror=alert(2)&gt;.jpg" in html


def test_report_is_self_contained(report: Path) -> None:
    html = report.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html)
    assert "<link" not in html and "@import" not in html
    assert html.count('class="thumb" src="data:image/jpeg;base64,') == 7  # every decoded image; none for the broken one
    assert "decode.truncated" in html or "decode.corrupt" in html


def _assert_renders(report: Path, shot: Path) -> None:
    pixels = browser.screenshot(report, shot, 1280, 1600).mean(axis=-1)
    assert pixels.shape == (1600, 1280)
    non_background = np.mean(np.abs(pixels - np.median(pixels)) > 24)
    assert pixels.std() > 20 and non_background > 0.05, "the page looks blank"


def test_report_renders_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    _assert_renders(report, tmp_path / "report.png")


def test_shared_val_scan_completes_and_its_report_renders(tmp_path: Path) -> None:
    val = SHARED / "detect" / "val"
    if not val.is_dir():
        pytest.skip(f"shared data not found at {val}")
    expected = sum(1 for p in val.rglob("*") if p.is_file())
    result = genscope.scan(val, tmp_path / "scan-out", progress=False)
    assert result.summary["inputs"] == expected == result.records.num_rows
    assert result.summary["failed"] == 0
    html = (result.out / "report.html").read_text()
    assert html.count('class="thumb" src="data:image/jpeg;base64,') == expected
    _assert_renders(result.out / "report.html", tmp_path / "val.png")


def test_browser_sees_hostile_text_as_text(report: Path) -> None:
    dom = browser.run("--dump-dom", report.resolve().as_uri()).stdout
    assert "<tbody>" in dom and dom.count("<tr data-error=") == 8
    assert "onerror" not in re.sub(r"&lt;.*?&gt;", "", dom)  # only inside escaped text
    assert "<script>alert" not in dom
