"""The reference side of local-feature copy search: a FAISS binary index of ORB codes that votes for
references, and every reference's keypoints for verifying the candidates (saved next to the descriptor index).

    kidx = KeypointIndex.build(keypoint_set)   # a KeypointSet, rows as in DescriptorIndex.paths
    kidx.vote(query_keypoints, top=10)        # [(row, votes)], most votes first
    kidx.keypoints(row)                        # Keypoints, for genscope.models.descriptor.local.verify

Each query keypoint votes for the reference owning its nearest code when that code is clearly nearer than
the second nearest (ratio test), so a reference collects votes for every part of the query it shares: an
object pasted small into another scene still gathers dozens. Memory: ``VOTE_KEYPOINTS`` × 32 bytes per
reference in the index (exact below ``AUTO_IVF`` codes, inverted lists above), plus every keypoint in
memory-mapped arrays (36 bytes each) read only for the candidates.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genscope.index.persist import faiss_module, save_npy
from genscope.models.descriptor.local import CODE_BYTES, RATIO, Keypoints, KeypointSet
from genscope.storage import atomic_write

VOTE_KEYPOINTS = 200  # strongest keypoints per reference in the voting index (all are kept for verification)
AUTO_IVF = 5_000_000  # codes; above, an inverted-file binary index (nprobe lists searched per code)
MIN_VOTES = 2
INDEX_FILE, ARRAYS = "keypoints.faiss", ("owner", "offsets", "xy", "codes", "valid")


@dataclass
class KeypointIndex:
    index: object  # faiss.IndexBinary over the voting codes
    owner: np.ndarray  # (m,) reference row of each indexed code
    refs: KeypointSet  # every reference's keypoints (memory-mapped when loaded)

    @classmethod
    def build(cls, refs: KeypointSet, *, nprobe: int = 16, seed: int = 0) -> KeypointIndex:
        faiss = faiss_module()
        counts = np.diff(refs.offsets)
        kept = np.minimum(counts, VOTE_KEYPOINTS)
        owner = np.repeat(np.arange(len(counts)), kept).astype(np.int32)
        # each reference's first (strongest) VOTE_KEYPOINTS codes
        voting = np.repeat(refs.offsets[:-1], kept) + np.arange(len(owner)) - np.repeat(np.cumsum(kept) - kept, kept)
        vectors = np.ascontiguousarray(refs.codes[voting])
        if len(vectors) < AUTO_IVF:
            index = faiss.IndexBinaryFlat(CODE_BYTES * 8)
        else:
            lists = int(min(65536, np.sqrt(len(vectors))))  # √n, not 4√n: k-means on bits trains slowly
            index = faiss.IndexBinaryIVF(faiss.IndexBinaryFlat(CODE_BYTES * 8), CODE_BYTES * 8, lists)
            sample = vectors[np.random.default_rng(seed).choice(len(vectors), min(len(vectors), 30 * lists),
                                                                replace=False)]
            index.train(sample)
            index.nprobe = nprobe
        index.add(vectors)
        return cls(index, owner, refs)

    def keypoints(self, row: int) -> Keypoints:
        return self.refs[row] or Keypoints(np.zeros((0, 2), np.float32), np.zeros((0, CODE_BYTES), np.uint8))

    def vote(self, query: Keypoints, top: int) -> list[tuple[int, int]]:
        """The ``top`` references with the most votes (at least ``MIN_VOTES``), most first."""
        if len(query) == 0 or self.index.ntotal < 2:
            return []
        distance, nearest = self.index.search(np.ascontiguousarray(query.codes), 2)
        clear = (nearest[:, 0] >= 0) & (distance[:, 0] < RATIO * distance[:, 1])
        votes = np.bincount(self.owner[nearest[clear, 0]], minlength=len(self.refs))
        best = np.argsort(-votes, kind="stable")[:top]
        return [(int(r), int(votes[r])) for r in best if votes[r] >= MIN_VOTES]

    def save(self, folder: str | Path) -> Path:
        faiss = faiss_module()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(folder / INDEX_FILE, lambda tmp: faiss.write_index_binary(self.index, str(tmp)))
        arrays = {"owner": self.owner} | {name: getattr(self.refs, name) for name in ARRAYS[1:]}
        for name, array in arrays.items():
            atomic_write(folder / f"keypoints-{name}.npy", lambda tmp, array=array: save_npy(tmp, array))
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> KeypointIndex | None:
        """The saved index, or None when ``folder`` has none (an index built without keypoints)."""
        folder = Path(folder)
        if not (folder / INDEX_FILE).is_file():
            return None
        index = faiss_module().read_index_binary(str(folder / INDEX_FILE))
        arrays = {name: np.load(folder / f"keypoints-{name}.npy", mmap_mode="r") for name in ARRAYS}
        owner = np.asarray(arrays.pop("owner"))
        return cls(index, owner, KeypointSet(**arrays))
