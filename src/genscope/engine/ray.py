"""Ray engine: work units as Ray Data ``map_batches`` over an actor pool, one unit per call.

The driver hands Ray the planned units only (shards and chunks, not images). Each actor holds a
one-worker local engine, so models load once per actor, the actor lists its unit's members and
resumes them from the unit's parts itself, and a file that hangs or crashes a decoder costs one
error row, exactly as in a local scan. Actors write their unit's parts into the output folder and
return a report of counts; once Ray is done the driver runs the collection half from the parts.

A node that dies mid-scan: Ray restarts its actors elsewhere and retries their units, which
resume from what the lost actor had already written; finishing a unit keeps one row per input.
"""

from __future__ import annotations

import logging
import pickle
import socket
import uuid
from collections.abc import Sequence
from typing import Any

from genscope.engine.base import EngineError, EngineOptions, Job, Progress, UnitReport
from genscope.engine.local import LocalEngine
from genscope.errors import InputError
from genscope.records import new_run_id
from genscope.sources import Unit

RAY_MISSING = "the Ray engine needs Ray: pip install 'genscope[ray]'"


class RayUnavailable(EngineError, InputError):
    """Ray is not installed, or the cluster cannot be started or joined."""


def import_ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError:
        raise RayUnavailable(RAY_MISSING) from None
    return ray


class _Silent:
    def rows(self, count: int, errors: int) -> None:
        pass

    def unit(self, report: UnitReport) -> None:
        pass


def actor_class(job: Job, run: str, batch_size: int) -> type:
    """The actor class, with its settings in the closure: Ray ships them with the class, so a
    restarted actor never depends on a constructor argument kept in the object store."""

    class UnitActor:
        """One Ray actor: a one-worker local engine that runs the units it is handed."""

        def __init__(self) -> None:
            self.engine = LocalEngine(EngineOptions(workers=1, batch_size=batch_size))
            self.engine.start(job.config)
            self.run = f"{run}-{uuid.uuid4().hex[:12]}"  # parts of two actors never share a name

        def __call__(self, batch: dict[str, Any]) -> dict[str, list]:
            units: list[Unit] = [pickle.loads(blob) for blob in batch["unit"]]
            reports = self.engine.run(units, job, _Silent(), run=self.run)
            return {"report": [report.to_json() for report in reports]}

    return UnitActor


class RayEngine:
    def __init__(self, options: EngineOptions) -> None:
        self.options = options
        self.workers = 0

    def run(self, units: Sequence[Unit], job: Job, progress: Progress) -> list[UnitReport]:
        """Run every unit on Ray; the actors write their units' parts into ``job.out``."""
        ray = import_ray()
        _quiet_ray_logs()
        address, num_cpus = self.options.address, self.options.num_cpus
        if address:
            _check_reachable(address)
        try:
            # "local" always starts a fresh instance: never join a cluster the user did not name.
            ray.init(address=address or "local", num_cpus=None if address else num_cpus,
                     include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR,
                     configure_logging=False)
        except (ConnectionError, RuntimeError) as exc:
            where = f"the Ray cluster at {address}" if address else "a local Ray instance"
            raise RayUnavailable(f"cannot start or join {where}: {exc}") from None
        try:
            cluster_cpus = int(ray.cluster_resources().get("CPU", 1))
            self.workers = max(1, min(self.options.workers or num_cpus or cluster_cpus, cluster_cpus, len(units) or 1))
            return self._execute(ray, units, job, progress) if units else []
        finally:
            ray.shutdown()

    def _execute(self, ray: Any, units: Sequence[Unit], job: Job, progress: Progress) -> list[UnitReport]:
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # genscope draws its own bar
        dataset = ray.data.from_items([{"unit": pickle.dumps(unit)} for unit in units],
                                      override_num_blocks=len(units))
        results = dataset.map_batches(
            actor_class(job, new_run_id(), self.options.batch_size),
            # Ray Data's defaults for actor pools restart lost actors and retry their units.
            batch_size=1, compute=ray.data.ActorPoolStrategy(size=self.workers), num_cpus=1)
        reports = []
        for batch in results.iter_batches(batch_size=None, batch_format="default"):
            for text in batch["report"]:
                reports.append(UnitReport.from_json(text))
                progress.rows(reports[-1].inputs, reports[-1].tally.errors)
                progress.unit(reports[-1])
        return reports


def _quiet_ray_logs() -> None:
    # Ray Data logs every execution at INFO and warns that its own bars are off (genscope draws one).
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _check_reachable(address: str, timeout_s: float = 10.0) -> None:
    """Fail fast on a cluster that is not there: Ray itself retries a dead address for minutes."""
    host, _, port = address.rpartition(":")
    if "://" in address or not host or not port.isdigit():
        return  # "auto", ray:// client addresses and the like: Ray resolves those itself
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise RayUnavailable(f"cannot start or join the Ray cluster at {address}: "
                             f"nothing answers there ({exc.strerror or exc})") from None
