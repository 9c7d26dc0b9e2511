"""Near-duplicate dedup: pair evidence (descriptor, pHash either way round, keypoints), the chaining guard,
pairs.parquet, and the CLI's threshold options."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image, ImageEnhance, ImageOps

from genscope.analyses.dedup_pairs import DESCRIPTOR, KEYPOINTS, PHASH, PairJudge, Rule
from genscope.api.copies import dedup, dedup_descriptor
from genscope.api.scan import scan
from genscope.cli import UsageError
from genscope.models.descriptor import load_descriptor
from genscope.models.descriptor.lite0 import FAST, FULL, FULL_MODE, Lite0Descriptor
from genscope.models.descriptor.local import KeypointSet, keypoints
from genscope.signals.keypoints import KeypointsSignal, NativeKeypointsSignal
from genscope.signals.phash import hamming, phash, phashes

KODAK = Path(__file__).resolve().parents[2] / "shared" / "data" / "detect" / "val" / "real" / "kodak_lossless"


def kodak(name: str) -> Image.Image:
    path = KODAK / name
    if not path.is_file():
        pytest.skip(f"shared data missing: {path}")
    with Image.open(path) as image:
        return image.convert("RGB")


def test_mirror_hash_is_the_hash_of_the_mirror_image():
    image = kodak("kodim08.png")
    direct, mirror = phashes(image)
    assert direct == phash(image)
    assert mirror == phash(ImageOps.mirror(image))
    assert hamming(direct, mirror) > 10  # so a flipped copy needs the mirror hash to match


def test_rule_refuses_a_floor_above_the_threshold():
    with pytest.raises(ValueError, match="floor"):
        Rule(similarity=0.5, floor=0.6)


def judge(similarities: list[float], hashes: list[int], rule: Rule) -> PairJudge:
    """Row 0 against rows 1..n with the given cosines (unit vectors in 2-d), pHashes, no keypoints."""
    angles = np.arccos(np.clip([1.0, *similarities], -1, 1))
    vectors = np.column_stack([np.cos(angles), np.sin(angles)]).astype(np.float32)
    h = np.array(hashes, np.uint64)
    return PairJudge(vectors, h, h, np.ones(len(h), bool), None, rule)


def test_evidence_order_descriptor_then_phash_and_nothing_below_the_floor():
    rule = Rule(similarity=0.9, floor=0.3, phash=4, inliers=10)
    j = judge([0.95, 0.5, 0.5, 0.1], [0, 0xFFFF, 0b111, 0b11111, 0], rule)
    assert j(0, 1).evidence == DESCRIPTOR
    assert (j(0, 2).evidence, j(0, 2).phash_distance) == (PHASH, 3)
    assert j(0, 3).evidence is None and j(0, 3).inliers is None  # band, pHash too far, no keypoints to ask
    assert j(0, 4).evidence is None  # identical pHash, but below the floor
    assert j.verified == 0


@pytest.fixture(scope="module")
def edited(tmp_path_factory) -> Path:
    """Two photos with edited copies, a third photo, a collage of the second and third (a bridge between two
    unrelated pictures), and a broken file."""
    folder = tmp_path_factory.mktemp("dedup")
    a, b, c = kodak("kodim08.png"), kodak("kodim05.png"), kodak("kodim09.png")
    a.save(folder / "a.png")
    a.rotate(10, resample=Image.Resampling.BILINEAR, expand=True).save(folder / "a_rot10.jpg", quality=90)
    ImageEnhance.Contrast(ImageEnhance.Color(a).enhance(1.6)).enhance(0.7).save(folder / "a_jitter.jpg", quality=90)
    b.save(folder / "b.png")
    ImageOps.mirror(b).save(folder / "b_flip.jpg", quality=90)
    c.save(folder / "c.png")
    collage = Image.new("RGB", (b.width + c.width, max(b.height, c.height)))
    collage.paste(b, (0, 0))
    collage.paste(c, (b.width, 0))
    collage.save(folder / "collage_bc.png")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    return folder


def test_edited_copies_group_and_the_collage_does_not_chain(edited: Path, tmp_path: Path):
    result = dedup([str(edited)], tmp_path / "dd", workers=1, progress=False, report=False)
    assert result.summary["descriptor"]["version"] == "lite0-fast-1"  # dedup's default on a new folder
    group = {Path(r["path"]).name: r["group_id"] for r in result.groups.to_pylist()}
    assert group["a.png"] == group["a_rot10.jpg"] == group["a_jitter.jpg"]
    assert group["b.png"] == group["b_flip.jpg"]
    assert group["a.png"] != group["b.png"]
    # the collage is a keypoint duplicate of both b and c, but b and c are not duplicates: the guard refuses
    # the merge that would chain them
    assert group.get("c.png") != group["b.png"] and result.summary["merges_refused"] >= 1
    assert result.summary["inputs"] == 8 and result.summary["decoded"] == 7  # the broken file is an error row
    assert "broken.jpg" not in {Path(p).name for p in result.keep}
    pairs = pq.read_table(tmp_path / "dd" / "pairs.parquet")
    assert pairs.column_names == ["path_a", "path_b", "similarity", "phash_distance", "inliers", "evidence",
                                  "same_group"]
    rows = {frozenset((Path(r["path_a"]).name, Path(r["path_b"]).name)): r for r in pairs.to_pylist()}
    assert rows[frozenset(("a.png", "a_rot10.jpg"))]["evidence"] in (KEYPOINTS, PHASH, DESCRIPTOR)
    assert rows[frozenset(("b.png", "b_flip.jpg"))]["evidence"] == DESCRIPTOR  # the descriptor ignores mirroring
    assert rows[frozenset(("b.png", "collage_bc.png"))]["evidence"] == KEYPOINTS
    assert rows[frozenset(("c.png", "collage_bc.png"))]["evidence"] == KEYPOINTS
    tight = {Path(r["path"]).name: r["similarity_to_representative"] for r in result.groups.to_pylist()}
    assert tight[Path(result.groups.to_pylist()[0]["representative"]).name] == pytest.approx(1.0, abs=1e-4)
    assert result.summary["loosest_groups"][0]["tightness"] == pytest.approx(min(v for v in tight.values() if v))


def test_cli_refuses_a_floor_above_the_threshold(tmp_path: Path):
    from genscope.cli import dedup as dedup_cli

    parser = argparse.ArgumentParser()
    dedup_cli.register(parser.add_subparsers())
    args = parser.parse_args(["dedup", str(tmp_path), "--out", str(tmp_path / "d"), "--threshold", "0.5",
                              "--floor", "0.7", "-q"])
    with pytest.raises(UsageError, match="floor"):
        args.func(args)
    with pytest.raises(SystemExit):
        parser.parse_args(["dedup", str(tmp_path), "--out", str(tmp_path / "d"), "--max-phash-distance", "65"])


def test_dedup_reuses_the_lite0_descriptors_of_a_scanned_folder(edited: Path, tmp_path: Path):
    out = tmp_path / "dd"
    assert dedup_descriptor(out) == "lite0-fast"  # nothing scanned yet
    scan([str(edited)], out, signals=["descriptor", "phash", "keypoints"], workers=1, progress=False, report=False)
    assert dedup_descriptor(out) == "lite0"
    result = dedup([str(edited)], out, workers=1, progress=False, report=False)
    assert result.summary["descriptor"]["version"] == "lite0-1"
    assert result.summary["near_duplicate_pairs"] >= 3


def test_fast_descriptor_is_a_version_of_its_own_and_ignores_mirroring():
    image = kodak("kodim05.png")
    fast, full = load_descriptor("lite0-fast", threads=1), load_descriptor("lite0", threads=1)
    assert fast.version != full.version
    direct, mirrored = fast.embed([image, ImageOps.mirror(image)])
    assert float(direct @ mirrored) == pytest.approx(1.0, abs=1e-3)
    assert float(direct @ full.embed([image])[0]) < 0.99  # not interchangeable with lite0's vectors


def test_fast_mode_never_upscales_and_batched_embedding_equals_one_by_one():
    small = kodak("kodim05.png").resize((120, 80))
    assert (FAST.side(small, 224), FULL_MODE.side(small, 224)) == (120, 224)
    descriptor = Lite0Descriptor(threads=1)
    images = [small, small.rotate(5), kodak("kodim08.png")]  # two of one shape share a network call
    one_by_one = descriptor.whiten(np.concatenate([descriptor.features.pooled(im, [FULL])[0] for im in images]))
    np.testing.assert_allclose(descriptor.embed(images), one_by_one, atol=1e-5)


def test_native_keypoints_keep_a_small_image_at_its_size():
    photo = kodak("kodim05.png")  # 768 px wide: both settings resize it to 512
    small = photo.resize((192, 128))
    assert np.array_equal(NativeKeypointsSignal.find(small).codes, keypoints(small, longer=192).codes)
    assert not np.array_equal(KeypointsSignal.find(small).codes, keypoints(small, longer=192).codes)
    assert np.array_equal(NativeKeypointsSignal.find(photo).codes, KeypointsSignal.find(photo).codes)


def test_verifying_open_pairs_on_threads_gives_the_serial_judgements():
    a = kodak("kodim08.png")
    images = [a, a.rotate(10, resample=Image.Resampling.BILINEAR, expand=True), kodak("kodim05.png")]
    points = KeypointSet.of([keypoints(image) for image in images])
    # every pair at cosine 0.5 (the band) with pHashes far apart: only keypoints can settle them
    vectors = np.array([[1, 0, 0], [0.5, 0.75 ** 0.5, 0], [0.5, 0.25 / 0.75 ** 0.5, (2 / 3) ** 0.5]], np.float32)
    hashes = np.array([0, 0xFFFFFFFF00000000, 0x00000000FFFFFFFF], np.uint64)
    rule = Rule(similarity=0.9, floor=0.15, phash=10, inliers=10)
    pairs = np.array([[0, 1], [0, 2], [1, 2], [1, 0]])
    serial, threaded = (PairJudge(vectors, hashes, hashes, np.ones(3, bool), points, rule) for _ in range(2))
    threaded.verify_open(pairs, threads=2)
    assert threaded.verified == 3  # (1, 0) is (0, 1)
    assert [threaded(i, j) for i, j in pairs] == [serial(i, j) for i, j in pairs]
    assert threaded.verified == 3 and serial.verified == 3
    assert threaded(0, 1).evidence == KEYPOINTS and threaded(0, 2).evidence is None
