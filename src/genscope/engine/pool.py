"""The process pool both engines run batches on: worker processes with a deadline per batch.

Each worker owns a pipe, so a worker that hangs or dies (a decoder stuck on hostile bytes, a
native crash, the OOM killer) can be killed and replaced without disturbing the others. Its
batch is retried one item at a time; the item that fails again gets a ``timeout`` or
``worker.crashed`` error row. At most one batch is in flight per worker, so memory stays
bounded by ``workers × batch size`` decoded images whatever the number of inputs.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import time
import traceback
from collections import deque
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from genscope.engine.base import EngineError
from genscope.engine.worker import BatchStats, Processor, ScanConfig, Task, failure_row

# A batch carries a tag (its unit); results come back with it, one row per task.
Batch = tuple[Hashable, list[Task]]
ResultHandler = Callable[[Hashable, list[dict[str, Any]], BatchStats], None]


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
    batch: Batch | None = None
    deadline: float = 0.0


class WorkerPool:
    def __init__(self, config: ScanConfig, workers: int) -> None:
        self.config = config
        self.workers = max(1, workers)
        self._context = mp.get_context("spawn")  # no forked copies of pyarrow/ORT thread pools
        self._slots: list[_Slot] = []

    def start(self) -> None:
        """Start the workers (models load now); ``run`` may then be called many times."""
        if not self._slots:
            self._slots = [self._spawn() for _ in range(self.workers)]
            for slot in self._slots:
                self._await_ready(slot)

    def run(self, batches: Iterator[Batch], on_result: ResultHandler) -> None:
        """Process every batch, calling ``on_result`` per batch. Starts and stops the workers
        itself unless ``start`` was called first."""
        owned = not self._slots
        retries: deque[Batch] = deque()
        exhausted = False
        try:
            self.start()
            while True:
                for slot in self._slots:
                    if slot.batch is None:
                        batch = retries.popleft() if retries else None
                        if batch is None and not exhausted:
                            batch = next(batches, None)
                            exhausted = batch is None
                        if batch is not None:
                            self._send(slot, batch)
                busy = [slot for slot in self._slots if slot.batch is not None]
                if not busy:
                    return
                self._collect(busy, retries, on_result)
        except BaseException:
            self.close()  # a failed run leaves no workers behind, started by us or not
            raise
        finally:
            if owned:
                self.close()

    def _collect(self, busy: list[_Slot], retries: deque[Batch], on_result: ResultHandler) -> None:
        timeout = max(0.0, min(slot.deadline for slot in busy) - time.monotonic())
        ready = set(wait([s.conn for s in busy] + [s.process.sentinel for s in busy], timeout=timeout))
        for index, slot in enumerate(self._slots):
            if slot.batch is None:
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
                    tag, _ = slot.batch
                    slot.batch = None
                    on_result(tag, *payload)
                else:  # "bug": the batch raised outside the per-signal guards
                    self._fail(index, retries, on_result, "engine.bug", payload.strip().splitlines()[-1])
            elif slot.process.sentinel in ready:
                self._fail(index, retries, on_result, "worker.crashed",
                           f"worker process died (exit code {slot.process.exitcode})")
            elif time.monotonic() >= slot.deadline:
                self._fail(index, retries, on_result, "timeout",
                           f"no result within {self.config.timeout_s:g} s")

    def _fail(self, index: int, retries: deque[Batch], on_result: ResultHandler,
              code: str, message: str) -> None:
        slot = self._slots[index]
        assert slot.batch is not None  # only a busy slot fails
        tag, tasks = slot.batch
        self._kill(slot)
        self._slots[index] = self._await_ready(self._spawn())
        if len(tasks) > 1:
            retries.extend((tag, [task]) for task in tasks)  # find the one item that causes it
        else:
            on_result(tag, [failure_row(task.item, code, message) for task in tasks], BatchStats())

    def _send(self, slot: _Slot, batch: Batch) -> None:
        slot.batch = batch
        slot.deadline = time.monotonic() + self.config.timeout_s * len(batch[1])
        slot.conn.send(batch[1])

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
            if slot.batch is None and slot.process.is_alive():
                with contextlib.suppress(OSError):  # it died meanwhile: killed below
                    slot.conn.send(None)
        deadline = time.monotonic() + 5
        for slot in self._slots:
            slot.process.join(max(0.0, deadline - time.monotonic()))
            if slot.process.is_alive():
                self._kill(slot)
        self._slots = []

