"""The bias audit: skin-tone maths on patches of known colour, the shipped face detector on real fixture faces,
the faces signal on hostile input, and the per-group statistics on records of known composition."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from genscope.analyses.bias import BiasError, run_bias
from genscope.analyses.bias_recall import RecallError
from genscope.errors import InputError
from genscope.models.faces import FaceDetector
from genscope.models.faces.skintone import (
    CATEGORY_NAMES,
    MONK_HEX,
    MONK_LAB,
    ita,
    ita_category,
    lab_to_srgb,
    monk,
    skin_tone,
    srgb_to_lab,
)
from genscope.signals.base import Sample, SignalError
from genscope.signals.faces import FACE, FacesSignal, face_row

from conftest import genscope_command

FIXTURES = Path(__file__).parent / "fixtures" / "faces"


def test_srgb_to_lab_matches_published_values() -> None:
    # sRGB red and white under D65 (Bruce Lindbloom's calculator)
    assert np.allclose(srgb_to_lab(np.array([255, 0, 0])), [53.2408, 80.0925, 67.2032], atol=1e-3)
    assert np.allclose(srgb_to_lab(np.array([255, 255, 255])), [100, 0, 0], atol=1e-6)
    assert np.allclose(lab_to_srgb(srgb_to_lab(np.array([12, 140, 230]))), [12, 140, 230], atol=1e-6)


@pytest.mark.parametrize(("lightness", "b", "angle"), [(50, 20, 0.0), (75, 25, 45.0), (25, 25, -45.0), (80, 0, 90.0)])
def test_ita_is_the_exact_angle(lightness: float, b: float, angle: float) -> None:
    assert ita(lightness, b) == pytest.approx(angle, abs=1e-9)


def test_ita_categories_follow_the_published_bounds() -> None:
    assert [ita_category(a) for a in (60, 55.01, 50, 30, 20, 0, -40)] == \
        ["very_light", "very_light", "light", "intermediate", "tan", "brown", "dark"]


@pytest.mark.parametrize("lab", [(70.0, 10.0, 18.0), (55.0, 14.0, 25.0), (35.0, 12.0, 16.0), (62.0, 9.0, 21.0)])
def test_a_uniform_skin_patch_gives_its_angle_and_category(lab: tuple[float, float, float]) -> None:
    patch = np.broadcast_to(np.clip(np.round(lab_to_srgb(np.array(lab))), 0, 255), (20, 20, 3)).astype(np.uint8)
    tone = skin_tone(patch)
    assert tone is not None
    stored = srgb_to_lab(patch[0, 0])  # the patch's true CIELAB after 8-bit rounding
    assert tone.ita == pytest.approx(ita(stored[0], stored[2]), abs=0.006)  # exact up to the stored 2 decimals
    assert tone.ita == pytest.approx(ita(lab[0], lab[2]), abs=1.0)  # and rounding moves it by under a degree
    assert tone.category == ita_category(ita(lab[0], lab[2]))


def test_each_monk_reference_colour_is_its_own_tone() -> None:
    assert [monk(lab) for lab in MONK_LAB] == list(range(1, 11))
    assert len(MONK_HEX) == 10


def test_highlights_shadows_and_background_do_not_move_the_tone() -> None:
    skin = np.round(lab_to_srgb(np.array([60.0, 12.0, 20.0])))
    pixels = np.tile(skin, (400, 1))
    pixels[:40] = 255  # specular highlight
    pixels[40:80] = 5  # shadow
    pixels[80:160] = [40, 80, 200]  # blue background: b* < 0
    tone = skin_tone(pixels.astype(np.uint8))
    assert tone is not None and tone.ita == pytest.approx(ita(60, 20), abs=0.5)
    assert tone.pixels < 400


def test_no_skin_coloured_pixels_gives_no_tone() -> None:
    assert skin_tone(np.tile([[30, 60, 200]], (500, 1)).astype(np.uint8)) is None


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return FaceDetector()


@pytest.mark.parametrize(("name", "centre"), [("kodim04", (142, 195)), ("kodim18", (145, 106))])
def test_the_detector_finds_the_one_face_of_a_real_photo(detector: FaceDetector, name: str,
                                                           centre: tuple[int, int]) -> None:
    faces = detector.detect(Image.open(FIXTURES / f"{name}.jpg"))
    assert len(faces) == 1
    face = faces[0]
    assert face.x < centre[0] < face.x + face.w and face.y < centre[1] < face.y + face.h
    assert face.confidence >= 0.5


def test_the_detector_reports_no_face_on_parrots(detector: FaceDetector) -> None:
    assert detector.detect(Image.open(FIXTURES / "kodim23.jpg")) == []


def test_darkening_a_real_face_lowers_its_ita_monotonically(detector: FaceDetector) -> None:
    image = np.asarray(Image.open(FIXTURES / "kodim04.jpg").convert("RGB"), dtype=np.float64)
    face = detector.detect(Image.fromarray(image.astype(np.uint8)))[0]
    angles = [face_row(face, np.clip(image * gain, 0, 255).astype(np.uint8))["ita"] for gain in (1.3, 1.0, 0.7, 0.4)]
    assert angles == sorted(angles, reverse=True) and angles[0] - angles[-1] > 20


@pytest.fixture(scope="module")
def signal() -> FacesSignal:
    return FacesSignal()


def _sample(image: Image.Image | None) -> Sample:
    return Sample(path="x", data=b"", image=image)


def test_the_signal_codes_what_it_cannot_judge(signal: FacesSignal) -> None:
    no_image, tiny = signal.compute([_sample(None), _sample(Image.new("RGB", (1, 1)))])
    assert isinstance(no_image, SignalError) and no_image.code == "faces.no_image"
    assert isinstance(tiny, SignalError) and tiny.code == "faces.too_small"


def test_grey_border_and_blank_images_give_rows_not_crashes(signal: FacesSignal) -> None:
    photo = Image.open(FIXTURES / "kodim04.jpg").convert("RGB")
    grey = photo.convert("L").convert("RGB")  # what the decoder hands a signal for a grey-scale file
    border = photo.crop((120, 100, 384, 300))  # the face cut by the left edge
    rows = signal.compute([_sample(grey), _sample(border), _sample(Image.new("RGB", (4000, 3000), "white"))])
    assert all(isinstance(row, dict) for row in rows)
    assert rows[0]["count"] == 1 and rows[2]["count"] == 0
    for face in rows[0]["faces"] + rows[1]["faces"]:
        assert pa.scalar(face, FACE).is_valid
    assert rows[0]["faces"][0]["ita"] is None or rows[0]["faces"][0]["ita"] > 80  # grey skin: b* ≈ 0, no tone


def _records(groups: list[str], categories: list[list[str]], prompts: bool = False) -> pa.Table:
    faces = [[{"x": 0, "y": 0, "w": 9, "h": 9, "confidence": 0.9, "size": 0.5, "ita": 0.0, "ita_category": c,
               "monk": 5, "skin_pixels": 50} for c in image] for image in categories]
    return pa.table({"path": [f"{i}.png" for i in range(len(groups))], "error": pa.nulls(len(groups), pa.string()),
                     "meta": [json.dumps({"group": g}) for g in groups],
                     "faces.faces": pa.array(faces, pa.list_(FACE)),
                     "faces.error": pa.nulls(len(groups), pa.string())})


def test_shares_diversity_and_distance_on_known_groups() -> None:
    doctor = [["very_light"]] * 9 + [["dark"]]
    nurse = [["very_light"], ["light"], ["intermediate"], ["tan"], ["brown"], ["dark"]] * 2
    table = _records(["doctor"] * 10 + ["nurse"] * 12, doctor + nurse)
    reference = _records(["x"] * 12, nurse)
    found = run_bias(table, by="group", reference=reference)
    rows = {row["group"]: row for row in found.summary["per_group"]}
    assert rows["doctor"]["shares"]["very_light"]["share"] == 0.9
    assert rows["doctor"]["shares"]["very_light"]["low"] < 0.9 <= rows["doctor"]["shares"]["very_light"]["high"]
    assert rows["nurse"]["effective_categories"] == pytest.approx(6.0)
    assert rows["nurse"]["tv"] == 0.0 and rows["nurse"]["p_value"] > 0.5
    # ½ (|0.9 − 1/6| + 4 · 1/6 + |0.1 − 1/6|)
    assert rows["doctor"]["tv"] == pytest.approx(0.5 * (0.9 - 1 / 6 + 4 / 6 + 1 / 6 - 0.1), abs=1e-4)
    assert rows["doctor"]["tv_low"] <= rows["doctor"]["tv"] <= rows["doctor"]["tv_high"]
    assert rows["doctor"]["p_value"] < 0.01
    assert found.summary["per_group"][0]["group"] == "doctor"  # most skewed first
    assert found.faces.num_rows == 22 and set(found.faces.column("group").to_pylist()) == {"doctor", "nurse"}


def test_intervals_cover_a_known_share_at_about_the_nominal_rate() -> None:
    rng = np.random.default_rng(1)
    truth, covered, trials = 0.3, 0, 120
    for trial in range(trials):
        # a third of the images hold no face: they are resampled too, as one bucket
        cats = [["light"] if rng.random() < truth else ["dark"] for _ in range(60)] + [[]] * 30
        cell = run_bias(_records(["g"] * 90, cats), by="group", seed=trial).summary["per_group"][0]["shares"]["light"]
        covered += cell["low"] <= truth <= cell["high"]
    assert covered / trials >= 0.88  # 95 % nominal; a percentile bootstrap on 60 images runs slightly short


def test_records_without_faces_or_group_column_are_refused() -> None:
    table = _records(["a"], [["dark"]])
    with pytest.raises(BiasError, match="faces"):
        run_bias(table.drop_columns(["faces.faces"]), by="group")
    with pytest.raises(BiasError, match="nope"):
        run_bias(table, by="nope")
    with pytest.raises(BiasError, match="provenance signal"):
        run_bias(table, by="prompt")
    no_prompts = table.append_column("provenance.metadata.prompt", pa.nulls(1, pa.string()))
    with pytest.raises(BiasError, match="provenance signal"):  # the provenance signal ran but found none
        run_bias(no_prompts, by="prompt")


def test_prompts_come_from_generation_metadata() -> None:
    table = _records(["x", "x", "x"], [["dark"], ["light"], ["light"]])
    table = table.append_column("provenance.metadata.prompt", pa.array(["a doctor", "a nurse", None]))
    groups = {r["group"]: r["faces"] for r in run_bias(table, by="prompt").summary["per_group"]}
    assert groups == {"a doctor": 1, "a nurse": 1, "(none)": 1}


def test_failed_images_are_counted_not_judged() -> None:
    table = _records(["a", "a"], [["dark"], []])
    table = table.set_column(table.schema.get_field_index("faces.error"), "faces.error",
                             pa.array([None, "faces.too_small: 1×1 px"]))
    summary = run_bias(table, by="group").summary
    assert (summary["judged"], summary["not_judged"], summary["faces"]) == (1, 1, 1)


def test_scan_then_bias_end_to_end_writes_every_file_and_escapes_group_names(tmp_path: Path) -> None:
    hostile = tmp_path / "images" / "<img src=x onerror=alert(1)>"  # a folder name is a group name
    hostile.mkdir(parents=True)
    for name in ("kodim04", "kodim18", "kodim23"):
        shutil.copy(FIXTURES / f"{name}.jpg", hostile)
    for command in (("scan", str(tmp_path / "images"), "--signals", "faces", "--out", str(tmp_path / "scan")),
                    ("bias", str(tmp_path / "scan"), "--by", "folder", "--reference", str(tmp_path / "scan"),
                     "--out", str(tmp_path / "out"))):
        done = subprocess.run(genscope_command(*command), capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    out = tmp_path / "out"
    assert {p.name for p in out.iterdir()} == {"summary.json", "bias.parquet", "bias_groups.parquet", "report.html"}
    html = (out / "report.html").read_text()
    assert "<img src=x" not in html and "&lt;img src=x" in html
    assert html.count('<img src="data:image/jpeg;base64,') == 2  # the face grid: one crop per face
    assert pq.read_table(out / "bias.parquet").num_rows == 2
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["images"], summary["faces"], summary["categories"]) == (3, 2, list(CATEGORY_NAMES))


def test_recall_correction_gives_missed_faces_their_weight() -> None:
    # 4 light and 2 dark faces found; a detector that finds half the dark faces saw 4 light and 4 dark
    table = _records(["g"] * 6, [["light"]] * 4 + [["dark"]] * 2)
    summary = run_bias(table, by="group", recall={"dark": 0.5}).summary
    cell = summary["per_group"][0]
    assert cell["shares"]["dark"]["share"] == 0.5 and cell["faces"] == 6
    assert summary["recall_correction"]["recall"] == {"dark": 0.5}
    for bad in ({"purple": 0.5}, {"dark": 0.0}, {"dark": 1.5}):
        with pytest.raises(RecallError, match="recall"):
            run_bias(table, by="group", recall=bad)


def test_another_confidence_threshold_is_another_signal_version() -> None:
    assert FacesSignal.version_for({}) == FacesSignal.version_for({"min_score": 0.5}) == FacesSignal.version
    assert FacesSignal.version_for({"min_score": 0.7}) != FacesSignal.version


def test_the_hostile_corpus_gives_one_row_each_and_only_coded_face_errors(tmp_path: Path) -> None:
    """Truncated, CMYK, 16-bit, animated, bombs, tar shards, unreadable files: a row per input, and where the faces
    signal cannot judge an image it says why with one of its codes, never an exception's."""
    import genscope

    import hostile

    cases = hostile.build_corpus(tmp_path / "corpus")
    records = genscope.scan([str(tmp_path / "corpus")], out=tmp_path / "scan", signals=["faces"], report=False,
                            workers=1).records
    assert records.num_rows == len(cases)
    codes = {e.split(":", 1)[0] for e in records.column("faces.error").to_pylist() if e}
    assert codes <= {"faces.no_image", "faces.too_small"}, codes
    decoded = [r for r in records.select(["error", "faces.count", "faces.error"]).to_pylist() if r["error"] is None]
    assert len(decoded) > 10
    for row in decoded:  # a decoded image has a face count, unless it is too small to hold a face
        assert row["faces.count"] is not None or row["faces.error"].startswith("faces.too_small"), row
    summary = run_bias(records, by="folder").summary
    assert summary["judged"] + summary["not_judged"] == len(cases)


