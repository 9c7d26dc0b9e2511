"""Ray engine: the per-image half as Ray Data ``map_batches`` over an actor pool.

Each actor holds a one-worker ``LocalEngine``, so models load once per actor and a file that
hangs or crashes a decoder costs one error row, exactly as in a local scan. Actors write their
own record parts into the output folder, named by the run; the driver only plans the tasks,
adds up the tallies and, once Ray is done, runs the collection half from the parts.

A node that dies mid-scan: Ray restarts its actors elsewhere and retries their batches. A batch
that got written twice (once by the dead node, once by the retry) keeps one row per input,
because ``finish_parts`` keeps one row per path.
"""

from __future__ import annotations

import json
import logging
import math
import pickle
import socket
import sys
import uuid
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from genscope.engine.local import EngineError, LocalEngine
from genscope.engine.sink import RecordSink, Tally
from genscope.engine.worker import ScanConfig, Task
from genscope.records import Existing, PartWriter, new_run_id
from genscope.storage import Folder

RAY_MISSING = "the Ray engine needs Ray: pip install 'genscope[ray]'"


class RayUnavailable(EngineError):
    """Ray is not installed, or the cluster cannot be started or joined."""
MAX_ROWS_PER_BATCH = 1000  # one part per actor batch: as large as a local part


def import_ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError:
        raise RayUnavailable(RAY_MISSING) from None
    return ray


def actor_class(config: ScanConfig, folder: str, schema: pa.Schema, run: str, batch_size: int) -> type:
    """The actor class, with its settings in the closure: Ray ships them with the class, so a
    restarted actor never depends on a constructor argument kept in the object store."""

    class ScanActor:
        """One Ray actor: a one-worker local engine plus a part writer of its own."""

        def __init__(self) -> None:
            self.engine = LocalEngine(config, workers=1, batch_size=batch_size)
            self.engine.start()
            self.writer = PartWriter(Folder.at(folder), schema, rows_per_part=sys.maxsize, seconds_per_part=math.inf,
                                     run=f"{run}-{uuid.uuid4().hex[:12]}")

        def __call__(self, batch: dict[str, Any]) -> dict[str, list]:
            entries: list[tuple[Task, dict[str, Any] | None]] = [pickle.loads(blob) for blob in batch["task"]]
            previous = {task.item.path: old for task, old in entries if old is not None}
            sink = RecordSink(self.writer, previous.__getitem__)
            self.engine.run(iter([task for task, _ in entries]), sink.add)
            self.writer.flush()  # the part is complete before Ray hears the batch is done
            return {"inputs": [len(entries)], "tally": [json.dumps(sink.tally.as_dict())]}

    return ScanActor


class RayEngine:
    def __init__(self, config: ScanConfig, *, address: str | None = None, num_cpus: int | None = None,
                 workers: int | None = None, batch_size: int = 8) -> None:
        self.config = config
        self.address = address
        self.num_cpus = num_cpus
        self.workers = workers
        self.batch_size = batch_size
        self.actors = 0

    def run(self, tasks: list[Task], folder: Folder, schema: pa.Schema, existing: Existing,
            on_progress: Callable[[int, int], None]) -> Tally:
        """Process every task on Ray; the actors write the parts of this run into ``folder``."""
        ray = import_ray()
        _quiet_ray_logs()
        if self.address:
            _check_reachable(self.address)
        try:
            # "local" always starts a fresh instance: never join a cluster the user did not name.
            ray.init(address=self.address or "local", num_cpus=None if self.address else self.num_cpus,
                     include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR,
                     configure_logging=False)
        except (ConnectionError, RuntimeError) as exc:
            where = f"the Ray cluster at {self.address}" if self.address else "a local Ray instance"
            raise RayUnavailable(f"cannot start or join {where}: {exc}") from None
        try:
            cluster_cpus = int(ray.cluster_resources().get("CPU", 1))
            self.actors = max(1, min(self.workers or self.num_cpus or cluster_cpus, cluster_cpus, len(tasks) or 1))
            tally = Tally()
            if tasks:
                self._execute(ray, tasks, folder, schema, existing, tally, on_progress)
            return tally
        finally:
            ray.shutdown()

    def _execute(self, ray: Any, tasks: list[Task], folder: Folder, schema: pa.Schema, existing: Existing,
                 tally: Tally, on_progress: Callable[[int, int], None]) -> None:
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # genscope draws its own bar
        # Small batches spread a small scan over every actor; large ones make parts of ~1000 rows.
        rows_per_batch = max(self.batch_size, min(MAX_ROWS_PER_BATCH, math.ceil(len(tasks) / (self.actors * 4))))
        blocks = math.ceil(len(tasks) / rows_per_batch)
        self.actors = min(self.actors, blocks)
        blobs = [{"task": pickle.dumps((task, existing.row(task.item.path) if task.only else None))}
                 for task in tasks]
        dataset = ray.data.from_items(blobs, override_num_blocks=blocks)
        results = dataset.map_batches(
            actor_class(self.config, folder.location, schema, new_run_id(), self.batch_size),
            # Ray Data's defaults for actor pools restart lost actors and retry their batches.
            batch_size=rows_per_batch, compute=ray.data.ActorPoolStrategy(size=self.actors), num_cpus=1)
        for batch in results.iter_batches(batch_size=None, batch_format="default"):
            for inputs, text in zip(batch["inputs"], batch["tally"], strict=True):
                tally.merge(Tally(**json.loads(text)))
                on_progress(int(inputs), tally.errors)


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
