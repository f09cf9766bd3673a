"""RabbitMQ: a fanout exchange per topic, a quorum queue per group (``pip install stepdance[rabbitmq]``).

A topic ``t`` is the durable fanout exchange ``<prefix>.t``; a group ``g`` is the durable quorum queue
``<prefix>.t.g`` bound to it (created on first subscribe, so it gets what is published from then on).
Messages are persistent and ``publish`` waits for the publisher confirms; quorum queues confirm once a
majority of their replicas fsynced the message, so a broker restart keeps every confirmed publish.

Consuming: each subscription is a consumer with its own channel and ``prefetch`` (default 100) messages
pushed ahead into a local buffer that ``fetch`` drains; a subscription holds at most ``prefetch``
unsettled deliveries (the broker sends no more until some are acked or nacked). RabbitMQ has no
per-delivery ack deadline, so ``ack_wait`` is kept here: a delivery neither acked nor nacked ``ack_wait``
after ``fetch`` handed it out (or after it reached a buffer nobody fetches from) is handed back
(basic.nack, requeue) and goes to another consumer. If the consumer's process dies, the broker requeues
its deliveries at once when the connection drops. The acks of a batch go together (``ack_all``): one
basic.ack with ``multiple`` for the run of the channel's oldest unsettled deliveries the batch covers, one
each for the rest, queued without waiting for the socket (a lost ack is one more delivery).

``attempt``: quorum queues count returns in ``x-delivery-count``; a delayed retry also carries the attempts
so far in the ``stepdance-attempts`` header.

``nack(delay)``: with no delay, basic.nack with requeue. With a delay, the message is republished (confirmed)
to a retry queue of the group, ``<queue>.retry.<ms>``, whose messages all live ``ms`` milliseconds and then
dead-letter back to the group's queue, and only then acked: a crash in between delivers it twice, never
zero times. One retry queue per delay means expiry is FIFO; delays are rounded up to the next of a few
standard values (steps of 2^(1/4), at most 19 % later), so a group has at most a few dozen retry queues.

A message is one body (:func:`~stepdance.bus.transports.common.frame`: its id, key and headers as a JSON
line, then its body) rather than AMQP headers, which the client encodes and decodes field by field at a cost
that showed in profiles; messages with the envelope in headers (published by other clients) are read too.

Ordering: a queue is FIFO and a publish keeps its messages' order, so one consumer of a group gets first
deliveries in publish order. Requeued and delayed messages come back behind newer ones; consumers of one
group share messages round-robin (in prefetch-sized runs), whatever their key.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import asynccontextmanager, suppress
from typing import cast

import aio_pika
import aiormq
import aiormq.exceptions
import pamqp.exceptions
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
)
from pamqp.commands import Basic
from pamqp.common import FieldTable

from stepdance.bus.transports.base import Delivery, Message, Subscription, Transport, TransportError
from stepdance.bus.transports.common import (
    SettleOnce,
    acked_per_subscription,
    frame,
    from_envelope,
    safe_name,
    unframe,
)

PUBLISH_TIMEOUT = 30.0
PERSISTENT = int(aio_pika.DeliveryMode.PERSISTENT)
ATTEMPTS_HEADER = "stepdance-attempts"
_ERRORS = (
    aiormq.exceptions.AMQPError,
    pamqp.exceptions.PAMQPException,
    ConnectionError,
    OSError,
    TimeoutError,
)


@asynccontextmanager
async def mapped(doing: str) -> AsyncIterator[None]:
    try:
        yield
    except _ERRORS as error:
        raise TransportError(f"RabbitMQ: {doing} failed: {error!r}") from error


def bucket_ms(delay: float) -> int:
    """The retry queue for ``delay`` seconds: milliseconds rounded up to a power of 2^(1/4)."""
    ms = max(1, math.ceil(delay * 1000))
    return max(ms, math.ceil(2 ** (math.ceil(4 * math.log2(ms)) / 4)))


class RabbitTransport(Transport):
    def __init__(self, url: str, *, prefix: str = "sd", prefetch: int = 100) -> None:
        self.url = url
        self.prefix = prefix
        self.prefetch = prefetch
        self._connection: AbstractConnection | None = None
        self._publisher: AbstractChannel | None = None
        self._exchanges: dict[str, AbstractExchange] = {}
        self._lock = asyncio.Lock()
        self.subscriptions: set[RabbitSubscription] = set()

    async def publish(self, topic: str, messages: Sequence[Message]) -> None:
        """Every message's frames queued at once on the publishing channel, in order, then the confirms
        awaited together; a nack (or a return) fails the call. Below aio-pika's ``Exchange.publish``, which
        builds an ``aio_pika.Message`` per message and holds the channel's lock until each message's frames
        reached the socket: it cost more than the rest of a bus's path per message."""
        if not messages:
            return
        exchange = await self._exchange(topic)
        assert self._publisher is not None  # _exchange opened it
        async with mapped(f"publish to {topic!r}"):
            # the concrete channel: its basic_publish takes ``wait`` (aiormq's abstract class omits it)
            channel = cast(aiormq.Channel, await self._publisher.get_underlay_channel())
            # Tasks start in creation order and take the channel's lock in that order: frames go out in
            # publish order while the confirms are awaited together.
            sends = [
                asyncio.ensure_future(
                    channel.basic_publish(
                        frame(m),
                        exchange=exchange.name,
                        routing_key="",
                        properties=Basic.Properties(delivery_mode=PERSISTENT, message_id=m.id),
                        wait=False,
                    )
                )
                for m in messages
            ]
            try:
                async with asyncio.timeout(PUBLISH_TIMEOUT):
                    await asyncio.gather(*sends)
            finally:
                for send in sends:
                    send.cancel()  # a failed one left the others waiting (no-op on those done)

    async def subscribe(self, topic: str, group: str, *, ack_wait: float = 30.0) -> Subscription:
        subscription = RabbitSubscription(self, topic, group, ack_wait)
        await subscription.start()
        return subscription

    async def close(self) -> None:
        for subscription in list(self.subscriptions):
            await subscription.close()
        connection, self._connection = self._connection, None
        self._publisher, self._exchanges = None, {}
        if connection is not None:
            async with mapped("close"):
                await connection.close()

    def exchange_name(self, topic: str) -> str:
        return f"{self.prefix}.{safe_name(topic)}"

    async def channel(self) -> AbstractChannel:
        """A new channel with publisher confirms, (re)connecting first if needed."""
        async with self._lock, mapped(f"connect to {self.url}"):
            if self._connection is None or self._connection.is_closed:
                self._connection = await aio_pika.connect(self.url, timeout=5)
                self._publisher, self._exchanges = None, {}
            return await self._connection.channel(publisher_confirms=True)

    async def declare_exchange(self, channel: AbstractChannel, topic: str) -> AbstractExchange:
        async with mapped(f"declare the exchange of {topic!r}"):
            return await channel.declare_exchange(
                self.exchange_name(topic), aio_pika.ExchangeType.FANOUT, durable=True
            )

    async def _exchange(self, topic: str) -> AbstractExchange:
        if self._publisher is None or self._publisher.is_closed:
            self._publisher, self._exchanges = await self.channel(), {}
        if topic not in self._exchanges:
            self._exchanges[topic] = await self.declare_exchange(self._publisher, topic)
        return self._exchanges[topic]


