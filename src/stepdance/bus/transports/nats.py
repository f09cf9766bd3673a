"""NATS JetStream: a stream per topic, a durable pull consumer per group (``pip install stepdance[nats]``).

A topic ``t`` is the stream ``<prefix>_t`` on the subject ``<prefix>.t`` (names escaped by
:func:`safe_name`), file storage, *interest* retention: a message stays until every group (consumer) that
existed when it was published has acked it, and a message published when no group exists is not kept. A
group is a durable pull consumer (explicit ack, ``ack_wait``, no delivery limit, starting at new messages);
subscriptions to one group share it. ``attempt`` is JetStream's ``num_delivered``; ``nack(delay)`` is a NAK
with that delay. ``subscribe`` with another ``ack_wait`` updates the group's consumer.

A message is one payload (:func:`~stepdance.bus.transports.common.frame`: its id, key and headers as a JSON
line, then its body) rather than NATS headers, which the client builds and parses per message at a cost
that showed in profiles; messages with headers (published by other clients) are read too. A publish, a
fetch and a batch's acks go through nats-py's connection below its per-message API (``_send_command``,
``_flush_pending``, a subscription's ``_pending_queue``), which the pinned version range (2.x) keeps: its
per-message calls cost more than the rest of the bus's path.

Durability: ``publish`` returns when JetStream acked every message (PubAck), i.e. the server wrote it to its
file store; a server restart or crash keeps it. The server fsyncs on its own schedule (``sync_interval``, two
minutes by default), so an operating-system crash or power loss can lose recent messages unless the server
runs with ``sync_interval: always``. ``ack`` is JetStream's fire-and-forget ack: an ack lost in a connection
drop means one more delivery, which at-least-once allows.

Ordering: a stream is totally ordered and one publisher's messages keep their order; one consumer of a
group gets first deliveries in that order. Redeliveries (NAK, lapsed ``ack_wait``) come when due, out of
order; several consumers of a group split the messages, whatever their key.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import nats
import nats.errors
import nats.js.errors
import orjson
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.protocol.command import pub_cmd

from stepdance.bus.transports.base import Delivery, Message, Subscription, Transport, TransportError
from stepdance.bus.transports.common import SettleOnce, frame, from_envelope, safe_name, unframe

PUBLISH_TIMEOUT = 30.0
MAX_ACK_PENDING = 10_000
MIN_WAIT = 0.01  # JetStream pull requests need a positive expiry
PULL_GRACE = 0.5  # how long past a pull request's expiry to wait for the server's answer to it
HEARTBEAT = "100"
# 404 no messages, 408 request expired, 409 a request the server ended (too many waiting, batch done...)
HEARTBEAT_OR_DONE = frozenset({HEARTBEAT, "404", "408", "409"})


@asynccontextmanager
async def mapped(doing: str) -> AsyncIterator[None]:
    """Driver errors become TransportError, saying what we were doing."""
    try:
        yield
    except TransportError:
        raise
    except (nats.errors.Error, OSError, TimeoutError) as error:
        raise TransportError(f"NATS: {doing} failed: {error!r}") from error


class NatsTransport(Transport):
    def __init__(self, url: str, *, prefix: str = "sd") -> None:
        self.url = url
        self.prefix = prefix
        self._client: Client | None = None
        self._connecting = asyncio.Lock()
        self._streams: set[str] = set()
        self._inbox = f"_INBOX.sd{uuid.uuid4().hex}"  # PubAcks come back under it, one subject per call
        self._calls = 0

    async def publish(self, topic: str, messages: Sequence[Message]) -> None:
        """All messages in one write, in order, each with a reply subject of this call's own; returns when
        every PubAck came back without an error. (nats-py's ``publish_async`` costs a future, a semaphore
        and a system call for random bytes per message, more than the rest of the publish.)"""
        if not messages:
            return
        js = await self._jetstream()
        subject = await self._stream(js, topic)
        client = self._client
        assert client is not None  # _jetstream connected it
        self._calls += 1
        inbox = f"{self._inbox}.{self._calls}"
        async with mapped(f"publish to {topic!r}"):
            replies = await client.subscribe(f"{inbox}.*")
            try:
                payloads = [frame(m) for m in messages]
                if max(map(len, payloads)) > client.max_payload:
                    raise TransportError(f"NATS: a message is over the server's {client.max_payload} bytes")
                await client._send_command(
                    b"".join(pub_cmd(subject, f"{inbox}.{i}", p) for i, p in enumerate(payloads))
                )
                await client._flush_pending()
                async with asyncio.timeout(PUBLISH_TIMEOUT):
                    await _pub_acks(replies, len(payloads))
            finally:
                await replies.unsubscribe()

    async def subscribe(self, topic: str, group: str, *, ack_wait: float = 30.0) -> Subscription:
        js = await self._jetstream()
        await self._stream(js, topic)
        stream, durable = self._stream_name(topic), safe_name(group)
        config = ConsumerConfig(
            durable_name=durable,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=ack_wait,
            deliver_policy=DeliverPolicy.NEW,
            max_deliver=-1,
            max_ack_pending=MAX_ACK_PENDING,
        )
        async with mapped(f"join group {group!r} of {topic!r}"):
            await js.add_consumer(stream, config)  # creates it, or updates ack_wait
            pull = await js.pull_subscribe_bind(durable, stream)
        return NatsSubscription(pull)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None and not client.is_closed:
            async with mapped("close"):
                await client.flush()  # acks are fire-and-forget: send them before leaving
                await client.close()

    async def _jetstream(self) -> JetStreamContext:
        async with self._connecting:
            if self._client is None or self._client.is_closed:
                async with mapped(f"connect to {self.url}"):
                    self._client = await nats.connect(
                        self.url,
                        connect_timeout=2,
                        reconnect_time_wait=0.5,
                        max_reconnect_attempts=60,
                        error_cb=_quiet,
                        allow_reconnect=True,
                    )
            return self._client.jetstream()

    def _stream_name(self, topic: str) -> str:
        return f"{self.prefix}_{safe_name(topic)}"

    async def _stream(self, js: JetStreamContext, topic: str) -> str:
        """The topic's subject, its stream created on first use."""
        subject = f"{self.prefix}.{safe_name(topic)}"
        if topic not in self._streams:
            config = StreamConfig(
                name=self._stream_name(topic),
                subjects=[subject],
                retention=RetentionPolicy.INTEREST,
                storage=StorageType.FILE,
            )
            async with mapped(f"create the stream of {topic!r}"):
                await js.add_stream(config)
            self._streams.add(topic)
        return subject


