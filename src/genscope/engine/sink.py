"""Where engine rows go: record parts on disk, and the counts the summary reports.

Both engines use it: the local engine in the driver process, the Ray engine inside each actor
(every actor writes its own parts, the driver only adds up the tallies).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from genscope.engine.worker import UNCHANGED, BatchStats
from genscope.records import PartWriter


@dataclass
class Tally:
    computed: int = 0
    reused: int = 0
    errors: int = 0
    read_ms: float = 0.0
    decode_ms: float = 0.0
    signal_ms: dict[str, float] = field(default_factory=dict)
    signal_images: dict[str, int] = field(default_factory=dict)

    def add(self, stats: BatchStats, computed: int) -> None:
        self.computed += computed
        self.read_ms += stats.read_ms
        self.decode_ms += stats.decode_ms
        _add_counts(self.signal_ms, stats.signal_ms)
        _add_counts(self.signal_images, stats.signal_images)

    def merge(self, other: Tally) -> None:
        self.add(BatchStats(other.read_ms, other.decode_ms, other.signal_ms, other.signal_images), other.computed)
        self.reused += other.reused
        self.errors += other.errors

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def timing(self, started: float, finished: float, workers: int) -> dict[str, Any]:
        wall = max(finished - started, 1e-9)
        per_input = max(self.computed + self.reused, 1)
        return {
            "wall_s": round(wall, 3),
            "images_per_s": round((self.computed + self.reused) / wall, 2),
            "computed": self.computed,
            "reused_from_previous_run": self.reused,
            "workers": workers,
            "images_per_signal": dict(self.signal_images),
            # Per image the step actually ran on (reading also covers reused rows: they are re-hashed).
            "cpu_ms_per_image": {
                "read": round(self.read_ms / per_input, 3),
                "decode": round(self.decode_ms / max(self.computed, 1), 3),
                **{name: round(ms / max(self.signal_images.get(name, 0), 1), 3)
                   for name, ms in self.signal_ms.items()},
            },
        }


def _add_counts(total: dict, more: dict) -> None:
    for name, value in more.items():
        total[name] = total.get(name, 0) + value


def merge_row(old: dict[str, Any], new: dict[str, Any], computed: tuple[str, ...]) -> dict[str, Any]:
    """The previous row with this run's file facts and freshly computed signals laid over it."""
    merged = dict(old)
    for key, value in new.items():
        prefix = key.split(".", 1)[0] if "." in key else None
        if prefix is None or prefix in computed:
            merged[key] = value
    return merged


class RecordSink:
    """Engine rows → parts: unchanged rows are only counted, partial recomputes are merged into
    the previous row (``previous(path)``), everything else is written as it comes."""

    def __init__(self, writer: PartWriter, previous: Callable[[str], dict[str, Any]]) -> None:
        self.writer = writer
        self.previous = previous
        self.tally = Tally()

    def add(self, rows: list[dict[str, Any]], stats: BatchStats) -> None:
        fresh = []
        for row in rows:
            if row.get(UNCHANGED):
                self.tally.reused += 1
                continue
            partial = row.pop("__partial__", None)
            fresh.append(merge_row(self.previous(row["path"]), row, partial) if partial is not None else row)
        self.tally.add(stats, len(fresh))
        self.tally.errors += sum(1 for row in fresh if row.get("error"))
        self.writer.add(fresh)
