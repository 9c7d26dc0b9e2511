"""Local features for partial copies: ORB keypoints, geometric verification, the voting keypoint index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from PIL import Image, ImageOps

from genscope.analyses.descriptors import keypoints_of
from genscope.index import KeypointIndex
from genscope.models.descriptor.local import (
    MIN_INLIERS,
    QUERY_KEYPOINTS,
    QUERY_LONGER,
    KeypointSet,
    keypoints,
    query_keypoints,
    verify,
)
from genscope.signals.base import Sample
from genscope.signals.keypoints import KeypointsSignal, QueryKeypointsSignal

KODAK = Path(__file__).resolve().parents[2] / "shared/data/detect/val/real/kodak_lossless"
pytestmark = pytest.mark.skipif(not KODAK.is_dir(), reason="../shared/data/detect (Kodak photos) not present")


def photo(i: int, size: tuple[int, int] = (384, 256)) -> Image.Image:
    with Image.open(sorted(KODAK.glob("*.png"))[i]) as im:
        return im.convert("RGB").resize(size)


def query(image: Image.Image):
    return keypoints(image, QUERY_KEYPOINTS, QUERY_LONGER)


def test_verify_finds_a_rotated_pasted_copy_and_where_it_is():
    original, canvas = photo(6), photo(1, (768, 512))
    part = original.rotate(30, expand=True, resample=Image.Resampling.BILINEAR).resize((300, 260))
    canvas.paste(part, (420, 220))
    inliers, box = verify(query(canvas), keypoints(original))
    assert inliers >= 3 * MIN_INLIERS
    x0, y0, x1, y1 = box  # inside the pasted square (the rotated picture does not fill its corners)
    assert x0 >= 420 / 768 - 0.02 and y0 >= 220 / 512 - 0.02 and x1 <= 720 / 768 + 0.02 and y1 <= 480 / 512 + 0.02
    assert (x1 - x0) * (y1 - y0) > 0.3 * (300 / 768) * (260 / 512)
    for other in (0, 2, 3):
        assert verify(query(photo(other, (768, 512))), keypoints(original))[0] < MIN_INLIERS


def test_a_mirrored_copy_is_verified_through_the_mirrored_query_keypoints():
    """ORB is not mirror-invariant: only the query's mirrored keypoints (positions mapped back) match a flipped
    copy, through a map with a reflection; the box is still in the query's own coordinates."""
    original = photo(6)
    canvas = photo(1, (768, 512))
    canvas.paste(ImageOps.mirror(original).resize((360, 240)), (60, 40))
    own, mirrored = query_keypoints(canvas).split()
    assert len(own) == len(mirrored) > 1000
    assert verify(own, keypoints(original))[0] < MIN_INLIERS  # the image's own keypoints miss it
    inliers, box = verify(mirrored, keypoints(original))
    assert inliers >= 3 * MIN_INLIERS
    x0, y0, x1, y1 = box
    assert x0 >= 60 / 768 - 0.02 and y0 >= 40 / 512 - 0.02 and x1 <= 420 / 768 + 0.02 and y1 <= 280 / 512 + 0.02
    for other in (0, 2, 3):
        assert verify(query_keypoints(photo(other, (768, 512))).split()[1], keypoints(original))[0] < MIN_INLIERS


def test_keypoint_index_votes_for_the_source_and_round_trips(tmp_path):
    refs = [keypoints(photo(i)) for i in range(6)]
    index = KeypointIndex.build(KeypointSet.of([*refs[:3], None, *refs[3:]]))  # row 3: without keypoints
    crop = query(photo(4, (768, 512)).crop((100, 80, 600, 440)))  # photo 4 is row 5
    votes = index.vote(crop, top=3)
    assert votes[0][0] == 5 and (len(votes) == 1 or votes[0][1] > 3 * votes[1][1])
    loaded = KeypointIndex.load(index.save(tmp_path))
    assert loaded.vote(crop, top=3) == votes
    np.testing.assert_array_equal(loaded.keypoints(5).codes, refs[4].codes)
    assert len(loaded.keypoints(3)) == 0
    assert KeypointIndex.load(tmp_path / "none") is None


def test_signals_round_trip_through_records():
    image = photo(7)
    rows = [cls().compute([Sample(path="a.png", data=b"", image=image)])[0]
            for cls in (KeypointsSignal, QueryKeypointsSignal)]
    assert KeypointsSignal.version != QueryKeypointsSignal.version
    table = pa.Table.from_pylist([{"keypoints.xy": r["xy"], "keypoints.codes": r["codes"]} for r in rows]
                                 + [{"keypoints.xy": None, "keypoints.codes": None}])
    found = keypoints_of(table)
    reference, dense, missing = found[0], found[1], found[2]
    assert len(found) == 3 and missing is None and 100 < len(reference) <= 500 < len(dense)
    np.testing.assert_array_equal(reference.codes, keypoints(image).codes)
    assert (reference.xy >= 0).all() and (reference.xy <= 1).all()
    assert set(rows[0]) == set(KeypointsSignal.schema.names) and set(rows[1]) == set(QueryKeypointsSignal.schema.names)
    assert 500 < rows[1]["direct"] < len(dense)  # the image's own keypoints first, then its mirror image's