def test_a_group_is_compared_with_real_images_of_the_same_group_when_the_reference_has_them() -> None:
    generated = _records(["doctor"] * 4 + ["nurse"] * 4, [["very_light"]] * 4 + [["dark"]] * 4)
    real = _records(["doctor"] * 4 + ["pilot"] * 4, [["very_light"]] * 4 + [["dark"]] * 4)
    rows = {r["group"]: r for r in run_bias(generated, by="group", reference=real).summary["per_group"]}
    assert (rows["doctor"]["reference"], rows["doctor"]["tv"]) == ("matched", 0.0)  # real doctors: all very light
    assert (rows["nurse"]["reference"], rows["nurse"]["tv"]) == ("pooled", 0.5)  # no real nurses: half and half


def test_min_confidence_leaves_out_the_detectors_least_sure_faces() -> None:
    table = _records(["g", "g"], [["light"], ["dark"]])
    faces = table.column("faces.faces").to_pylist()
    faces[1][0]["confidence"] = 0.52  # a backlit silhouette, say
    at = table.schema.get_field_index("faces.faces")
    table = table.set_column(at, "faces.faces", pa.array(faces, pa.list_(FACE)))
    found = run_bias(table, by="group", min_confidence=0.6)
    assert found.summary["faces"] == 1 and found.summary["per_group"][0]["shares"]["light"]["share"] == 1.0
    assert found.faces.num_rows == 1


