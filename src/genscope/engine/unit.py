"""One unit's share of a run, wherever it runs: its members, its earlier rows, its sink, its finish.

The local engine opens units in its driver process as the pool asks for work; a Ray actor opens
the unit it was handed. Either way only this unit's members and rows are in memory.
"""

from __future__ import annotations

from collections.abc import Iterator

from genscope.engine.base import Job, UnitReport
from genscope.engine.sink import RecordSink
from genscope.engine.worker import Task
from genscope.records import Existing, PartWriter, finish_unit, list_parts
from genscope.sources import Item, Unit
from genscope.storage import Folder


class UnitRun:
    def __init__(self, unit: Unit, job: Job, run: str) -> None:
        self.unit = unit
        self.job = job
        self.folder = Folder.at(job.out)
        self.members: list[Item] = []
        self.duplicates = 0
        seen: set[str] = set()
        for item in unit.members():
            if item.path in seen:
                self.duplicates += 1
            else:
                seen.add(item.path)
                self.members.append(item)
        self.existing = Existing.load(self.folder, list_parts(self.folder, unit.key))
        self.sink = RecordSink(PartWriter(self.folder, job.schema, run=f"{unit.key}-{run}"), self.existing.row)
        self.pending = 0  # tasks handed out whose rows have not come back

    def tasks(self) -> Iterator[Task]:
        """A task per member: everything for a new or failed one, else only its missing or stale signals."""
        for item in self.members:
            stale = self.existing.stale_signals(item.path, self.job.versions)
            if stale is None:
                yield Task(item)
            else:
                yield Task(item, expected_sha256=self.existing.sha256[item.path], only=tuple(stale))

    def finish(self) -> UnitReport:
        self.sink.writer.flush()
        dropped = finish_unit(self.folder, self.job.schema, self.unit.key, [item.path for item in self.members])
        return UnitReport(key=self.unit.key, inputs=len(self.members), duplicates=self.duplicates, dropped=dropped,
                          tally=self.sink.tally)
