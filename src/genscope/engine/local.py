"""Local engine: worker processes with a deadline per batch.

Each worker owns a pipe, so a worker that hangs or dies (a decoder stuck on hostile bytes, a
native crash, the OOM killer) can be killed and replaced without disturbing the others. Its
batch is retried one item at a time; the item that fails again gets a ``timeout`` or
``worker.crashed`` error row. At most one batch is in flight per worker, so memory stays
bounded by ``workers × batch size`` decoded images whatever the number of inputs.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from genscope.engine.worker import BatchStats, Processor, ScanConfig, Task, failure_row

ResultHandler = Callable[[list[dict[str, Any]], BatchStats], None]


class EngineError(RuntimeError):
    """A failure of the whole scan (a signal that cannot load), not of one file."""


def _worker_main(config: ScanConfig, conn: Connection) -> None:
    try:
        processor = Processor(config)
    except Exception as exc:  # reported to the parent as one clear line
        conn.send(("fatal", f"cannot start worker: {type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", None))
    while True:
        try:
            message = conn.recv()
        except (EOFError, KeyboardInterrupt):
            return
        if message is None:
            return
        try:
            rows, stats = processor.process(message)
        except Exception:  # a bug in the engine itself: report it, keep the row count
            conn.send(("bug", traceback.format_exc()[-2000:]))
            continue
        conn.send(("done", (rows, stats)))


@dataclass
class _Slot:
    process: mp.process.BaseProcess
    conn: Connection
    tasks: list[Task] | None = None
    deadline: float = 0.0


class LocalEngine:
    def __init__(self, config: ScanConfig, workers: int, batch_size: int = 8) -> None:
        self.config = config
        self.workers = max(1, workers)
        self.batch_size = max(1, batch_size)
        self._context = mp.get_context("spawn")  # no forked copies of pyarrow/ORT thread pools
        self._slots: list[_Slot] = []

    def __enter__(self) -> LocalEngine:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> None:
        """Start the workers (models load now); ``run`` may then be called many times."""
        if not self._slots:
            self._slots = [self._spawn() for _ in range(self.workers)]
            for slot in self._slots:
                self._await_ready(slot)

    def run(self, tasks: Iterator[Task], on_result: ResultHandler) -> None:
        """Process every task, calling ``on_result`` per batch. Starts and stops the workers
        itself unless ``start`` was called first."""
        owned = not self._slots
        retries: deque[list[Task]] = deque()
        batches = _batched(tasks, self.batch_size)
        exhausted = False
        try:
            self.start()
            while True:
                for slot in self._slots:
                    if slot.tasks is None:
                        batch = retries.popleft() if retries else None
                        if batch is None and not exhausted:
                            batch = next(batches, None)
                            exhausted = batch is None
                        if batch is not None:
                            self._send(slot, batch)
                busy = [slot for slot in self._slots if slot.tasks is not None]
                if not busy:
                    return
                self._collect(busy, retries, on_result)
        except BaseException:
            self.close()  # a failed run leaves no workers behind, started by us or not
            raise
        finally:
            if owned:
                self.close()

    def _collect(self, busy: list[_Slot], retries: deque[list[Task]], on_result: ResultHandler) -> None:
        timeout = max(0.0, min(slot.deadline for slot in busy) - time.monotonic())
        ready = set(wait([s.conn for s in busy] + [s.process.sentinel for s in busy], timeout=timeout))
        for index, slot in enumerate(self._slots):
            if slot.tasks is None:
                continue
            if slot.conn in ready:
                try:
                    kind, payload = slot.conn.recv()
                except (EOFError, OSError):
                    slot.process.join(1)
                    self._fail(index, retries, on_result, "worker.crashed",
                               f"worker process died (exit code {slot.process.exitcode})")
                    continue
                if kind == "done":
                    slot.tasks = None
                    on_result(*payload)
                else:  # "bug": the batch raised outside the per-signal guards
                    self._fail(index, retries, on_result, "engine.bug", payload.strip().splitlines()[-1])
            elif slot.process.sentinel in ready:
                self._fail(index, retries, on_result, "worker.crashed",
                           f"worker process died (exit code {slot.process.exitcode})")
            elif time.monotonic() >= slot.deadline:
                self._fail(index, retries, on_result, "timeout",
                           f"no result within {self.config.timeout_s:g} s")

    def _fail(self, index: int, retries: deque[list[Task]], on_result: ResultHandler,
              code: str, message: str) -> None:
        slot = self._slots[index]
        tasks = slot.tasks or []
        self._kill(slot)
        self._slots[index] = self._await_ready(self._spawn())
        if len(tasks) > 1:
            retries.extend([task] for task in tasks)  # find the one item that causes it
        else:
            on_result([failure_row(task.item, code, message) for task in tasks], BatchStats())

    def _send(self, slot: _Slot, batch: list[Task]) -> None:
        slot.tasks = batch
        slot.deadline = time.monotonic() + self.config.timeout_s * len(batch)
        slot.conn.send(batch)

    def _spawn(self) -> _Slot:
        parent, child = self._context.Pipe()
        process = self._context.Process(target=_worker_main, args=(self.config, child), daemon=True)
        process.start()
        child.close()
        return _Slot(process=process, conn=parent)

    def _await_ready(self, slot: _Slot) -> _Slot:
        # Model loading can take a while; a worker that cannot start fails the scan clearly.
        if not slot.conn.poll(max(120.0, self.config.timeout_s)):
            raise EngineError("worker did not start within the time limit")
        try:
            kind, payload = slot.conn.recv()
        except EOFError:
            slot.process.join(5)
            raise EngineError(f"worker exited while starting (exit code {slot.process.exitcode}); when a script calls "
                              "genscope, keep the call under `if __name__ == \"__main__\":` (workers are new "
                              "processes that import the script again)") from None
        if kind == "fatal":
            raise EngineError(payload)
        return slot

    @staticmethod
    def _kill(slot: _Slot) -> None:
        slot.process.kill()
        slot.process.join(5)
        slot.conn.close()

    def close(self) -> None:
        for slot in self._slots:  # idle workers exit on None; busy or stuck ones are killed below
            if slot.tasks is None and slot.process.is_alive():
                with contextlib.suppress(OSError):  # it died meanwhile: killed below
                    slot.conn.send(None)
        deadline = time.monotonic() + 5
        for slot in self._slots:
            slot.process.join(max(0.0, deadline - time.monotonic()))
            if slot.process.is_alive():
                self._kill(slot)
        self._slots = []


def worker_count(requested: int | None, inputs: int) -> int:
    """Worker processes for ``inputs`` files: ``requested``, else one per core; never more than the inputs."""
    return min(requested or os.cpu_count() or 1, max(1, inputs))


def _batched(tasks: Iterator[Task], size: int) -> Iterator[list[Task]]:
    batch: list[Task] = []
    for task in tasks:
        batch.append(task)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