async def _pub_acks(replies: Any, count: int) -> None:
    """Wait for ``count`` PubAcks on ``replies`` (read from its buffer, as fetch reads); the first error
    raises."""
    queue: asyncio.Queue[Msg] = replies._pending_queue
    for _ in range(count):
        msg = await queue.get()
        replies._pending_size -= len(msg.data)
        status = _status(msg)
        if status is not None:  # 503: no stream listens on the subject
            raise TransportError(f"NATS: publish failed: status {status} {_description(msg)}")
        if b'"error"' in msg.data:  # only then is the answer worth parsing
            answer = orjson.loads(msg.data)
            error = answer.get("error") if isinstance(answer, dict) else None
            if isinstance(error, dict):
                raise TransportError(f"NATS: publish failed: {error.get('description', msg.data.decode())}")


async def _quiet(_error: Exception) -> None:
    """Connection trouble surfaces as TransportError on the next call; nats-py's own logging is noise."""


class NatsSubscription(Subscription):
    """A pull consumer read straight from the client's buffer.

    ``fetch`` hands out what the server already pushed for earlier pull requests; when there is none it
    sends one pull request for a batch and waits for its first message only, then takes whatever else has
    arrived. The rest of the batch keeps arriving into the buffer for the next fetch. (nats-py's own
    ``fetch`` waits on every message in turn, a timer and a task each, which was a fifth of a busy
    consumer's CPU.) Relies on nats-py's pull subscription keeping its buffer as an ``asyncio.Queue``
    (``_sub._pending_queue``, 2.x), which the pinned version range keeps."""

    def __init__(self, pull: JetStreamContext.PullSubscription) -> None:
        self._pull = pull
        self._sub: Any = pull._sub
        self._queue: asyncio.Queue[Msg] = self._sub._pending_queue

    async def fetch(self, max_messages: int, wait: float) -> list[Delivery]:
        taken = self._take(max_messages)
        if taken:
            return taken
        wait = max(wait, MIN_WAIT)
        request = orjson.dumps({"batch": max_messages, "expires": int(wait * 1_000_000_000)})
        async with mapped("fetch"):
            await self._pull._nc.publish(self._pull._nms, request, self._pull._deliver)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait + PULL_GRACE
        while (left := deadline - loop.time()) > 0:
            try:
                async with asyncio.timeout(left):
                    msg = await self._queue.get()
            except TimeoutError:
                break
            self._sub._pending_size -= len(msg.data)
            status = _status(msg)
            if status is None:
                return [NatsDelivery(msg), *self._take(max_messages - 1)]
            if status not in HEARTBEAT_OR_DONE:
                raise TransportError(f"NATS: fetch failed: status {status} {_description(msg)}")
            if status != HEARTBEAT:
                break  # the request ended (expired, or nothing to wait for): nothing came in time
        return []

    def _take(self, count: int) -> list[Delivery]:
        """Up to ``count`` messages already in the buffer, without waiting; status messages are dropped
        (they answer earlier requests)."""
        out: list[Delivery] = []
        queue = self._queue
        while len(out) < count and not queue.empty():
            msg = queue.get_nowait()
            self._sub._pending_size -= len(msg.data)
            if _status(msg) is None:
                out.append(NatsDelivery(msg))
        return out

    async def close(self) -> None:
        async with mapped("unsubscribe"):
            await self._pull.unsubscribe()


