"""ORB keypoints for local-feature copy search: ``keypoints.xy`` (x, y fractions, flattened) + ``keypoints.codes``
(the 32-byte descriptors concatenated); see ``genscope.models.descriptor.local``. ``KeypointsSignal`` is the
reference side (up to 500, about 20 KB per image); ``QueryKeypointsSignal`` the denser query side of
``genscope replicate`` (up to 1,500 at twice the size), with its own version so the two never mix."""

from __future__ import annotations

from typing import Any, ClassVar

import pyarrow as pa

from genscope.models.descriptor.local import (
    LONGER,
    MAX_KEYPOINTS,
    OPENCV_MISSING,
    QUERY_KEYPOINTS,
    QUERY_LONGER,
    keypoints,
    opencv_installed,
)
from genscope.signals.base import Sample


class KeypointsSignal:
    name: ClassVar[str] = "keypoints"
    version: ClassVar[str] = "orb-1"
    needs_image: ClassVar[bool] = True
    schema: ClassVar[pa.Schema] = pa.schema([("xy", pa.list_(pa.float32())), ("codes", pa.binary())])
    count: ClassVar[int] = MAX_KEYPOINTS
    longer: ClassVar[int] = LONGER

    def __init__(self) -> None:
        if not opencv_installed():  # fail at start with the fix, not on every image
            raise ImportError(OPENCV_MISSING)

    def compute(self, batch: list[Sample]) -> list[dict[str, Any]]:
        out = []
        for sample in batch:
            found = keypoints(sample.image, self.count, self.longer)
            out.append({"xy": found.xy.ravel().tolist(), "codes": found.codes.tobytes()})
        return out


class QueryKeypointsSignal(KeypointsSignal):
    version: ClassVar[str] = "orb-query-1"
    count: ClassVar[int] = QUERY_KEYPOINTS
    longer: ClassVar[int] = QUERY_LONGER
