"""Redis Streams: a stream per topic, a consumer group per group (``pip install stepdance[redis]``).

A topic ``t`` is the stream ``<prefix>:{t}`` (a hash tag, so a group's keys share a cluster slot); a group
is a consumer group created at ``$`` (it sees what is published from then on); each subscription is a
consumer of its own. ``fetch`` runs one script (:mod:`redis_scripts`) that hands out, in this order, nacked
entries whose delay is over, entries idle longer than ``ack_wait`` (XPENDING IDLE + XCLAIM: their consumer
died or hangs) and new entries (XREADGROUP); when there are none it waits for new ones (XREAD BLOCK) and
runs the script again.
``attempt`` is the entry's delivery count in the group's pending list.

An entry has one field, ``m``: the message's id, key and headers as a JSON line, then its body (one field
rather than one per part because the client parses every field of every entry it reads). Entries written
with separate ``id``/``key``/``headers``/``body`` fields are read too.

Delayed redelivery: ``nack(delay)`` keeps the entry pending and puts ``(due, id)`` in the group's retry
sorted set; fetch claims it once due. ``ack`` is XACK (acks from concurrent deliveries share one XACK).
Entries every group is done with are trimmed (XTRIM MINID) every thousand acks of a subscription.

Durability: XADD returns when the entry is in the server's memory. It survives a server restart only if
the server persists with ``appendonly yes`` and ``appendfsync always`` (then the reply comes after the
fsync); with ``appendfsync everysec`` up to a second of publishes can be lost, and without persistence a
restart loses everything. The shared development server runs without persistence.

Ordering: a stream is totally ordered and a publish is one script (atomic, like MULTI/EXEC), so one publisher's messages keep their
order; one consumer of a group gets first deliveries in that order. Redeliveries come when due, out of order.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import asynccontextmanager

import redis.asyncio
import redis.exceptions

from stepdance.bus.transports import redis_scripts
from stepdance.bus.transports.base import Delivery, Message, Subscription, Transport, TransportError
from stepdance.bus.transports.common import (
    Batcher,
    SettleOnce,
    acked_per_subscription,
    decode_headers,
    frame,
    safe_name,
    unframe,
)

POLL_MIN = 0.05  # how soon an idle fetch looks again for entries whose ack_wait lapsed
POLL_MAX = 0.5
TRIM_EVERY = 1000


@asynccontextmanager
async def mapped(doing: str) -> AsyncIterator[None]:
    try:
        yield
    except (redis.exceptions.RedisError, OSError) as error:
        raise TransportError(f"Redis: {doing} failed: {error!r}") from error


class RedisTransport(Transport):
    def __init__(self, url: str, *, prefix: str = "sd") -> None:
        self.url = url
        self.prefix = prefix
        self.client = redis.asyncio.Redis.from_url(url, socket_connect_timeout=2)
        self.fetch_script = self.client.register_script(redis_scripts.FETCH)
        self.publish_script = self.client.register_script(redis_scripts.PUBLISH)
        self.nack_script = self.client.register_script(redis_scripts.NACK)
        self.leave_script = self.client.register_script(redis_scripts.LEAVE)
        self.trim_script = self.client.register_script(redis_scripts.TRIM)

    def stream(self, topic: str) -> str:
        return f"{self.prefix}:{{{safe_name(topic)}}}"

    async def publish(self, topic: str, messages: Sequence[Message]) -> None:
        if not messages:
            return
        frames = [frame(message) for message in messages]
        async with mapped(f"publish to {topic!r}"):
            await self.publish_script(keys=[self.stream(topic)], args=frames)

    async def subscribe(self, topic: str, group: str, *, ack_wait: float = 30.0) -> Subscription:
        stream = self.stream(topic)
        try:
            async with mapped(f"join group {group!r} of {topic!r}"):
                await self.client.xgroup_create(stream, group, id="$", mkstream=True)
        except TransportError as error:
            if "BUSYGROUP" not in str(error):  # the group exists: join it
                raise
        return RedisSubscription(self, stream, group, ack_wait)

    async def close(self) -> None:
        async with mapped("close"):
            await self.client.aclose()


FRAME = b"m"  # the one field of an entry: the message framed (fewer fields: less to parse per entry)


def _message(flat: Sequence[bytes]) -> Message:
    if len(flat) == 2 and flat[0] == FRAME:
        framed = unframe(flat[1])
        if framed is not None:
            return framed
    # an entry of one field per part (written before the framed form, or by another client)
    fields = dict(zip(flat[::2], flat[1::2], strict=True))
    key = fields.get(b"key")
    return Message(
        id=fields.get(b"id", b"").decode(),
        body=fields.get(b"body", b""),
        key=None if key is None else key.decode(),
        headers=decode_headers(fields.get(b"headers")),
    )


class RedisSubscription(Subscription):
    def __init__(self, transport: RedisTransport, stream: str, group: str, ack_wait: float) -> None:
        self.transport = transport
        self.stream = stream
        self.group = group
        self.consumer = uuid.uuid4().hex
        self.retry = f"{stream}:{safe_name(group)}:retry"
        self.ack_wait_ms = max(1, int(ack_wait * 1000))
        self._acks: Batcher[bytes, None] = Batcher(self._xack)
        self._acked = 0

    async def fetch(self, max_messages: int, wait: float) -> list[Delivery]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(wait, 0.0)
        pause = POLL_MIN
        while True:
            entries, due_ms, last = await self._take(max_messages)
            left = deadline - loop.time()
            if entries or left <= 0:
                return self._deliveries(entries)
            nap = min(left, pause, self.ack_wait_ms / 2000)
            if due_ms >= 0:
                nap = min(nap, due_ms / 1000)
            if not await self._wait_new(last, nap):
                pause = min(pause * 2, POLL_MAX)

    async def close(self) -> None:
        await self._acks.drain()
        async with mapped("leave the group"):
            await self.transport.leave_script(keys=[self.stream], args=[self.group, self.consumer])

    async def nack(self, entry_id: bytes, attempt: int, delay: float) -> None:
        keys, args = (
            [self.stream, self.retry],
            [self.group, self.consumer, entry_id, attempt, int(delay * 1000)],
        )
        async with mapped("nack"):
            await self.transport.nack_script(keys=keys, args=args)

    def ack(self, entry_id: bytes) -> asyncio.Future[None]:
        return self._acks.submit(entry_id)

    async def _take(self, count: int) -> tuple[bytes, int, bytes]:
        keys, args = [self.stream, self.retry], [self.group, self.consumer, self.ack_wait_ms, count]
        async with mapped("fetch"):
            entries, due_ms, last = await self.transport.fetch_script(keys=keys, args=args)
        return entries, int(due_ms), last

    def _deliveries(self, blob: bytes) -> list[Delivery]:
        """The deliveries of the fetch script's answer (see :data:`redis_scripts.FETCH`)."""
        out: list[Delivery] = []
        pos, end = 0, len(blob)
        while pos < end:
            newline = blob.index(b"\n", pos)
            head = blob[pos:newline].split(b" ")
            pos = newline + 1
            fields = []
            for size in head[2:]:
                stop = pos + int(size)
                fields.append(blob[pos:stop])
                pos = stop
            out.append(RedisDelivery(self, head[0], int(head[1]), _message(fields)))
        return out

    async def _wait_new(self, last: bytes, wait: float) -> bool:
        """Whether an entry newer than ``last`` came within ``wait`` (XREAD BLOCK: it only waits; the fetch
        script then takes the entries, so they are parsed once, from its compact answer)."""
        block_ms = max(1, int(wait * 1000))
        async with mapped("fetch"):
            read = await self.transport.client.xread({self.stream: last}, count=1, block=block_ms)
        return bool(read)

    async def _xack(self, entry_ids: Sequence[bytes]) -> list[None]:
        async with mapped("ack"):
            await self.transport.client.xack(self.stream, self.group, *entry_ids)
            self._acked += len(entry_ids)
            if self._acked >= TRIM_EVERY:
                self._acked = 0
                await self.transport.trim_script(keys=[self.stream])
        return [None] * len(entry_ids)


class RedisDelivery(SettleOnce):
    def __init__(
        self, subscription: RedisSubscription, entry_id: bytes, count: int, message: Message
    ) -> None:
        super().__init__(message, int(count))
        self._subscription = subscription
        self._entry_id = entry_id

    async def _ack(self) -> None:
        await self._subscription.ack(self._entry_id)

    @classmethod
    def _ack_together(cls, deliveries: Sequence[SettleOnce]) -> Awaitable[None] | None:
        # one XACK per subscription, without a future per entry
        return acked_per_subscription(
            deliveries,
            RedisDelivery,
            lambda d: d._subscription,
            lambda subscription, group: subscription._xack([d._entry_id for d in group]),
        )

    async def _nack(self, delay: float) -> None:
        await self._subscription.nack(self._entry_id, self.attempt, delay)
