"""The two sides of bus_vs_broker: stepdance's transport, and each broker's plain client library doing the same
work the idiomatic way. A :class:`Side` publishes batches (each returning once the server made it durable)
and consumes a number of messages, acking every one.

Both sides move the same messages (a 256-byte body, the message id and an ordering key in headers) on the
same server, with the same stream/queue settings: NATS file storage with interest retention and an explicit
ack pull consumer; Redis a stream and a consumer group; RabbitMQ a durable fanout exchange, a quorum queue,
persistent messages, publisher confirms and prefetch 100.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from stepdance.bus.transports import Message, open_transport
from stepdance.bus.transports.common import safe_name

BATCH = 100
FETCH_WAIT = 5.0
Advance = Callable[[int], None]


@dataclass
class Side:
    publish: Callable[[Sequence[Message]], Awaitable[None]]
    consume: Callable[[int, Advance], Awaitable[None]]  # consume and ack this many, reporting progress
    close: Callable[[], Awaitable[None]]


class Stalled(RuntimeError):
    pass


async def transport_side(url: str, topic: str, group: str) -> Side:
    """stepdance: ``open_transport(url)``, fetch batches, ack each delivery (concurrently, as the bus does)."""
    transport = open_transport(url)
    subscription = await transport.subscribe(topic, group)

    async def consume(count: int, advance: Advance) -> None:
        done = 0
        while done < count:
            deliveries = await subscription.fetch(BATCH, FETCH_WAIT)
            if not deliveries:
                raise Stalled(f"stepdance {url}: no message for {FETCH_WAIT}s after {done}")
            await asyncio.gather(*(d.ack() for d in deliveries))
            done += len(deliveries)
            advance(len(deliveries))

    async def close() -> None:
        await subscription.close()
        await transport.close()

    return Side(lambda batch: transport.publish(topic, batch), consume, close)


def _headers(message: Message) -> dict[str, str]:
    return {"id": message.id, "key": message.key or ""}


async def nats_side(url: str, prefix: str, topic: str, group: str) -> Side:
    import nats
    from nats.js.api import (
        AckPolicy,
        ConsumerConfig,
        DeliverPolicy,
        RetentionPolicy,
        StorageType,
        StreamConfig,
    )

    client = await nats.connect(url)
    js = client.jetstream()
    stream, subject = f"{prefix}_{safe_name(topic)}", f"{prefix}.{safe_name(topic)}"
    await js.add_stream(
        StreamConfig(
            name=stream, subjects=[subject], retention=RetentionPolicy.INTEREST, storage=StorageType.FILE
        )
    )
    config = ConsumerConfig(
        durable_name=group,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.NEW,
        max_ack_pending=10_000,
    )
    await js.add_consumer(stream, config)
    pull = await js.pull_subscribe_bind(group, stream)

    async def publish(batch: Sequence[Message]) -> None:
        acks = [await js.publish_async(subject, m.body, headers=_headers(m)) for m in batch]
        await asyncio.gather(*acks)

    async def consume(count: int, advance: Advance) -> None:
        done = 0
        while done < count:
            msgs = await pull.fetch(BATCH, timeout=FETCH_WAIT)
            for msg in msgs:
                await msg.ack()
            done += len(msgs)
            advance(len(msgs))

    async def close() -> None:
        await client.flush()
        await js.delete_stream(stream)
        await client.close()

    return Side(publish, consume, close)


async def redis_side(url: str, prefix: str, topic: str, group: str) -> Side:
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(url)
    stream = f"{prefix}:{{{safe_name(topic)}}}"
    await client.xgroup_create(stream, group, id="$", mkstream=True)

    async def publish(batch: Sequence[Message]) -> None:
        async with client.pipeline(transaction=True) as pipe:
            for m in batch:
                pipe.xadd(stream, {"id": m.id, "key": m.key or "", "body": m.body})
            await pipe.execute()

    async def consume(count: int, advance: Advance) -> None:
        done = 0
        while done < count:
            read: Any = await client.xreadgroup(
                group, "c1", {stream: ">"}, count=BATCH, block=int(FETCH_WAIT * 1000)
            )
            if not read:
                raise Stalled(f"plain redis: no message for {FETCH_WAIT}s after {done}")
            ids = [entry_id for entry_id, _ in read[0][1]]
            await client.xack(stream, group, *ids)
            done += len(ids)
            advance(len(ids))

    async def close() -> None:
        await client.delete(stream)
        await client.aclose()

    return Side(publish, consume, close)


async def rabbitmq_side(url: str, prefix: str, topic: str, group: str) -> Side:
    import aio_pika

    connection = await aio_pika.connect(url)
    channel = await connection.channel(publisher_confirms=True)
    await channel.set_qos(prefetch_count=BATCH)
    exchange = await channel.declare_exchange(
        f"{prefix}.{safe_name(topic)}", aio_pika.ExchangeType.FANOUT, durable=True
    )
    queue = await channel.declare_queue(
        f"{prefix}.{safe_name(topic)}.{group}", durable=True, arguments={"x-queue-type": "quorum"}
    )
    await queue.bind(exchange)

    async def publish(batch: Sequence[Message]) -> None:
        await asyncio.gather(
            *(
                exchange.publish(
                    aio_pika.Message(
                        m.body,
                        headers=_headers(m),  # type: ignore[arg-type]
                        message_id=m.id,
                        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    ),
                    routing_key="",
                    mandatory=False,
                )
                for m in batch
            )
        )

    async def consume(count: int, advance: Advance) -> None:
        done = 0
        async with queue.iterator() as messages:
            async for message in messages:
                await message.ack()
                done += 1
                advance(1)
                if done == count:
                    return

    async def close() -> None:
        await queue.delete(if_unused=False, if_empty=False)
        await exchange.delete()
        await connection.close()

    return Side(publish, consume, close)


async def remove_transport_names(kind: str, url: str, prefix: str, topics: list[tuple[str, str]]) -> None:
    """Delete what stepdance's side created on a shared server: streams, keys, exchanges and queues."""
    if kind == "nats":
        import nats

        client = await nats.connect(url)
        for topic, _ in topics:
            await client.jetstream().delete_stream(f"{prefix}_{safe_name(topic)}")
        await client.close()
    elif kind == "redis":
        import redis.asyncio

        client = redis.asyncio.Redis.from_url(url)
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
        if keys:
            await client.delete(*keys)
        await client.aclose()
    elif kind == "rabbitmq":
        import aio_pika

        connection = await aio_pika.connect(url)
        channel = await connection.channel()
        for topic, group in topics:
            await channel.queue_delete(f"{prefix}.{safe_name(topic)}.{safe_name(group)}")
            await channel.exchange_delete(f"{prefix}.{safe_name(topic)}")
        await connection.close()
