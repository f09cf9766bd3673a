"""Group commit for calls made one at a time: the items submitted while a batch is being written go into
the next batch, so many concurrent callers share one transaction (one fsync on SQLite, one round trip of
commits on PostgreSQL) and each returns once its own item is durable.

::

    placer = Batcher(lambda orders: place_all(orders))      # runs in a thread, one transaction per call
    await placer.submit(order)                              # returns after the batch holding it committed

A failed batch is retried item by item, so one bad item fails alone and the others still commit.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from stepdance.aio import in_thread

T = TypeVar("T")


class Batcher(Generic[T]):
    """Writes submitted items with ``write(items)`` (in a thread), up to ``limit`` at a time."""

    def __init__(self, write: Callable[[Sequence[T]], None], *, limit: int = 256) -> None:
        self.write = write
        self.limit = limit
        self._waiting: list[tuple[T, asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> None:
        """Return once ``item`` was written (raise what writing it raised)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if self._task is None or self._task.done():
            # in a context of its own: one batch writes several callers' items (and their spans)
            self._task = asyncio.create_task(self._drain(), context=contextvars.Context())
        await done

    async def flush(self) -> None:
        """Wait until every item submitted so far was written."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[: self.limit], self._waiting[self.limit :]
            try:
                await in_thread(self.write, [item for item, _ in batch])
            except Exception:
                await self._one_by_one(batch)
                continue
            for _, done in batch:
                if not done.done():
                    done.set_result(None)

    async def _one_by_one(self, batch: list[tuple[T, asyncio.Future[None]]]) -> None:
        for item, done in batch:
            try:
                await in_thread(self.write, [item])
            except Exception as error:
                if not done.done():
                    done.set_exception(error)
            else:
                if not done.done():
                    done.set_result(None)
