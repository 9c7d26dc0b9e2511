"""Local features for partial copies: ORB keypoints and geometric verification (OpenCV).

A global descriptor cannot see an object pasted small into a new scene, a cell of a collage, or a picture
rotated by 45°; keypoints can. Per reference image, up to ``MAX_KEYPOINTS`` ORB keypoints (rotation-invariant
binary descriptors, an 8-level scale pyramid) on the grey image resized to ``LONGER`` px; per query (generated
image) three times as many at twice the size, so that a copy pasted at a third of the width still gets
enough keypoints at the references' scale, plus a set at the references' own size for crops
(``query_keypoints``). Two images are the same
content when enough matched keypoints agree on one affine map (RANSAC): random pairs of photos reach about a
handful of such inliers, copies usually dozens to hundreds. The inliers' bounding box in the query is
the part of the query that was copied.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

MAX_KEYPOINTS, LONGER = 500, 512
QUERY_KEYPOINTS, QUERY_LONGER = 1500, 1024
# the query also gets the references' own setting: a crop of a reference blown up to QUERY_LONGER shows its
# content about 4× larger than the reference's keypoints do, beyond what ORB's 8-level pyramid (3.6×) spans
QUERY_SCALES = ((QUERY_KEYPOINTS, QUERY_LONGER), (MAX_KEYPOINTS, LONGER))
RATIO = 0.8  # Lowe's ratio test: keep a match only when clearly better than the second-best
RANSAC_ERROR = 0.02  # reprojection error allowed, as a fraction of the reference's sides
MIN_INLIERS = 12  # at or above: a verified copy (unrelated photos and flat drawings reached 9 at most)
# a copy's map is a similarity up to aspect changes and slants; RANSAC on unrelated images instead finds
# near-degenerate maps (points on one grid line or edge squashed onto each other, e.g. a collage's cell
# borders against a reference that is itself a grid), which these two checks reject
MAX_ANISOTROPY = 6.0  # largest ratio of the map's two singular values
MIN_SPAN = 0.05  # the inliers must spread over at least this fraction of the reference's width and height
CODE_BYTES = 32  # ORB descriptors are 256 bits
Box = tuple[float, float, float, float]


@dataclass
class Keypoints:
    xy: np.ndarray  # (n, 2) float32, positions as fractions of the image's width and height
    codes: np.ndarray  # (n, 32) uint8, ORB descriptors
    direct: int | None = None  # the first ``direct`` come from the image itself, the rest from its mirror image

    def __len__(self) -> int:
        return len(self.codes)

    def split(self) -> tuple[Keypoints, Keypoints]:
        """(the image's own keypoints, those of its mirror image); the second is empty without a mirror set."""
        n = len(self) if self.direct is None else self.direct
        return Keypoints(self.xy[:n], self.codes[:n]), Keypoints(self.xy[n:], self.codes[n:])


@dataclass
class KeypointSet:
    """Keypoints of many images in flat arrays (no per-image objects): image ``i`` has
    ``xy[offsets[i]:offsets[i + 1]]``; ``valid[i]`` is False for an image without keypoints (not computed)."""

    offsets: np.ndarray  # (n + 1,) int64
    xy: np.ndarray  # (total, 2) float32
    codes: np.ndarray  # (total, 32) uint8
    valid: np.ndarray  # (n,) bool

    def __len__(self) -> int:
        return len(self.valid)

    def __getitem__(self, i: int) -> Keypoints | None:
        if not self.valid[i]:
            return None
        a, b = self.offsets[i], self.offsets[i + 1]
        return Keypoints(np.asarray(self.xy[a:b]), np.asarray(self.codes[a:b]))

    @classmethod
    def of(cls, rows: list[Keypoints | None]) -> KeypointSet:
        counts = [0 if k is None else len(k) for k in rows]
        return cls(np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
                   np.concatenate([k.xy for k in rows if k is not None] or [np.zeros((0, 2), np.float32)]),
                   np.concatenate([k.codes for k in rows if k is not None] or [np.zeros((0, CODE_BYTES), np.uint8)]),
                   np.array([k is not None for k in rows], bool))


OPENCV_MISSING = "keypoint search needs OpenCV: pip install 'genscope[keypoints]'"


def opencv_installed() -> bool:
    return importlib.util.find_spec("cv2") is not None


def _cv2():
    try:
        import cv2
    except ImportError:
        raise ImportError(OPENCV_MISSING) from None
    cv2.setNumThreads(1)  # the engine already runs one worker per core
    return cv2


def keypoints(image: Image.Image, count: int = MAX_KEYPOINTS, longer: int = LONGER, upscale: bool = True) -> Keypoints:
    """ORB keypoints of ``image`` resized to ``longer`` px (``upscale=False``: a smaller image stays as it is):
    the ``count`` strongest corners, strongest first."""
    cv2 = _cv2()
    grey = image.convert("L")
    scale = longer / max(grey.size)
    if not upscale:
        scale = min(scale, 1.0)
    grey = grey.resize((max(8, round(grey.width * scale)), max(8, round(grey.height * scale))),
                       Image.Resampling.BILINEAR)
    pixels = np.asarray(grey)
    orb = cv2.ORB_create(nfeatures=count, scaleFactor=1.2, nlevels=8, fastThreshold=10)
    found, codes = orb.detectAndCompute(pixels, None)
    if codes is None:
        return Keypoints(np.zeros((0, 2), np.float32), np.zeros((0, CODE_BYTES), np.uint8))
    order = np.argsort([-k.response for k in found], kind="stable")  # strongest first: indexes keep a prefix
    xy = np.array([found[i].pt for i in order], np.float32) / np.array([pixels.shape[1], pixels.shape[0]], np.float32)
    return Keypoints(xy, codes[order])


def query_keypoints(image: Image.Image) -> Keypoints:
    """The query (generated image) side: ``keypoints`` at each of ``QUERY_SCALES``, concatenated, so both a
    reference pasted small into the query and a crop of one blown up to the query's size meet keypoints at
    the reference's scale; and the same again on the mirrored image, positions mapped back, because ORB is
    not mirror-invariant: a flipped copy otherwise has no keypoint evidence at all. The mirror set only
    verifies candidates (``Keypoints.split``; ``verify`` then fits a map with a reflection): letting it vote
    too added chance votes and inliers to unrelated references and cost the collage benchmark 0.012-0.014 AP
    on crops and collage cells."""
    mirrored = ImageOps.mirror(image)
    own = [keypoints(image, count, longer) for count, longer in QUERY_SCALES]
    found = own + [_unmirror(keypoints(mirrored, count, longer)) for count, longer in QUERY_SCALES]
    return Keypoints(np.concatenate([k.xy for k in found]), np.concatenate([k.codes for k in found]),
                     direct=sum(len(k) for k in own))


def _unmirror(found: Keypoints) -> Keypoints:
    return Keypoints(np.column_stack([1.0 - found.xy[:, 0], found.xy[:, 1]]).astype(np.float32), found.codes)


def plausible(matrix: np.ndarray, reference_points: np.ndarray) -> bool:
    """Whether an affine ``matrix`` (2×3, query → reference fractions) and its inliers' reference positions
    look like a copy rather than a degenerate fit: not squashed flat, and spread over the reference."""
    if not np.isfinite(matrix).all():  # RANSAC on (nearly) coincident points can return inf/NaN
        return False
    big, small = np.linalg.svd(matrix[:, :2], compute_uv=False)
    span = reference_points.max(axis=0) - reference_points.min(axis=0)
    return bool(big <= MAX_ANISOTROPY * small and span.min() >= MIN_SPAN)


def verify(query: Keypoints, reference: Keypoints) -> tuple[int, Box | None]:
    """RANSAC inliers of an affine map from ``query`` to ``reference`` keypoints (distinct reference keypoints),
    and the inliers' bounding box in the query (fractions); ``(0, None)`` when fewer than 3 matches survive
    the ratio test or the map is not ``plausible``."""
    if len(query) < 3 or len(reference) < 3:
        return 0, None
    cv2 = _cv2()
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(query.codes, reference.codes, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
    if len(good) < 3:
        return 0, None
    src = query.xy[[m.queryIdx for m in good]]
    dst = reference.xy[[m.trainIdx for m in good]]
    matrix, mask = cv2.estimateAffine2D(src, dst, ransacReprojThreshold=RANSAC_ERROR, maxIters=1000,
                                        refineIters=0)
    if mask is None or not mask.any():
        return 0, None
    keep = mask.ravel().astype(bool)
    if not plausible(matrix, dst[keep]):
        return 0, None
    # count distinct reference keypoints: the denser query can match one reference corner several times,
    # which inflated counts on flat synthetic drawings
    distinct = len({m.trainIdx for m, ok in zip(good, keep, strict=True) if ok})
    x0, y0 = src[keep].min(axis=0).clip(0, 1)
    x1, y1 = src[keep].max(axis=0).clip(0, 1)
    return distinct, (float(x0), float(y0), float(x1), float(y1))