def test_recall_is_taken_as_a_mapping_json_text_or_a_json_file(tmp_path: Path) -> None:
    from genscope.api.bias import bias

    table = _records(["g"] * 6, [["light"]] * 4 + [["dark"]] * 2)
    (tmp_path / "recall.json").write_text('{"dark": 0.5}')
    for recall in ({"dark": 0.5}, '{"dark": 0.5}', tmp_path / "recall.json"):
        assert bias(table, by="group", recall=recall).summary["per_group"][0]["shares"]["dark"]["share"] == 0.5
    with pytest.raises(InputError, match="cannot read recall"):
        bias(table, by="group", recall=tmp_path / "missing.json")


def test_a_hand_built_table_still_gets_a_report_without_the_face_grid(tmp_path: Path) -> None:
    from genscope.api.bias import bias

    result = bias(_records(["<b>g</b>"] * 2, [["light"], ["dark"]]), by="group")
    html = result.report(tmp_path / "report.html").read_text()
    assert "&lt;b&gt;g&lt;/b&gt;" in html and "<b>g</b>" not in html and "Faces per group" not in html
    # the shipped detector's measured recall: dark faces 8–11.5 % of the image side, 13 of 20 found
    assert "recall per tone band, face size and pose" in html and "0.65 (20)" in html
    assert "False faces: 0 boxes on 197 real photos" in html
    assert "not corrected for the face detector's recall" in html