def _outgoing(message: Message, attempts: int = 0) -> aio_pika.Message:
    headers: FieldTable | None = {ATTEMPTS_HEADER: attempts} if attempts else None
    return aio_pika.Message(
        frame(message),
        headers=headers,
        message_id=message.id,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
    )


def _incoming(raw: AbstractIncomingMessage) -> tuple[Message, int]:
    """The message and its attempt number."""
    headers = dict(raw.headers or {})
    previous = _count(headers.pop("x-delivery-count", 0)) + _count(headers.pop(ATTEMPTS_HEADER, 0))
    framed = unframe(raw.body)
    if framed is not None:
        return framed, previous + 1
    # published with the envelope in AMQP headers (before framing, or by another client)
    own = {
        k: v.decode() if isinstance(v, bytes) else str(v)
        for k, v in headers.items()
        if not k.startswith("x-")
    }
    return from_envelope(own, raw.body), previous + 1


def _count(value: object) -> int:
    return int(value) if isinstance(value, int | str) else 0


class RabbitSubscription(Subscription):
    def __init__(self, transport: RabbitTransport, topic: str, group: str, ack_wait: float) -> None:
        self.transport = transport
        self.topic = topic
        self.queue_name = f"{transport.exchange_name(topic)}.{safe_name(group)}"
        self.ack_wait = ack_wait
        self.channel: AbstractChannel | None = None
        self._queue: AbstractQueue | None = None
        self._tag: str | None = None
        self._buffer: asyncio.Queue[RabbitDelivery] = asyncio.Queue()
        # this channel's deliveries whose ack or nack has not been sent yet, by delivery tag, in arrival (=
        # tag) order: a ``multiple`` ack must not reach past one of them (one being nacked with a delay is
        # here until its republish is confirmed and its ack sent)
        self.unsettled: dict[int, RabbitDelivery] = {}
        self._retry_queues: set[int] = set()
        self._returns: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Declare the group's queue and start consuming on a new channel."""
        channel = await self.transport.channel()
        exchange = await self.transport.declare_exchange(channel, self.topic)
        async with mapped(f"join the queue {self.queue_name!r}"):
            await channel.set_qos(prefetch_count=self.transport.prefetch)
            queue = await channel.declare_queue(
                self.queue_name, durable=True, arguments={"x-queue-type": "quorum"}
            )
            await queue.bind(exchange)
            self._tag = await queue.consume(self._arrived, no_ack=False)
        self.channel, self._queue, self._retry_queues = channel, queue, set()
        self.unsettled = {}
        self.transport.subscriptions.add(self)

    async def fetch(self, max_messages: int, wait: float) -> list[Delivery]:
        if self.channel is None or self.channel.is_closed:
            await self.start()  # the broker or the connection went away: what we held is requeued
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(wait, 0.0)
        out: list[Delivery] = []
        while len(out) < max_messages:
            if self._buffer.empty() and (out or loop.time() >= deadline):
                break
            try:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for may swallow a cancellation
                async with asyncio.timeout_at(deadline):
                    delivery = await self._buffer.get()
            except TimeoutError:
                break
            if not delivery.settled:  # else its ack_wait ran out while it waited here
                delivery.hold(self.ack_wait)  # ack_wait counts from the hand-out
                out.append(delivery)
        return out

    async def close(self) -> None:
        self.transport.subscriptions.discard(self)
        channel, self.channel = self.channel, None
        while not self._buffer.empty():
            self._buffer.get_nowait().give_up()
        for task in list(self._returns):
            task.cancel()
        if channel is not None and not channel.is_closed:
            async with mapped("close the consumer"):
                await channel.close()  # the broker requeues whatever this channel still holds

    def hand_back(self, delivery: RabbitDelivery) -> None:
        """``ack_wait`` is over: requeue the message so another consumer gets it."""
        task = asyncio.get_running_loop().create_task(self._requeue(delivery))
        self._returns.add(task)
        task.add_done_callback(self._returns.discard)

    async def _requeue(self, delivery: RabbitDelivery) -> None:
        with suppress(TransportError):  # then it comes back when the channel closes
            await delivery.requeue()

    async def retry_later(
        self, raw: AbstractIncomingMessage, message: Message, attempt: int, delay: float
    ) -> None:
        ms = bucket_ms(delay)
        name = f"{self.queue_name}.retry.{ms}"
        async with mapped(f"nack with a delay to {name!r}"):
            if ms not in self._retry_queues:
                arguments: FieldTable = {
                    "x-message-ttl": ms,
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": self.queue_name,
                }
                assert self.channel is not None
                await self.channel.declare_queue(name, durable=True, arguments=arguments)
                self._retry_queues.add(ms)
            assert self.channel is not None
            await self.channel.default_exchange.publish(_outgoing(message, attempt), routing_key=name)
            await raw.ack()
            self.sent(raw.delivery_tag)

    async def _arrived(self, raw: AbstractIncomingMessage) -> None:
        message, attempt = _incoming(raw)
        delivery = RabbitDelivery(self, raw, message, attempt)
        delivery.hold(self.ack_wait)
        if raw.delivery_tag is not None:
            self.unsettled[raw.delivery_tag] = delivery
        self._buffer.put_nowait(delivery)

    async def ack_many(self, deliveries: Sequence[RabbitDelivery]) -> None:
        """Ack ``deliveries`` (of this subscription): one basic.ack with ``multiple`` for the longest run of
        the channel's oldest unsettled deliveries they cover, one basic.ack each for the rest (``multiple``
        must not take along a delivery another batch still holds). The frames are queued, not awaited onto
        the socket: an ack lost with the connection means one more delivery, which at-least-once allows."""
        tags = {d.tag for d in deliveries}
        highest = 0
        for tag in self.unsettled:  # oldest first
            if tag not in tags:
                break
            highest = tag
        for delivery in deliveries:
            delivery.settle()
        assert self.channel is not None  # settle() raised if it closed
        async with mapped("ack"):
            channel = cast(aiormq.Channel, await self.channel.get_underlay_channel())
            if highest:
                await channel.basic_ack(highest, multiple=True, wait=False)
            for tag in sorted(tags):
                if tag > highest:
                    await channel.basic_ack(tag, wait=False)
        for tag in tags:
            self.sent(tag)

    def sent(self, tag: int | None) -> None:
        """The ack or nack of ``tag`` went out."""
        if tag is not None:
            self.unsettled.pop(tag, None)


