"""Messages another client published, with the envelope (id, key, headers) in the broker's own headers rather
than in stepdance's framed body, are read as the same messages: a service written with the plain client
library, or stepdance before it framed its messages, can publish to a group stepdance consumes. And a
stream another client deleted makes a NATS publish fail at once, not after its time-out."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import pytest

from stepdance.bus.transports import Message, Transport
from stepdance.bus.transports.common import envelope, safe_name
from tests.bus.transports.backends import PREFIX, Names, skip_unless_up

pytestmark = pytest.mark.timeout(60)
SENT = Message(id="m-1", body=b'{"n": 1}', key="order-1", headers={"correlation-id": "c-1"})


async def _received(transport: Transport, topic: str, group: str, publish: Awaitable[None]) -> Message:
    """What ``transport`` delivers to ``group`` of ``topic`` once ``publish`` (another client) ran."""
    try:
        subscription = await transport.subscribe(topic, group)
        try:
            await publish
            deliveries = await subscription.fetch(10, 5.0)
            assert len(deliveries) == 1
            await deliveries[0].ack()
            return deliveries[0].message
        finally:
            await subscription.close()
    finally:
        await transport.close()


async def test_rabbitmq_reads_the_envelope_from_amqp_headers(names: Names) -> None:
    import aio_pika

    from stepdance.bus.transports.rabbitmq import RabbitTransport

    url = skip_unless_up("rabbitmq")
    transport = RabbitTransport(url, prefix=PREFIX)
    topic = names.topic()

    async def publish() -> None:
        connection = await aio_pika.connect(url)
        channel = await connection.channel()
        exchange = await channel.get_exchange(transport.exchange_name(topic))
        await exchange.publish(aio_pika.Message(SENT.body, headers=dict(envelope(SENT))), routing_key="")
        await connection.close()

    assert await _received(transport, topic, names.group(), publish()) == SENT


async def test_nats_reads_the_envelope_from_nats_headers(names: Names) -> None:
    import nats

    from stepdance.bus.transports.nats import NatsTransport

    url = skip_unless_up("nats")
    transport = NatsTransport(url, prefix=PREFIX)
    topic = names.topic()

    async def publish() -> None:
        client = await nats.connect(url)
        await client.jetstream().publish(f"{PREFIX}.{safe_name(topic)}", SENT.body, headers=envelope(SENT))
        await client.close()

    assert await _received(transport, topic, names.group(), publish()) == SENT


async def test_redis_reads_entries_of_one_field_per_part(names: Names) -> None:
    import orjson
    import redis.asyncio

    from stepdance.bus.transports.redis import RedisTransport

    url = skip_unless_up("redis")
    transport = RedisTransport(url, prefix=PREFIX)
    topic = names.topic()

    async def publish() -> None:
        client = redis.asyncio.Redis.from_url(url)
        fields = {
            "id": SENT.id,
            "key": SENT.key or "",
            "headers": orjson.dumps(SENT.headers),
            "body": SENT.body,
        }
        await client.xadd(transport.stream(topic), fields)  # type: ignore[arg-type]
        await client.aclose()

    assert await _received(transport, topic, names.group(), publish()) == SENT


async def test_a_nats_publish_to_a_stream_gone_fails_at_once(names: Names) -> None:
    import nats

    from stepdance.bus.transports import TransportError
    from stepdance.bus.transports.nats import NatsTransport

    url = skip_unless_up("nats")
    transport = NatsTransport(url, prefix=PREFIX)
    topic = names.topic()
    try:
        await transport.publish(topic, [SENT])  # creates the stream
        client = await nats.connect(url)
        await client.jetstream().delete_stream(f"{PREFIX}_{safe_name(topic)}")
        await client.close()
        with pytest.raises(TransportError, match="503"):
            await asyncio.wait_for(transport.publish(topic, [SENT]), 10)
    finally:
        await transport.close()