def test_records_on_disk_are_read_in_batches_and_give_what_the_table_gives(tmp_path: Path) -> None:
    from genscope.api.bias import bias

    cats = [["light"], [], ["dark", "brown"], ["very_light"], [], ["tan"]] * 5
    table = _records(["a", "b", "c"] * 10, cats)
    folder = tmp_path / "scan" / "records.parquet"
    folder.mkdir(parents=True)
    for part, start in enumerate(range(0, 30, 8)):  # four parts, as a scan writes them
        pq.write_table(table.slice(start, 8), folder / f"part-{part}.parquet")
    reference = _records(["a"] * 6, cats[:6])
    pq.write_table(reference, tmp_path / "reference.parquet")
    from_disk = bias(tmp_path / "scan", by="group", reference=tmp_path / "reference.parquet")
    in_memory = bias(table, by="group", reference=reference)
    assert from_disk.summary == in_memory.summary
    assert from_disk.faces.equals(in_memory.faces) and from_disk.faces.num_rows == 25
    (tmp_path / "images").mkdir()
    for target, message in ((tmp_path / "missing", "no such file"), (tmp_path / "images", "holds no genscope")):
        with pytest.raises(InputError, match=message):
            bias(target, by="group")


def test_the_tallies_hold_a_row_per_image_with_faces_only() -> None:
    from genscope.analyses.batches import Records
    from genscope.analyses.bias import tally
    from genscope.analyses.bias_recall import RecallCorrection

    table = _records(["a", "b"] * 50, [["dark"] if i < 10 else [] for i in range(100)])
    found, _, _ = tally(Records(table=table, batch_rows=16), "group", RecallCorrection.parse(None))
    assert found.cells.shape == (10, len(CATEGORY_NAMES)) and found.cells.dtype == np.int32
    assert found.empty.tolist() == [45, 45] and found.pooled().count == 100


