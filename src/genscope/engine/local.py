"""The local engine: units opened one after another in this process, their batches run on a worker pool.

Units are opened only as the pool asks for more work, so a few units (their members and earlier
rows) are in memory at a time, whatever the number of inputs. Batches never mix units: each result
goes to its unit's sink, and a unit is finished as soon as its last row is back.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

from genscope.engine.base import EngineOptions, Job, Progress, UnitReport
from genscope.engine.pool import Batch, WorkerPool
from genscope.engine.unit import UnitRun
from genscope.engine.worker import BatchStats, ScanConfig
from genscope.records import new_run_id
from genscope.sources import Unit


class LocalEngine:
    def __init__(self, options: EngineOptions) -> None:
        self.options = options
        self.workers = 0
        self._pool: WorkerPool | None = None

    def start(self, config: ScanConfig) -> None:
        """Start the workers now (models load) and keep them across runs, as a Ray actor does."""
        self.workers = self.options.workers or 1
        self._pool = WorkerPool(config, self.workers)
        self._pool.start()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def run(self, units: Sequence[Unit], job: Job, progress: Progress, *, run: str | None = None) -> list[UnitReport]:
        run = run or new_run_id()
        reports: list[UnitReport] = []
        open_units: dict[int, UnitRun] = {}
        exhausted: set[int] = set()

        def finish_if_done(index: int) -> None:
            unit = open_units[index]
            if index in exhausted and unit.pending == 0:
                del open_units[index]
                reports.append(unit.finish())
                progress.unit(reports[-1])

        def batches() -> Iterator[Batch]:
            for index, unit in enumerate(units):
                open_units[index] = current = UnitRun(unit, job, run)
                batch = []
                for task in current.tasks():
                    batch.append(task)
                    if len(batch) == self.options.batch_size:
                        current.pending += len(batch)
                        yield index, batch
                        batch = []
                if batch:
                    current.pending += len(batch)
                    yield index, batch
                exhausted.add(index)
                finish_if_done(index)

        def on_result(index: Any, rows: list[dict[str, Any]], stats: BatchStats) -> None:
            unit = open_units[index]
            errors = unit.sink.tally.errors
            unit.sink.add(rows, stats)
            unit.pending -= len(rows)
            progress.rows(len(rows), unit.sink.tally.errors - errors)
            finish_if_done(index)

        pool = self._pool or WorkerPool(job.config, self._workers_for(units))
        self.workers = pool.workers
        pool.run(batches(), on_result)
        return reports

    def _workers_for(self, units: Sequence[Unit]) -> int:
        # One per core unless asked; never more than the inputs where planning counted them (shards it did not).
        sizes = [unit.size for unit in units]
        known = sum(size for size in sizes if size is not None) if None not in sizes else None
        requested = self.options.workers or os.cpu_count() or 1
        return requested if known is None else min(requested, max(1, known))
