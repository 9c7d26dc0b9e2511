"""ORB keypoints for local-feature copy search: ``keypoints.xy`` (x, y fractions, flattened) + ``keypoints.codes``
(the 32-byte descriptors concatenated); see ``genscope.models.descriptor.local``. ``KeypointsSignal`` is the
reference side (up to 500, about 20 KB per image); ``QueryKeypointsSignal`` the denser query side of
``genscope replicate`` (up to 1,500 at twice the size plus 500 at the references' size), with its own version so
the two never mix."""

from __future__ import annotations

from typing import Any, ClassVar

import pyarrow as pa

from genscope.models.descriptor.local import (
    LONGER,
    MAX_KEYPOINTS,
    OPENCV_MISSING,
    Keypoints,
    keypoints,
    opencv_installed,
    query_keypoints,
)
from genscope.signals.base import Sample


class KeypointsSignal:
    name: ClassVar[str] = "keypoints"
    version: ClassVar[str] = "orb-1"
    needs_image: ClassVar[bool] = True
    schema: ClassVar[pa.Schema] = pa.schema([("xy", pa.list_(pa.float32())), ("codes", pa.binary())])

    def __init__(self) -> None:
        if not opencv_installed():  # fail at start with the fix, not on every image
            raise ImportError(OPENCV_MISSING)

    def compute(self, batch: list[Sample]) -> list[dict[str, Any]]:
        out = []
        for sample in batch:
            found = self.find(sample.image)
            out.append({"xy": found.xy.ravel().tolist(), "codes": found.codes.tobytes()})
        return out

    @staticmethod
    def find(image) -> Keypoints:
        return keypoints(image, MAX_KEYPOINTS, LONGER)


class QueryKeypointsSignal(KeypointsSignal):
    version: ClassVar[str] = "orb-query-2"  # 2: a second set at the references' size (query_keypoints)

    @staticmethod
    def find(image) -> Keypoints:
        return query_keypoints(image)
