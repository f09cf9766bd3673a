"""NATS JetStream: a stream per topic, a durable pull consumer per group (``pip install stepdance[nats]``).

A topic ``t`` is the stream ``<prefix>_t`` on the subject ``<prefix>.t`` (names escaped by
:func:`safe_name`), file storage, *interest* retention: a message stays until every group (consumer) that
existed when it was published has acked it, and a message published when no group exists is not kept. A
group is a durable pull consumer (explicit ack, ``ack_wait``, no delivery limit, starting at new messages);
subscriptions to one group share it. ``attempt`` is JetStream's ``num_delivered``; ``nack(delay)`` is a NAK
with that delay. ``subscribe`` with another ``ack_wait`` updates the group's consumer.

A message is one payload (:func:`~stepdance.bus.transports.common.frame`: its id, key and headers as a JSON
line, then its body) rather than NATS headers, which the client builds and parses per message at a cost
that showed in profiles; messages with headers (published by other clients) are read too.

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
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, RetentionPolicy, StorageType, StreamConfig

from stepdance.bus.transports.base import Delivery, Message, Subscription, Transport, TransportError
from stepdance.bus.transports.common import SettleOnce, frame, from_envelope, safe_name, unframe

PUBLISH_TIMEOUT = 30.0
MAX_ACK_PENDING = 10_000
MIN_WAIT = 0.01  # JetStream pull requests need a positive expiry


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

    async def publish(self, topic: str, messages: Sequence[Message]) -> None:
        if not messages:
            return
        js = await self._jetstream()
        subject = await self._stream(js, topic)
        async with mapped(f"publish to {topic!r}"):
            # Queued one after another (so in order), then all PubAcks awaited together.
            acks = [await js.publish_async(subject, frame(m)) for m in messages]
            async with asyncio.timeout(PUBLISH_TIMEOUT):
                await asyncio.gather(*acks)

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


async def _quiet(_error: Exception) -> None:
    """Connection trouble surfaces as TransportError on the next call; nats-py's own logging is noise."""


class NatsSubscription(Subscription):
    def __init__(self, pull: JetStreamContext.PullSubscription) -> None:
        self._pull = pull

    async def fetch(self, max_messages: int, wait: float) -> list[Delivery]:
        try:
            async with mapped("fetch"):
                msgs = await self._pull.fetch(batch=max_messages, timeout=max(wait, MIN_WAIT))
        except TransportError as error:
            if isinstance(error.__cause__, TimeoutError):
                return []  # nothing arrived in time
            raise
        return [NatsDelivery(msg) for msg in msgs]

    async def close(self) -> None:
        async with mapped("unsubscribe"):
            await self._pull.unsubscribe()


class NatsDelivery(SettleOnce):
    def __init__(self, msg: Msg) -> None:
        message = None if msg.headers else unframe(msg.data)
        if message is None:  # published with headers (before framing, or by another client)
            message = from_envelope(dict(msg.headers or {}), msg.data)
        super().__init__(message, msg.metadata.num_delivered)
        self._msg = msg

    async def _ack(self) -> None:
        async with mapped("ack"):
            await self._msg.ack()

    async def _nack(self, delay: float) -> None:
        async with mapped("nack"):
            await self._msg.nak(delay=delay or None)
