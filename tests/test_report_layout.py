"""The report in headless Chromium at a phone and a desktop width: the answer is on the first screen, nothing
overlaps, and the numbers it shows are the ones in summary.json. The dedup report's groups lay out too."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import genscope
from genscope.analyses.dedup import GROUPS_SCHEMA, PAIRS_SCHEMA, Dedup
from genscope.report.copies_pages import dedup_report

import browser
from conftest import REPO, make_images

WIDTHS = [(390, 844), (1280, 800)]  # a phone (CSS pixels) and a laptop, each with its first screen's height


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("layout")
    for name in ("generated_a1111_parameters.png", "generated_comfyui_sdxlturbo.png", "generated_kandinsky3.jpg",
                 "broken_truncated.jpg"):
        (root / "gen").mkdir(exist_ok=True)
        shutil.copy(REPO / "examples" / name, root / "gen" / name)
    make_images(root / "photos", 3, size=(320, 240))
    for name in ("real_kodim03.jpg", "real_kodim23.jpg"):
        shutil.copy(REPO / "examples" / name, root / "photos" / name)
    return genscope.scan([root / "gen", root / "photos"], root / "out", workers=1, progress=False).out


def test_first_screen_numbers_are_those_of_summary_json(scanned: Path) -> None:
    html = (scanned / "report.html").read_text()
    impact = json.loads((scanned / "summary.json").read_text())["dataset_impact"]
    share = impact["share"]
    shown = dict(re.findall(r'data-answer="(\w+)" data-value="([^"]*)"', html))
    assert int(shown["proven_generated"]) == share["proven_generated"] == 2  # the A1111 and ComfyUI files
    assert int(shown["proven_real"]) == share["proven_real"]
    assert int(shown["not_judged"]) == sum(share["not_judged"].values()) == share["unassessed_rows"] == 1
    for key in ("estimate", "low", "high"):
        assert float(shown[key]) == pytest.approx(share[key], abs=1e-5)
    assert share["low"] <= share["estimate"] <= share["high"]
    assert set(re.findall(r'<tr data-group="([^"]+)"', html)) == set(impact["groups"]) and len(impact["groups"]) == 2
    assert "could not be decoded" in html and "decode.truncated" in html  # why it was not judged


@pytest.mark.parametrize(("width", "height"), WIDTHS)
def test_answer_is_above_the_fold_and_nothing_overlaps(scanned: Path, tmp_path: Path, width: int,
                                                       height: int) -> None:
    page = scanned / "report.html"
    boxes = browser.layout(page, width, height, ["#answer .headline", "#answer .acard", "#answer .acard > *", ".ecard",
                                                 ".ecard .badge", ".ecard .score", "#records thead th"])
    assert boxes["width"] == width and boxes["scroll_width"] <= width, "the page scrolls sideways"
    found = boxes["boxes"]
    cards = found["#answer .acard"]
    assert len(cards) == 4 and max(c["y"] + c["h"] for c in cards) <= height, "the answer is below the fold"
    assert found["#answer .headline"][0]["y"] + found["#answer .headline"][0]["h"] <= min(c["y"] for c in cards)
    assert not browser.overlapping(cards)
    assert all(any(browser.inside(part, card) for card in cards) for part in found["#answer .acard > *"]), \
        "text spills out of an answer card"
    assert len(found[".ecard"]) >= 3 and not browser.overlapping(found[".ecard"])
    assert not browser.overlapping(found[".ecard .badge"] + found[".ecard .score"])
    visible = [th["text"] for th in found["#records thead th"] if th["w"] > 0]
    assert visible == ["image", "path", "verdict", "score", "proof", "error"]  # the rest behind the picker
    pixels = browser.screenshot(page, tmp_path / f"report-{width}.png", width, height).astype(np.float64)
    card_rows = pixels[int(cards[0]["y"]):int(cards[0]["y"] + cards[0]["h"])]
    assert pixels.std() > 20 and card_rows.std() > 10, "the first screen looks blank"


def test_gallery_puts_proof_first_and_says_why(scanned: Path) -> None:
    html = (scanned / "report.html").read_text()
    gallery = html[html.index('id="likely-generated"'):html.index('id="likely-real-uncertain"')]
    badges = re.findall(r'<span class="badge">([^<]+)</span>', gallery)
    assert badges[:2] == ["proven generated", "proven generated"] and "proven generated" not in badges[2:]
    assert "AUTOMATIC1111 generation metadata" in gallery and "Model deliberate_v2" in gallery
    assert "ComfyUI generation metadata" in gallery and "Detector score" in gallery


def _dedup(paths: list[str]) -> Dedup:
    groups = [(paths[:4], 0), (paths[4:7], 1)]  # a group of four and one of three
    rows = [{"path": p, "group_id": gid, "group_size": len(members), "representative": members[0],
             "near_copies": len(members) - 1, "exact_copies": 0, "keep": i == 0,
             "similarity_to_representative": 1.0 if i == 0 else 0.97}
            for members, gid in groups for i, p in enumerate(members)]
    summary = {"rule": {"similarity": 0.95, "floor": 0.15, "phash": 10, "inliers": 10}, "inputs": len(paths),
               "groups": 2, "images_in_groups": 7, "keep": 3, "removed": 5, "exact_duplicate_files": 0,
               "near_duplicate_pairs": 5, "pairs_by_evidence": {"similarity": 5}, "merges_refused": 0,
               "loosest_groups": [{"representative": paths[4], "size": 3, "tightness": 0.97}]}
    pairs = pa.Table.from_pylist([{"path_a": members[0], "path_b": p, "similarity": 0.97, "phash_distance": 2,
                                   "inliers": None, "evidence": "similarity", "same_group": True}
                                  for members, _ in groups for p in members[1:]], schema=PAIRS_SCHEMA)
    return Dedup(groups=pa.Table.from_pylist(rows, schema=GROUPS_SCHEMA), pairs=pairs, keep=paths[:1],
                 summary=summary)


@pytest.mark.parametrize(("width", "height"), WIDTHS)
def test_dedup_groups_of_three_or_more_lay_out_without_overlap(tmp_path: Path, width: int, height: int) -> None:
    paths = make_images(tmp_path / "in", 8, size=(120, 90))
    records = genscope.scan(tmp_path / "in", tmp_path / "scan", signals=["phash"], workers=1, progress=False).records
    page = dedup_report(_dedup([str(p) for p in paths]), records, tmp_path / "dedup.html")
    found = browser.layout(page, width, height, [".pair", ".side", ".pair .note"])
    pairs, sides = found["boxes"][".pair"], found["boxes"][".side"]
    assert len(pairs) == 2 and len(sides) == 7
    assert not browser.overlapping(pairs) and not browser.overlapping(sides)
    assert all(any(browser.inside(side, pair) for pair in pairs) for side in sides), "a member spills out of its group"
    assert found["scroll_width"] <= width
