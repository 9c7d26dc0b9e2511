"""The engine contract: what every engine does, and the registry that picks one by name.

An engine runs planned work units (``sources.units``): for each unit it enumerates the members,
resumes from the unit's parts in the records folder, runs the per-image function
(``worker.Processor``) under a per-file deadline, writes rows through ``sink.RecordSink`` and
finishes the unit's parts; it reports progress per batch of rows and per finished unit. What to
compute and where it goes is a ``Job``; how to schedule it is an ``EngineOptions``. ``local`` is a
process pool on this machine, ``ray`` an actor pool on a Ray cluster; both give the same records.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Protocol

import pyarrow as pa

from genscope.engine.sink import Tally
from genscope.engine.worker import ScanConfig
from genscope.errors import RunError
from genscope.sources.units import Unit

# name → "module:Class"; an engine module is imported only when chosen (Ray is an optional extra)
ENGINES = {"local": "genscope.engine.local:LocalEngine", "ray": "genscope.engine.ray:RayEngine"}


class EngineError(RunError):
    """A failure of the whole run (a signal that cannot load, a bad engine option), not of one file."""


@dataclass(frozen=True)
class EngineOptions:
    """How to schedule a run: which engine, how many workers (processes, or Ray actors), images per
    signal call, inputs per work unit, and for Ray the cluster to join or the CPUs of a local instance."""

    name: str = "local"
    workers: int | None = None
    batch_size: int = 8
    unit_size: int | None = None  # None: the command's own default (sources.UNIT_SIZE for a scan)
    address: str | None = None
    num_cpus: int | None = None

    def __post_init__(self) -> None:
        if self.name not in ENGINES:
            raise EngineError(f"unknown engine {self.name!r}; choose one of {', '.join(ENGINES)}")
        if self.name != "ray" and (self.address is not None or self.num_cpus is not None):
            raise EngineError("address and num_cpus apply to the ray engine only")
        for name in ("workers", "batch_size", "unit_size", "num_cpus"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise EngineError(f"{name} must be at least 1, got {value}")


@dataclass(frozen=True)
class Job:
    """What each unit of a run computes and where its rows go (a records folder, local or a URI)."""

    config: ScanConfig
    out: str
    schema: pa.Schema
    versions: dict[str, str]


@dataclass
class UnitReport:
    """What one finished unit tells the driver: counts only, never rows."""

    key: str
    inputs: int  # distinct members, one row each
    duplicates: int  # members named twice within the unit
    dropped: int  # earlier rows of the unit whose paths are no longer members
    tally: Tally

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> UnitReport:
        data = json.loads(text)
        return cls(**{**data, "tally": Tally(**data["tally"])})


class Progress(Protocol):
    def rows(self, count: int, errors: int) -> None:
        """``count`` more inputs done, ``errors`` of them failed."""

    def unit(self, report: UnitReport) -> None:
        """A unit is finished: its parts hold one row per member."""


class Engine(Protocol):
    workers: int  # how many ran, once ``run`` has returned

    def run(self, units: Sequence[Unit], job: Job, progress: Progress) -> list[UnitReport]:
        """Run every unit; returns their reports in completion order."""


def create_engine(options: EngineOptions) -> Engine:
    module, _, name = ENGINES[options.name].partition(":")
    return getattr(importlib.import_module(module), name)(options)
