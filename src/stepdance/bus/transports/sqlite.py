"""The embedded default transport: a durable log in one SQLite file (nothing to install).

Durability: WAL with ``synchronous=FULL``; ``publish``, ``ack`` and ``nack`` return after their commit is on
disk. All operations of one transport go through one connection on one thread and are group-committed:
whatever concurrent publishers, fetchers and acks ask for while a commit runs goes into the next one, so many
small operations share one fsync. Several processes may share the file; each write transaction is
``BEGIN IMMEDIATE``.

Waiting: a fetch that finds nothing sleeps until a publish or nack in this process wakes it, the group's next
delivery falls due (a delayed nack, a lapsed ``ack_wait``), or a short poll (5 ms doubling to 100 ms) looks
for what other processes published.

Ordering: a group's deliveries are handed out by ``(visible_at, seq)``: first deliveries in publish order;
a redelivery takes its place by the time it became visible again, so it follows messages published before
that. With several consumers in a group, messages with one key go to whichever consumer asks first.

A late ``ack`` (after ``ack_wait`` gave the message to another consumer) still removes it: the work was done.
A late ``nack`` is ignored, so it cannot hand out a message someone else is working on.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from typing import TypeVar, cast

from stepdance.bus.transports import sqlite_log
from stepdance.bus.transports.base import Delivery, Message, Subscription, Transport, TransportError
from stepdance.bus.transports.common import Batcher, SettleOnce
from stepdance.bus.transports.sqlite_log import Claimed, Op, Outcome

T = TypeVar("T")

POLL_MIN = 0.005
POLL_MAX = 0.1
MAX_CLAIM = 1000


class SqliteTransport(Transport):
    def __init__(self, path: str) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="stepdance-bus-sqlite")
        self._conn: sqlite3.Connection | None = None
        self._batcher: Batcher[Op, Outcome] = Batcher(self._flush)
        self._wakeups: dict[str, asyncio.Event] = {}
        self._background: set[asyncio.Future[Outcome]] = set()

    async def publish(self, topic: str, messages: Sequence[Message]) -> None:
        if not messages:
            return
        batch, now = list(messages), time.time()
        await self.run(lambda conn: sqlite_log.append(conn, topic, batch, now))
        self.notify(topic)

    async def subscribe(self, topic: str, group: str, *, ack_wait: float = 30.0) -> Subscription:
        now = time.time()
        group_id = await self.run(lambda conn: sqlite_log.join_group(conn, topic, group, now))
        return SqliteSubscription(self, topic, group_id, ack_wait)

    async def close(self) -> None:
        await self._batcher.drain()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        conn, self._conn = self._conn, None
        if conn is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, conn.close)
        self._executor.shutdown(wait=False)

    def submit(self, op: Op) -> asyncio.Future[Outcome]:
        """Queue ``op`` for the next group commit."""
        return self._batcher.submit(op)

    async def run(self, op: Callable[[sqlite3.Connection], T]) -> T:
        return cast(T, self.result(await self.submit(op)))

    def result(self, outcome: Outcome) -> object:
        value, error = outcome
        if error is not None:
            raise TransportError(f"SQLite bus log {self.path}: {error}") from error
        return value

    def wakeup(self, topic: str) -> asyncio.Event:
        """An event set by the next local publish or nack on ``topic``."""
        event = self._wakeups.get(topic)
        if event is None:
            event = self._wakeups[topic] = asyncio.Event()
        return event

    def notify(self, topic: str) -> None:
        event = self._wakeups.pop(topic, None)
        if event is not None:
            event.set()

    def in_background(self, op: Op) -> None:
        future = self.submit(op)
        self._background.add(future)
        future.add_done_callback(self._background.discard)

    async def _flush(self, ops: Sequence[Op]) -> list[Outcome]:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, self._run_batch, ops)
        except sqlite3.Error as error:
            raise TransportError(f"SQLite bus log {self.path}: {error}") from error

    def _run_batch(self, ops: Sequence[Op]) -> list[Outcome]:
        if self._conn is None:
            self._conn = sqlite_log.connect(self.path)
        return sqlite_log.run_batch(self._conn, ops)


class SqliteSubscription(Subscription):
    def __init__(self, transport: SqliteTransport, topic: str, group_id: int, ack_wait: float) -> None:
        self.transport = transport
        self.topic = topic
        self.group_id = group_id
        self.ack_wait = ack_wait
        self.owner = uuid.uuid4().hex

    async def fetch(self, max_messages: int, wait: float) -> list[Delivery]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(wait, 0.0)
        pause = POLL_MIN
        while True:
            woken = self.transport.wakeup(self.topic)
            claimed, due = await self._claim(min(max_messages, MAX_CLAIM))
            if claimed:
                return [SqliteDelivery(self, item) for item in claimed]
            left = deadline - loop.time()
            if left <= 0:
                return []
            nap = min(left, pause) if due is None else min(left, pause, max(due - time.time(), 0.001))
            with suppress(TimeoutError):
                async with asyncio.timeout(nap):  # not wait_for: on 3.11 it may swallow a cancellation
                    await woken.wait()
            pause = min(pause * 2, POLL_MAX)

    async def close(self) -> None:
        """Nothing to release: what this consumer holds goes back to the group after ``ack_wait``."""

    async def _claim(self, limit: int) -> tuple[list[Claimed], float | None]:
        now = time.time()
        pending = self.transport.submit(
            lambda conn: sqlite_log.claim(conn, self.group_id, self.owner, limit, now, self.ack_wait)
        )
        try:
            outcome = await asyncio.shield(pending)
        except asyncio.CancelledError:
            # The claim may still commit: give whatever it took straight back rather than after ack_wait.
            pending.add_done_callback(self._give_back)
            raise
        return cast(tuple[list[Claimed], float | None], self.transport.result(outcome))

    def _give_back(self, pending: asyncio.Future[Outcome]) -> None:
        if pending.cancelled() or pending.exception() is not None:
            return
        value, error = pending.result()
        if error is None:
            claimed, _ = cast(tuple[list[Claimed], float | None], value)
            for item in claimed:
                self.transport.in_background(self.releaser(item.seq, item.attempt, 0.0))
            self.transport.notify(self.topic)

    def releaser(self, seq: int, attempt: int, delay: float) -> Op:
        visible_at = time.time() + delay
        return lambda conn: sqlite_log.release(conn, self.group_id, seq, self.owner, attempt, visible_at)


class SqliteDelivery(SettleOnce):
    def __init__(self, subscription: SqliteSubscription, claimed: Claimed) -> None:
        super().__init__(claimed.message, claimed.attempt)
        self._subscription = subscription
        self._seq = claimed.seq

    async def _ack(self) -> None:
        await self._subscription.transport.run(self._remove)

    def _remove(self, conn: sqlite3.Connection) -> None:
        sqlite_log.remove(conn, self._subscription.group_id, self._seq)

    @classmethod
    def _ack_together(cls, deliveries: Sequence[SettleOnce]) -> Awaitable[None] | None:
        """Every removal submitted before any is awaited: they commit together."""
        ours = [d for d in deliveries if isinstance(d, SqliteDelivery)]
        if len(ours) != len(deliveries):
            return None
        submitted = [(d._subscription.transport, d._subscription.transport.submit(d._remove)) for d in ours]

        async def committed() -> None:
            for transport, removal in submitted:
                transport.result(await removal)

        return committed()

    async def _nack(self, delay: float) -> None:
        subscription = self._subscription
        await subscription.transport.run(subscription.releaser(self._seq, self.attempt, delay))
        subscription.transport.notify(subscription.topic)
