"""Copy search: the FAISS index, replication and dedup analyses, their CLI commands and reports."""

from __future__ import annotations

import argparse
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute
import pyarrow.parquet as pq
import pytest
from PIL import Image, ImageOps
from test_descriptor import jpeg, scene

from genscope.analyses.replication import wilson
from genscope.api.copies import dedup, replicate
from genscope.cli import UsageError
from genscope.index import DescriptorIndex, factory_string
from genscope.models.descriptor.local import MIN_INLIERS

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
KODAK = DATA / "detect" / "val" / "real" / "kodak_lossless"


def unit(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_flat_index_matches_brute_force_and_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    refs, queries = unit(rng, 500, 32), unit(rng, 40, 32)
    index = DescriptorIndex.build(refs, [f"r{i}" for i in range(500)], descriptor={"name": "x"})
    assert index.exact
    sims, rows = index.search(queries, k=5)
    brute = queries @ refs.T
    np.testing.assert_array_equal(rows, np.argsort(-brute, axis=1)[:, :5])
    np.testing.assert_allclose(sims, np.sort(brute, axis=1)[:, ::-1][:, :5], atol=1e-5)
    loaded = DescriptorIndex.load(index.save(tmp_path / "idx"))
    assert loaded.paths == index.paths and loaded.meta["descriptor"] == {"name": "x"}
    np.testing.assert_array_equal(loaded.search(queries, k=5)[1], rows)


def test_range_pairs_finds_every_pair_above_threshold():
    rng = np.random.default_rng(1)
    refs = unit(rng, 300, 16)
    index = DescriptorIndex.build(refs, [str(i) for i in range(300)])
    q, r, s = index.range_pairs(refs, 0.6)
    brute = refs @ refs.T
    expected = set(zip(*np.nonzero(brute >= 0.6), strict=True))
    assert set(zip(q.tolist(), r.tolist(), strict=True)) == {(int(a), int(b)) for a, b in expected}
    assert (s >= 0.6 - 1e-6).all()


def test_approximate_index_kinds():
    assert factory_string("auto", 1000, 128) == "Flat"
    assert factory_string("auto", 5_000_000, 128).startswith("IVF") and "PQ" in factory_string("auto", 5_000_000, 128)
    rng = np.random.default_rng(2)
    refs = unit(rng, 4000, 32)
    index = DescriptorIndex.build(refs, [str(i) for i in range(4000)], kind="ivf", nprobe=64)
    assert not index.exact
    _, rows = index.search(refs[:200], k=1)
    assert (rows[:, 0] == np.arange(200)).mean() > 0.95  # each vector finds itself
    np.testing.assert_allclose(index.vectors([3, 7]), refs[[3, 7]], atol=1e-6)  # for scoring voted candidates


def test_wilson_interval():
    low, high = wilson(0, 100)
    assert low == 0.0 and 0.03 < high < 0.04  # the rule of three, roughly
    low, high = wilson(50, 100)
    assert low == pytest.approx(0.4038, abs=1e-3) and high == pytest.approx(0.5962, abs=1e-3)
    assert wilson(0, 0) is None


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """Six reference pictures (+ an exact and a near duplicate); generated: three edited copies (one with a
    hostile name), two unrelated pictures, one broken file."""
    root = tmp_path_factory.mktemp("copies")
    ref, gen = root / "ref", root / "gen"
    ref.mkdir()
    gen.mkdir()
    for i in range(6):
        scene(100 + i).save(ref / f"r{i}.png")
    shutil.copy(ref / "r0.png", ref / "r0_again.png")  # exact duplicate bytes
    scene(100 + 1).resize((200, 150)).save(ref / "r1_small.jpg", quality=80)  # near duplicate
    jpeg(scene(102).crop((30, 20, 300, 220)), 50).save(gen / "copy_of_r2.jpg")
    ImageOps.mirror(scene(104)).save(gen / "<i>copy_of_r4&amp;.png")
    ImageOps.grayscale(scene(103)).save(gen / "grey_r3.png")  # weak for the descriptor, exact for pHash
    scene(200).save(gen / "new1.png")
    scene(201).save(gen / "new2.png")
    (gen / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    return ref, gen


def test_replicate_end_to_end(folders, tmp_path):
    ref, gen = folders
    out = tmp_path / "rep"
    result = replicate([str(gen)], out, reference=[str(ref)], threshold=0.6, k=5, workers=1, progress=False)
    matches = pq.read_table(out / "matches.parquet")
    assert matches.column_names == ["query", "reference", "similarity", "score", "phash_distance", "rank", "inliers",
                                    "box"]
    per_query = matches.group_by("query").aggregate([("rank", "max")]).to_pylist()
    assert len(per_query) == 5 and all(row["rank_max"] == 5 for row in per_query)
    top = {Path(r["query"]).name: (Path(r["reference"]).name, r["similarity"])
           for r in matches.to_pylist() if r["rank"] == 1}
    grey = [r for r in matches.to_pylist() if r["query"].endswith("grey_r3.png") and r["reference"].endswith("r3.png")]
    assert grey and grey[0]["phash_distance"] <= 10 and grey[0]["score"] >= 1.0
    assert top["copy_of_r2.jpg"][0] == "r2.png"
    assert top["<i>copy_of_r4&amp;.png"][0] == "r4.png"
    assert top["copy_of_r2.jpg"][1] > max(top["new1.png"][1], top["new2.png"][1])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["generated"] == 6 and summary["generated_without_descriptor"] == 1
    assert summary["references"] == 8
    assert summary["replicated"] == 3 and summary["replication_rate"] == 0.6
    low, high = summary["replication_rate_ci95"]
    assert low < 0.6 < high
    assert summary["descriptor"]["name"].startswith("lite0-mean-pcaw:")
    html = (out / "report.html").read_text()
    assert "&lt;i&gt;copy_of_r4&amp;amp;.png" in html and "<i>copy_of_r4" not in html
    assert html.count("data:image/jpeg;base64,") >= 8  # both sides of the four pairs
    assert result.summary == summary


def test_replicate_against_a_saved_index_and_incremental_update(folders, tmp_path):
    from genscope.api.copies import build_index

    ref, gen = folders
    idx = tmp_path / "idx"
    first = build_index([str(ref / "r0.png"), str(ref / "r1.png")], idx, workers=1, progress=False)
    assert first.meta["count"] == 2
    second = build_index([str(ref)], idx, workers=1, progress=False)  # resumes: two rows reused
    assert second.meta["count"] == 8
    result = replicate([str(gen / "copy_of_r2.jpg")], tmp_path / "rep", index=idx, threshold=0.6, workers=1,
                       progress=False, report=False)
    assert Path(result.top1.column("reference")[0].as_py()).name == "r2.png"
    assert not (tmp_path / "rep" / "report.html").exists()


def test_dedup_groups_exact_and_near_copies(folders, tmp_path):
    ref, _ = folders
    result = dedup([str(ref)], tmp_path / "dd", workers=1, progress=False)
    groups = {Path(r["path"]).name: r for r in pq.read_table(tmp_path / "dd" / "groups.parquet").to_pylist()}
    assert groups["r0.png"]["group_id"] == groups["r0_again.png"]["group_id"]
    assert groups["r0.png"]["exact_copies"] == 1
    assert groups["r1.png"]["group_id"] == groups["r1_small.jpg"]["group_id"]
    assert Path(groups["r1.png"]["representative"]).name == "r1.png"  # more pixels than the small copy
    keep = (tmp_path / "dd" / "keep.txt").read_text().splitlines()
    assert len(keep) == 6 and not any(p.endswith("r1_small.jpg") for p in keep)
    assert result.summary["removed"] == 2 and result.summary["exact_duplicate_files"] == 1
    exact = dedup([str(ref)], tmp_path / "ex", exact_only=True, workers=1, progress=False, report=False)
    assert exact.summary["groups"] == 1 and exact.summary["keep"] == 7


def parse(module, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    module.register(parser.add_subparsers())
    return parser.parse_args(argv)


def test_cli_commands(folders, tmp_path, capsys):
    from genscope.cli import dedup as dedup_cli
    from genscope.cli import index as index_cli
    from genscope.cli import memorization as memorization_cli
    from genscope.cli import replicate as replicate_cli

    ref, gen = folders
    args = parse(replicate_cli, ["replicate", "--generated", str(gen), "--out", str(tmp_path / "r")])
    with pytest.raises(UsageError, match="--reference"):
        args.func(args)
    args = parse(replicate_cli, ["replicate", "--generated", str(gen), "--index", str(tmp_path / "none"),
                                 "--out", str(tmp_path / "r"), "-q"])
    with pytest.raises(UsageError, match="no descriptor index"):
        args.func(args)
    args = parse(index_cli, ["index", str(ref), "--out", str(tmp_path / "idx"), "--workers", "1", "-q"])
    assert args.func(args) == 0
    args = parse(replicate_cli, ["replicate", "--generated", str(gen), "--index", str(tmp_path / "idx"),
                                 "--out", str(tmp_path / "r"), "--workers", "1", "--no-report",
                                 "--search-threads", "1"])
    import faiss

    before = faiss.omp_get_max_threads()
    try:
        assert args.func(args) == 0
        assert faiss.omp_get_max_threads() == 1
    finally:
        faiss.omp_set_num_threads(before)
    assert "replicate a reference" in capsys.readouterr().err
    args = parse(dedup_cli, ["dedup", str(ref), "--out", str(tmp_path / "d"), "--exact-only", "-q", "--workers", "1"])
    assert args.func(args) == 0 and (tmp_path / "d" / "keep.txt").exists()
    args = parse(memorization_cli, ["memorization", "--generated", str(gen), "--out", str(tmp_path / "m0"),
                                    "--group-by", "seed_of_nothing", "--workers", "1", "-q", "--no-report"])
    capsys.readouterr()
    assert args.func(args) == 0
    assert "no image has a 'seed_of_nothing' value" in capsys.readouterr().err  # printed even with -q
    with pytest.raises(SystemExit) as refused:  # argparse refuses it: exit code 2 with the reason
        parse(memorization_cli, ["memorization", "--generated", str(gen), "--out", str(tmp_path / "m"),
                                 "--threshold", "2"])
    assert refused.value.code == 2 and "cosine similarity" in capsys.readouterr().err


def overlap(a, b) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    return w * h / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h)


def kodak_folders(tmp_path: Path) -> tuple[list[Path], Path, Path]:
    """The Kodak photos, the first 8 at 384x256 in ``ref/`` (the references), and an empty ``gen/``."""
    photos = sorted(KODAK.glob("*.png"))
    ref, gen = tmp_path / "ref", tmp_path / "gen"
    ref.mkdir()
    gen.mkdir()
    for p in photos[:8]:
        Image.open(p).convert("RGB").resize((384, 256)).save(ref / p.name)
    return photos, ref, gen


@pytest.mark.skipif(not KODAK.is_dir(), reason="../shared/data/detect not present")
def test_region_search_finds_a_small_pasted_copy_and_outlines_it(tmp_path):
    from genscope.models.descriptor import load_descriptor

    photos, ref, gen = kodak_folders(tmp_path)
    original = Image.open(ref / photos[6].name)
    canvas = Image.open(photos[10]).convert("RGB").resize((768, 512))
    canvas.paste(original.resize((250, 166)), (470, 300))  # a third of the width, bottom right
    canvas.save(gen / "collage.jpg", quality=90)
    pasted = (470 / 768, 300 / 512, 720 / 768, 466 / 512)

    d = load_descriptor(threads=1)  # the whole-image descriptor alone does not rank the source first
    refs = d.embed([Image.open(ref / p.name) for p in photos[:8]])
    assert (d.embed([canvas]) @ refs.T)[0].argmax() != 6

    result = replicate([str(gen)], tmp_path / "rep", reference=[str(ref)], workers=1, progress=False)
    top = result.matches.filter(pa.compute.equal(result.matches.column("rank"), 1)).to_pylist()[0]
    assert Path(top["reference"]).name == photos[6].name
    assert top["inliers"] >= MIN_INLIERS and overlap(top["box"], pasted) > 0.5
    assert result.summary["replicated"] == 1 and result.summary["local_verification"]
    stored = pq.read_table(tmp_path / "rep" / "matches.parquet").to_pylist()[0]
    assert stored["box"] == pytest.approx(top["box"])
    html = (tmp_path / "rep" / "report.html").read_text()
    outline = re.search(r'class="box" style="left:([\d.]+)%;top:([\d.]+)%;width:([\d.]+)%;height:([\d.]+)%', html)
    left, top_, width, height = (float(v) for v in outline.groups())
    # the thumbnail is letterboxed into a square: 3:2 → full width, 2/3 of the height, centred
    assert overlap(((left) / 100, (top_ - 100 / 6) / (100 * 2 / 3), (left + width) / 100,
                    (top_ + height - 100 / 6) / (100 * 2 / 3)), pasted) > 0.5


@pytest.mark.skipif(not KODAK.is_dir(), reason="../shared/data/detect not present")
def test_a_mirrored_crop_is_verified_by_keypoints(tmp_path):
    """ORB is not mirror-invariant: the query's mirror keypoints give a flipped, cropped copy its inliers."""
    photos, ref, gen = kodak_folders(tmp_path)
    original = Image.open(ref / photos[3].name)
    ImageOps.mirror(original.crop((40, 20, 344, 236))).resize((608, 432)).save(gen / "flipped.jpg", quality=80)
    result = replicate([str(gen)], tmp_path / "rep", reference=[str(ref)], workers=1, progress=False, report=False)
    top = result.matches.filter(pa.compute.equal(result.matches.column("rank"), 1)).to_pylist()[0]
    assert Path(top["reference"]).name == photos[3].name
    assert top["inliers"] >= 3 * MIN_INLIERS and overlap(top["box"], (0, 0, 1, 1)) > 0.5


@pytest.mark.skipif(not (DATA / "detect" / "val").is_dir(), reason="../shared/data/detect not present")
def test_real_photo_copies_rank_first():
    from genscope.models.descriptor import load_descriptor

    photos = sorted((DATA / "detect" / "val" / "real" / "kodak_lossless").glob("*.png"))[:6]
    images = [Image.open(p).convert("RGB") for p in photos]
    d = load_descriptor(threads=1)
    refs = d.embed(images)
    for edit in (lambda im: jpeg(im.crop((0, 0, im.width * 3 // 4, im.height * 3 // 4)), 40),
                 lambda im: ImageOps.grayscale(im).convert("RGB")):
        copies = d.embed([edit(im) for im in images])
        assert ((copies @ refs.T).argmax(axis=1) == np.arange(len(images))).all()


def test_memorization_flags_the_prompt_whose_seeds_agree(tmp_path):
    from genscope.api.copies import memorization

    folder = tmp_path / "gen"
    folder.mkdir()
    rows = ["path,prompt"]
    for i in range(5):  # one prompt: five near-identical renders
        jpeg(scene(300), 40 + 10 * i).save(folder / f"sofa{i}.jpg")
        rows.append(f"sofa{i}.jpg,Canvas Wall Art Print sofa")
    for i in range(5):  # another: five different pictures
        scene(400 + i).save(folder / f"street{i}.png")
        rows.append(f"street{i}.png,a rainy street at night")
    (folder / "manifest.csv").write_text("\n".join(rows) + "\n")
    result = memorization([str(folder / "manifest.csv")], tmp_path / "mem", threshold=0.85, workers=1,
                          progress=False)
    ranked = {g["group"]: g for g in result.groups}
    assert result.groups[0]["group"] == "Canvas Wall Art Print sofa"
    assert ranked["Canvas Wall Art Print sofa"]["flagged"] and ranked["Canvas Wall Art Print sofa"]["clique_size"] == 5
    assert not ranked["a rainy street at night"]["flagged"]
    assert result.summary["groups_flagged"] == 1
    assert (tmp_path / "mem" / "report.html").exists()
