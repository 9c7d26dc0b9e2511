"""The face detector's recall per ITA category, and per face size where it was measured so, as a correction of tone
shares: every face found in a (category, size band) cell stands for 1/recall faces. A recall measured on n faces is
itself uncertain, so each bootstrap resample draws it from its Jeffreys posterior: the interval widens by as much."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from genscope.errors import InputError
from genscope.models.faces.skintone import CATEGORY_NAMES

INTERVAL_NOTE = ("each bootstrap resample draws every measured recall from its Beta(found + ½, missed + ½) posterior, "
                 "so the intervals include the recall's own uncertainty")


class RecallError(InputError):
    """A recall the correction cannot use."""


@dataclass(frozen=True)
class RecallCorrection:
    edges: np.ndarray  # lower edges of the size bands (a face's box side over the image's shorter side), from 0
    recall: np.ndarray  # (categories, bands); 1 where none was given
    measured: np.ndarray  # (categories, bands) faces each recall was measured on; 0: taken as exact
    given: dict[str, Any] | None = None

    @classmethod
    def parse(cls, recall: dict[str, Any] | None) -> RecallCorrection:
        """None; ``{"dark": 0.8, …}`` (per category, taken as exact); or what ``benchmarks/faces_recall.py`` writes:
        ``size_bands`` (lower edges) and ``per_tone`` → category → band's lower edge → ``faces``, ``found``,
        ``recall``."""
        shape = (len(CATEGORY_NAMES), 1)
        if recall is None:
            return cls(np.zeros(1), np.ones(shape), np.zeros(shape))
        if not isinstance(recall, dict):
            raise RecallError(f"recall must be a mapping, got {recall!r}")
        if "per_tone" in recall:
            return cls._measured(recall)
        unknown = set(recall) - set(CATEGORY_NAMES)
        if unknown or not all(_fraction(v) and v > 0 for v in recall.values()):
            raise RecallError(f"recall must map ITA categories ({', '.join(CATEGORY_NAMES)}) to numbers in (0, 1]; "
                              f"got {recall!r}")
        values = np.array([[recall.get(name, 1.0)] for name in CATEGORY_NAMES], dtype=np.float64)
        return cls(np.zeros(1), values, np.zeros(shape), recall)

    @classmethod
    def _measured(cls, recall: dict[str, Any]) -> RecallCorrection:
        edges = recall.get("size_bands", [0.0])
        per_tone = recall["per_tone"]
        if (not isinstance(per_tone, dict) or set(per_tone) - {*CATEGORY_NAMES, "unmeasured"} or not edges
                or edges[0] != 0 or list(edges) != sorted(set(edges))):
            raise RecallError("recall per size must have size_bands (ascending lower edges from 0) and per_tone "
                              f"(ITA category → band → faces, recall); got {sorted(recall)}")
        values, measured = np.ones((len(CATEGORY_NAMES), len(edges))), np.zeros((len(CATEGORY_NAMES), len(edges)))
        for i, name in enumerate(CATEGORY_NAMES):
            for j, edge in enumerate(edges):
                cell = per_tone.get(name, {}).get(str(edge))
                if cell is None:
                    continue
                if not (_fraction(cell.get("recall")) and isinstance(cell.get("faces"), int) and cell["faces"] > 0):
                    raise RecallError(f"recall of {name} at size {edge}: need faces > 0 and recall in [0, 1], "
                                      f"got {cell!r}")
                values[i, j], measured[i, j] = cell["recall"], cell["faces"]
        return cls(np.array(edges, dtype=np.float64), values, measured, recall)

    @property
    def bands(self) -> int:
        return len(self.edges)

    @property
    def cells(self) -> int:
        return len(CATEGORY_NAMES) * self.bands

    @property
    def correctable(self) -> np.ndarray:
        """Cells whose recall says something: one measured at 0 (no face of that tone and size was ever found) cannot
        weight the faces found there; they count once."""
        return self.recall > 0

    @property
    def weights(self) -> np.ndarray:
        return np.where(self.correctable, 1 / np.where(self.correctable, self.recall, 1), 1.0).ravel()

    def band_of(self, size: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.edges, np.nan_to_num(size), side="right") - 1

    def tones(self, cells: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Face counts per (category, band) cell, recall-weighted and summed into categories."""
        weighted = cells * (self.weights if weights is None else weights)
        return weighted.reshape(*cells.shape[:-1], len(CATEGORY_NAMES), self.bands).sum(axis=-1)

    def draw(self, rng: np.random.Generator, rounds: int) -> np.ndarray:
        """One weight per cell per resample: 1 / a recall drawn from its posterior where it was measured on faces,
        the fixed weight elsewhere."""
        random = (self.measured > 0) & self.correctable
        if not random.any():
            return self.weights[None, :]
        found = np.round(self.recall * self.measured)
        draws = rng.beta(found + 0.5, self.measured - found + 0.5, size=(rounds, *self.recall.shape))
        return np.where(random, 1 / draws, self.weights.reshape(self.recall.shape)).reshape(rounds, -1)

    def describe(self, found: np.ndarray) -> dict[str, Any] | None:
        """For summary.json: what was corrected and how; ``found``: faces found per cell."""
        if self.given is None:
            return None
        uncorrected = int(found.reshape(self.recall.shape)[~self.correctable].sum())
        if self.bands == 1 and not self.measured.any():
            return {"recall": self.given, "size_bands": None, "interval": "recall taken as exact",
                    "faces_uncorrected": uncorrected}
        cell = {name: {str(edge): {"recall": float(self.recall[i, j]), "faces": int(self.measured[i, j])}
                       for j, edge in enumerate(self.edges) if self.measured[i, j]}
                for i, name in enumerate(CATEGORY_NAMES)}
        return {"recall": cell, "size_bands": [float(e) for e in self.edges], "interval": INTERVAL_NOTE,
                "faces_uncorrected": uncorrected,
                "measured_on": self.given.get("folders"), "command": self.given.get("command")}


def _fraction(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1
