"""Group commit: the changes of many executions share one transaction.

Actors submit a change and wait for it. While one batch is being written (in a thread, so the loop keeps
advancing other executions), the next one fills up; when the write returns, everything that arrived in the
meantime goes out together. Batches therefore grow with load, and durability costs one fsync per batch,
not per transition.

A batch the database refuses as a whole is retried with back-off while the store reports itself
unavailable; any other failure is reported to every change of that batch.

A store that never blocks (the memory store) has no transaction cost to share: each change is written as it
is submitted, on the loop, and its future is done on return. Only when such a store reports itself
unavailable, or changes are already queued (order must hold), does a change go through the queue.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor

from stepdance.store import Change, Store, StoreError, StoreUnavailable

log = logging.getLogger(__name__)


class GroupCommitter:
    def __init__(self, store: Store, *, max_batch: int = 2000, max_backoff: float = 2.0) -> None:
        self._store = store
        self._max_batch = max_batch
        self._max_backoff = max_backoff
        self._pending: list[tuple[Change, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        writers = max(1, store.concurrent_commits)
        self._slots = asyncio.Semaphore(writers)
        self._writing: set[asyncio.Task[None]] = set()
        self._thread = ThreadPoolExecutor(writers, thread_name_prefix="stepdance-commit")
        self._inline = not store.blocking
        self._stopped = False
        self.batches = 0
        self.changes = 0
        self.busy_seconds = 0.0  # time spent writing: near the wall time means the store is the limit

    def submit(self, change: Change) -> asyncio.Future[None]:
        """The change's future: done when it is durable, or failed with why the store refused it."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._stopped:
            future.set_exception(StoreError("the engine stopped before this change was written"))
            return future
        if self._inline and not self._pending and not self._writing and self._write_now(change, future):
            return future
        self._pending.append((change, future))
        self._idle.clear()
        self._wake.set()
        return future

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._pending:
                    await self._slots.acquire()
                    batch = self._pending[: self._max_batch]
                    del self._pending[: self._max_batch]
                    task = loop.create_task(self._write(batch))
                    self._writing.add(task)
                    task.add_done_callback(self._written)
        finally:
            self._stopped = True
            self._fail_pending(StoreError("the engine stopped before this change was written"))

    def _written(self, task: asyncio.Task[None]) -> None:
        self._writing.discard(task)
        self._slots.release()
        if not self._pending and not self._writing:
            self._idle.set()

    async def drain(self) -> None:
        """Wait until everything submitted so far is written (or refused)."""
        await self._idle.wait()

    def close(self) -> None:
        self._thread.shutdown(wait=True)

    def _write_now(self, change: Change, future: asyncio.Future[None]) -> bool:
        """Write one change on the loop; False if the store is unavailable (the queue retries it)."""
        began = time.perf_counter()
        try:
            (result,) = self._store.commit([change])
        except StoreUnavailable:
            return False
        except StoreError as error:
            log.exception("a change failed")
            result = error
        self.batches += 1
        self.changes += 1
        self.busy_seconds += time.perf_counter() - began
        if result is None:
            future.set_result(None)
        else:
            future.set_exception(result)
        return True

    async def _write(self, batch: list[tuple[Change, asyncio.Future[None]]]) -> None:
        loop = asyncio.get_running_loop()
        changes = [change for change, _ in batch]
        backoff = 0.05
        began = time.perf_counter()
        while True:
            try:
                results = await loop.run_in_executor(self._thread, self._store.commit, changes)
                break
            except StoreUnavailable as error:
                log.warning(
                    "store unavailable, retrying a batch of %d in %.2fs: %s", len(batch), backoff, error
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)
            except StoreError as error:
                log.exception("a batch of %d changes failed", len(batch))
                results = [error] * len(batch)
                break
        self.batches += 1
        self.changes += len(batch)
        self.busy_seconds += time.perf_counter() - began
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if result is None:
                future.set_result(None)
            else:
                future.set_exception(result)

    def _fail_pending(self, error: StoreError) -> None:
        for _, future in self._pending:
            if not future.done():
                future.set_exception(error)
        self._pending.clear()