def _num_delivered(msg: Msg) -> int:
    """JetStream's delivery count, read from the ack subject (``$JS.ACK.<stream>.<consumer>.<delivered>...``,
    or with a domain and an account hash after ``ACK``); ``msg.metadata`` also builds a datetime and two
    objects per message, which showed in profiles."""
    tokens = (msg.reply or "").split(".")
    if tokens[:2] == ["$JS", "ACK"]:
        if len(tokens) == 9:
            return int(tokens[4])
        if len(tokens) >= 12:
            return int(tokens[6])
    return msg.metadata.num_delivered


def _status(msg: Msg) -> str | None:
    """The status of a JetStream status message (a heartbeat, an expired request...), None for a message."""
    headers = msg.headers
    return None if not headers else headers.get("Status")


def _description(msg: Msg) -> str:
    return (msg.headers or {}).get("Description", "")


class NatsDelivery(SettleOnce):
    def __init__(self, msg: Msg) -> None:
        message = None if msg.headers else unframe(msg.data)
        if message is None:  # published with headers (before framing, or by another client)
            message = from_envelope(dict(msg.headers or {}), msg.data)
        super().__init__(message, _num_delivered(msg))
        self._msg = msg

    async def _ack(self) -> None:
        async with mapped("ack"):
            await self._msg.ack()

    @classmethod
    def _ack_together(cls, deliveries: Sequence[SettleOnce]) -> Awaitable[None] | None:
        msgs = [d._msg for d in deliveries if isinstance(d, NatsDelivery)]
        if len(msgs) != len(deliveries) or not msgs or any(not m.reply for m in msgs):
            return None
        client = msgs[0]._client
        if any(m._client is not client for m in msgs):
            return None

        async def acked() -> None:
            async with mapped("ack"):  # one write for the batch's acks rather than a publish each
                await client._send_command(b"".join(pub_cmd(m.reply, "", b"") for m in msgs))
                await client._flush_pending()
            for m in msgs:
                m._ackd = True

        return acked()

    async def _nack(self, delay: float) -> None:
        async with mapped("nack"):
            await self._msg.nak(delay=delay or None)
