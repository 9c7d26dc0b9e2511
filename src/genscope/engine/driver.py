"""The driver's side of a run: units in, counts out. It never holds a row or a list of every input.

Before the run, parts of units no longer planned (a folder that gained files shifts its runs, an
edited list, parts written before units existed) are moved to the units that now hold their paths,
so every unit resumes from its own parts. After it, where inputs named one by one may repeat
another unit's paths, later copies are dropped, and the parts must hold one row per input.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from genscope.engine.base import EngineOptions, Job, Progress, create_engine
from genscope.engine.sink import Tally
from genscope.errors import RunError
from genscope.records import adopt_parts, finish_folder, list_parts, part_unit
from genscope.sources import Plan
from genscope.storage import Folder


@dataclass
class Orphans:
    """Rows in parts of units this run does not plan: where each path lives now, and the paths gone."""

    parts: list[str] = field(default_factory=list)
    home: dict[str, str] = field(default_factory=dict)
    gone: list[str] = field(default_factory=list)

    @classmethod
    def find(cls, folder: Folder, plan: Plan) -> Orphans:
        keys = {unit.key for unit in plan.units}
        parts = [part for part in list_parts(folder) if part_unit(part) not in keys]
        if not parts:
            return cls()  # the usual rerun: every part belongs to a planned unit
        paths = set()
        for part in parts:
            paths.update(folder.read_table(part, columns=["path"]).column("path").to_pylist())
        home: dict[str, str] = {}
        for unit in plan.units:  # listing every unit once more, only because some parts lost theirs
            for item in unit.members():
                if item.path in paths and item.path not in home:
                    home[item.path] = unit.key
        return cls(parts, home, sorted(paths - home.keys()))

    def adopt(self, folder: Folder) -> None:
        adopt_parts(folder, self.parts, self.home)


@dataclass
class RunTotals:
    inputs: int = 0
    duplicates: int = 0
    dropped: int = 0
    tally: Tally = field(default_factory=Tally)
    workers: int = 0


class RowCountError(RunError):
    def __init__(self, rows: int, inputs: int) -> None:
        super().__init__(f"{rows} records for {inputs} inputs")
        self.rows = rows
        self.inputs = inputs


def execute(plan: Plan, job: Job, options: EngineOptions, progress: Progress) -> RunTotals:
    """Run the plan's units on the chosen engine; returns the counts of the whole run."""
    engine = create_engine(options)
    reports = engine.run(plan.units, job, progress)
    folder = Folder.at(job.out)
    totals = RunTotals(workers=engine.workers)
    for report in reports:
        totals.inputs += report.inputs
        totals.duplicates += report.duplicates + plan.repeats[report.key] * report.inputs
        totals.dropped += report.dropped
        totals.tally.merge(report.tally)
    if plan.may_overlap:
        repeated = drop_repeated_paths(folder, plan)
        totals.inputs -= repeated
        totals.duplicates += repeated
    finish_folder(folder, job.schema)
    rows = sum(folder.num_rows(part) for part in list_parts(folder))
    if rows != totals.inputs:
        raise RowCountError(rows, totals.inputs)
    return totals


def drop_repeated_paths(folder: Folder, plan: Plan) -> int:
    """Remove rows of paths that an earlier unit (in input order) also holds; returns how many.

    Paths are compared by an 8-byte hash, sorted, and only colliding ones are read back: the driver
    holds 8 bytes (+ two indexes) per input here, and only for runs that name inputs one by one."""
    parts = [part for unit in plan.units for part in list_parts(folder, unit.key)]
    hashes, sizes = [], []
    for part in parts:
        paths = folder.read_table(part, columns=["path"]).column("path").to_pylist()
        hashes.append(np.frombuffer(b"".join(_hash(path) for path in paths), dtype=np.uint64))
        sizes.append(len(paths))
    if not parts:
        return 0
    flat = np.concatenate(hashes)
    order = np.argsort(flat, kind="stable")  # among equal hashes, input order is kept
    ordered = flat[order]
    later = np.flatnonzero(ordered[1:] == ordered[:-1]) + 1
    if not len(later):
        return 0
    starts = np.cumsum([0, *sizes])
    part_of = np.searchsorted(starts, order, side="right") - 1
    later_set = set(later.tolist())
    columns: dict[int, list[str]] = {}  # path columns of parts with a collision, read once
    seen: set[str] = set()
    drop: dict[int, set[int]] = {}
    for position in sorted(later_set | set((later - 1).tolist())):  # by hash, then input order
        part = int(part_of[position])
        row = int(order[position] - starts[part])
        if part not in columns:
            columns[part] = folder.read_table(parts[part], columns=["path"]).column("path").to_pylist()
        path = columns[part][row]
        if path in seen and position in later_set:
            drop.setdefault(part, set()).add(row)
        seen.add(path)
    for part, rows in drop.items():
        table = folder.read_table(parts[part])
        folder.write_table(parts[part], table.filter(np.array([row not in rows for row in range(table.num_rows)])))
    return sum(len(rows) for rows in drop.values())


def _hash(path: str) -> bytes:
    return hashlib.blake2b(path.encode("utf-8", "surrogateescape"), digest_size=8).digest()
