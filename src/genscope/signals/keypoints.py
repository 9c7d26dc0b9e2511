"""ORB keypoints for local-feature copy search: ``keypoints.xy`` (x, y fractions, flattened) + ``keypoints.codes``
(the 32-byte descriptors concatenated); see ``genscope.models.descriptor.local``. ``KeypointsSignal`` is the
reference side (up to 500, about 20 KB per image); ``QueryKeypointsSignal`` the denser query side of
``genscope replicate`` (up to 1,500 at twice the size plus 500 at the references' size), with its own version so
the two never mix. ``NativeKeypointsSignal`` is dedup's: the reference setting, but an image smaller than
``LONGER`` keeps its own size: upscaling a 160 px thumbnail to 512 px costs ~15× the ORB time (on the dedup
benchmark, where a third of the images are smaller, native keypoints cost 0.004 pair precision)."""

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
        return [self.row(self.find(sample.image)) for sample in batch]

    @staticmethod
    def row(found: Keypoints) -> dict[str, Any]:
        return {"xy": found.xy.ravel().tolist(), "codes": found.codes.tobytes()}

    @staticmethod
    def find(image) -> Keypoints:
        return keypoints(image, MAX_KEYPOINTS, LONGER)


class NativeKeypointsSignal(KeypointsSignal):
    version: ClassVar[str] = "orb-native-1"

    @staticmethod
    def find(image) -> Keypoints:
        return keypoints(image, MAX_KEYPOINTS, LONGER, upscale=False)


class QueryKeypointsSignal(KeypointsSignal):
    # 2: a second set at the references' size; 3: both sets again on the mirrored image (query_keypoints),
    # ``direct`` = how many of the keypoints come from the image itself
    version: ClassVar[str] = "orb-query-3"
    schema: ClassVar[pa.Schema] = KeypointsSignal.schema.append(pa.field("direct", pa.int32()))

    @staticmethod
    def row(found: Keypoints) -> dict[str, Any]:
        return KeypointsSignal.row(found) | {"direct": found.direct}

    @staticmethod
    def find(image) -> Keypoints:
        return query_keypoints(image)