class RabbitDelivery(SettleOnce):
    def __init__(
        self, subscription: RabbitSubscription, raw: AbstractIncomingMessage, message: Message, attempt: int
    ) -> None:
        super().__init__(message, attempt)
        self._subscription = subscription
        self._raw = raw
        self.lease: asyncio.TimerHandle | None = None

    def hold(self, seconds: float) -> None:
        """Hand the message back unless it is settled within ``seconds``."""
        if self.lease is not None:
            self.lease.cancel()
        self.lease = asyncio.get_running_loop().call_later(seconds, self.expire)

    @property
    def tag(self) -> int:
        return self._raw.delivery_tag or 0

    @classmethod
    def _ack_together(cls, deliveries: Sequence[SettleOnce]) -> Awaitable[None] | None:
        return acked_per_subscription(
            deliveries, RabbitDelivery, lambda d: d._subscription, RabbitSubscription.ack_many
        )

    def expire(self) -> None:
        if not self.settled:
            self.settled = True
            self._subscription.hand_back(self)

    def give_up(self) -> None:
        """The subscription closes: its channel's close requeues the message."""
        self.settled = True
        if self.lease is not None:
            self.lease.cancel()

    async def requeue(self) -> None:
        try:
            async with mapped("requeue"):
                await self._raw.nack(requeue=True)
            self._subscription.sent(self.tag)
        except TransportError:
            if not self._raw.channel.is_closed:
                raise
            # else the broker requeued it when the channel closed

    async def _ack(self) -> None:
        self.settle()
        async with mapped("ack"):
            await self._raw.ack()
        self._subscription.sent(self.tag)

    async def _nack(self, delay: float) -> None:
        self.settle()
        if delay <= 0:
            await self.requeue()
        else:
            await self._subscription.retry_later(self._raw, self.message, self.attempt, delay)

    def settle(self) -> None:
        """Stop its lease before an ack or a nack; fail when its channel is gone."""
        if self.lease is not None:
            self.lease.cancel()
        if self._raw.channel.is_closed:
            raise TransportError("RabbitMQ: the channel closed; the broker will deliver this message again")