def _sized(groups: list[str], faces: list[list[tuple[str, float]]]) -> pa.Table:
    """Records whose faces have a tone category and a size (box side over the image's shorter side)."""
    table = _records(groups, [[c for c, _ in image] for image in faces])
    rows = table.column("faces.faces").to_pylist()
    for image, sized in zip(rows, faces, strict=True):
        for face, (_, size) in zip(image, sized, strict=True):
            face["size"] = size
    return table.set_column(table.schema.get_field_index("faces.faces"), "faces.faces", pa.array(rows, pa.list_(FACE)))


def _measured(recall: dict[str, dict[float, float]], faces: int) -> dict:
    """A recall table as benchmarks/faces_recall.py writes it, each cell measured on ``faces`` faces."""
    return {"size_bands": [0.0, 0.1], "per_tone": {
        tone: {str(edge): {"faces": faces, "found": round(r * faces), "recall": r} for edge, r in cells.items()}
        for tone, cells in recall.items()}}


def test_a_known_miss_rate_per_tone_and_size_is_undone_by_the_correction() -> None:
    # a population of 4,000 one-face images, half of them small faces; the detector misses small dark faces most
    rng = np.random.default_rng(3)
    truth = {"light": 0.5, "brown": 0.3, "dark": 0.2}
    recall = {"light": {0.0: 0.8, 0.1: 1.0}, "brown": {0.0: 0.6, 0.1: 1.0}, "dark": {0.0: 0.35, 0.1: 0.95}}
    tones = rng.choice(list(truth), size=4000, p=list(truth.values()))
    sizes = rng.choice([0.05, 0.3], size=4000)
    seen = [[(t, s)] if rng.random() < recall[t][0.0 if s < 0.1 else 0.1] else []
            for t, s in zip(tones, sizes, strict=True)]
    table = _sized(["g"] * 4000, seen)
    raw = run_bias(table, by="group").summary["overall"]
    corrected = run_bias(table, by="group", recall=_measured(recall, 400)).summary
    for tone, share in truth.items():
        cell = corrected["overall"][tone]
        assert cell["low"] <= share <= cell["high"] and abs(cell["share"] - share) < 0.02, (tone, cell)
    assert raw["dark"]["high"] < truth["dark"] < corrected["overall"]["dark"]["high"]  # uncorrected: under-counted
    correction = corrected["recall_correction"]
    assert correction["size_bands"] == [0.0, 0.1] and correction["recall"]["dark"]["0.0"]["recall"] == 0.35
    # a recall measured on fewer faces is less certain: the interval widens
    loose = run_bias(table, by="group", recall=_measured(recall, 30)).summary["overall"]["dark"]
    tight = corrected["overall"]["dark"]
    assert loose["high"] - loose["low"] > 1.3 * (tight["high"] - tight["low"])


