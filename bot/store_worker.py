"""Runs the store's blocking calls off the event loop, and commits conversation turns in batches.

Under load many turns wait for the database at once. Running each in its own transaction
made the commit, not the answering, the bottleneck on SQLite (measured: bench/webhook_load.py).
So the worker threads take every turn that is waiting (up to `MAX_BATCH`) and run them in
one transaction. A turn that fails rolls its batch back; the batch is then retried one turn
per transaction, so one bad turn fails alone and nothing is half-written.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.store import Store, Turn

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_BATCH = 64


@dataclass
class Job:
    work: Callable[..., Any]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop
    in_turn: bool
    """True: `work(turn)` joins a batched transaction; False: `work()` runs alone."""

    def settle(self, result: Any = None, error: BaseException | None = None) -> None:
        def resolve() -> None:
            if self.future.done():  # the awaiting task was cancelled
                return
            if error is not None:
                self.future.set_exception(error)
            else:
                self.future.set_result(result)

        self.loop.call_soon_threadsafe(resolve)


class StoreWorker:
    """`threads` daemon threads serving one queue: one for SQLite (a single writer is
    faster than writers waiting on its lock), a few for PostgreSQL."""

    def __init__(self, store: Store, threads: int = 1) -> None:
        self.store = store
        self.jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self.threads = [
            threading.Thread(target=self.serve, name=f"store-{n}", daemon=True)
            for n in range(threads)
        ]
        for thread in self.threads:
            thread.start()

    async def call(self, work: Callable[[], T]) -> T:
        """Run `work()` on a store thread, on its own."""
        return await self.submit(work, in_turn=False)

    async def turn(self, work: Callable[[Turn], T]) -> T:
        """Run `work(turn)` on a store thread, in a transaction it may share with other turns."""
        return await self.submit(work, in_turn=True)

    async def submit(self, work: Callable[..., T], *, in_turn: bool) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self.jobs.put(Job(work, future, loop, in_turn))
        return await future

    def close(self) -> None:
        """Finish the queued jobs, then stop the threads."""
        for _ in self.threads:
            self.jobs.put(None)
        for thread in self.threads:
            thread.join(timeout=30)

    def serve(self) -> None:
        while (job := self.jobs.get()) is not None:
            if not job.in_turn:
                run_alone(job)
                continue
            batch = [job]
            while len(batch) < MAX_BATCH:
                try:
                    waiting = self.jobs.get_nowait()
                except queue.Empty:
                    break
                if waiting is None:  # closing: let another thread (or this loop) see it
                    self.jobs.put(None)
                    break
                if waiting.in_turn:
                    batch.append(waiting)
                else:
                    run_alone(waiting)
            self.run_batch(batch)

    def run_batch(self, batch: list[Job]) -> None:
        try:
            with self.store.turn() as turn:
                results = [job.work(turn) for job in batch]
        except Exception as error:
            if len(batch) == 1:
                batch[0].settle(error=error)
                return
            log.warning("a batch of %d turns failed (%s); retrying one by one", len(batch), error)
            for job in batch:
                self.run_batch([job])
            return
        for job, result in zip(batch, results, strict=True):
            job.settle(result)


def run_alone(job: Job) -> None:
    try:
        job.settle(job.work())
    except Exception as error:
        job.settle(error=error)