def test_a_band_the_detector_never_found_is_left_uncorrected_and_said_so() -> None:
    table = _sized(["g"] * 3, [[("dark", 0.02)], [("light", 0.3)], []])
    summary = run_bias(table, by="group", recall=_measured({"dark": {0.0: 0.0, 0.1: 1.0}}, 20)).summary
    assert summary["overall"]["dark"]["share"] == 0.5 and summary["recall_correction"]["faces_uncorrected"] == 1
    with pytest.raises(RecallError, match="size_bands"):
        run_bias(table, by="group", recall={"size_bands": [0.1, 0.0], "per_tone": {}})


def test_the_shipped_recall_is_a_correction_genscope_bias_can_apply(tmp_path: Path) -> None:
    from genscope.api.bias import bias

    table = _sized(["g"] * 4, [[("dark", 0.05)], [("light", 0.05)], [("light", 0.4)], [("dark", 0.4)]])
    summary = bias(table, by="group", recall="shipped").summary
    assert summary["recall_correction"]["size_bands"][0] == 0.0
    assert summary["overall"]["dark"]["share"] > 0.5  # small dark faces are missed most: each found one counts more
    html = bias(table, by="group", recall="shipped").report(tmp_path / "report.html").read_text()
    assert "corrected for the face detector's recall per tone band and face size" in html


def test_the_face_grid_picks_faces_spread_over_the_tone_range_lightest_first() -> None:
    from genscope.report.bias_section import pick_faces

    faces = pa.table({"group": ["g"] * 30 + ["h"], "ita": [*map(float, range(30)), 5.0], "path": ["p"] * 31})
    picked = [f["ita"] for f in pick_faces(faces, "g")]
    assert len(picked) == 12 and picked[0] == 29 and picked[-1] == 0 and picked == sorted(picked, reverse=True)
    with_null = pa.table({"group": ["g", "g"], "ita": pa.array([None, 3.0], pa.float32()), "path": ["a", "b"]})
    assert [f["path"] for f in pick_faces(with_null, "g")] == ["b"]  # a face without a tone has no place in it


def test_empty_records_give_an_empty_audit() -> None:
    summary = run_bias(_records([], []), by="group").summary
    assert (summary["images"], summary["faces"], summary["groups"], summary["per_group"]) == (0, 0, 0, [])
