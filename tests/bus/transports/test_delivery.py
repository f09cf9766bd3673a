"""The transport contract (``stepdance.bus.transports.base``), the same on every backend: round trip, fan-out
to groups, competing consumers, nack with a delay, ack_wait, and per-key ordering where it holds."""

from __future__ import annotations

import asyncio
import time

import pytest

from stepdance.bus.transports import Delivery, Message, Subscription, Transport, open_transport
from stepdance.bus.transports.common import ack_all
from tests.bus.transports.backends import Names, collect

pytestmark = pytest.mark.timeout(30)


def message(n: int, key: str | None = None) -> Message:
    return Message(id=f"m{n}", body=f"body {n}".encode(), key=key, headers={"traceparent": f"00-{n:032x}-01"})


async def test_round_trip_keeps_the_message_whole(transport: Transport, names: Names) -> None:
    subscription = await transport.subscribe(names.topic(), names.group())
    sent = Message(
        id="order-1/charged", body=b"\x00\xff binary {}", key="order-1", headers={"correlation-id": "c-1"}
    )
    plain = Message(id="m2", body=b"")
    await transport.publish(names.topic(), [sent, plain])

    first, second = await collect(subscription, 2)

    assert (first.message, first.attempt) == (sent, 1)
    assert (second.message, second.attempt) == (plain, 1)
    await first.ack()
    await second.ack()
    assert await subscription.fetch(10, 0.3) == []
    await subscription.close()


async def test_a_group_gets_what_is_published_after_it_joined(transport: Transport, names: Names) -> None:
    await transport.publish(names.topic(), [message(1)])
    subscription = await transport.subscribe(names.topic(), names.group())
    await transport.publish(names.topic(), [message(2)])

    deliveries = await collect(subscription, 1)

    assert [d.message.id for d in deliveries] == ["m2"]
    assert await subscription.fetch(10, 0.3) == []


async def test_every_group_gets_every_message(transport: Transport, names: Names) -> None:
    billing = await transport.subscribe(names.topic(), names.group("billing"))
    shipping = await transport.subscribe(names.topic(), names.group("shipping"))
    await transport.publish(names.topic(), [message(n) for n in range(5)])

    billed = await collect(billing, 5)
    for delivery in billed:
        await delivery.ack()  # one group's acks leave the other group's copy alone
    shipped = await collect(shipping, 5)

    expected = [f"m{n}" for n in range(5)]
    assert sorted(d.message.id for d in billed) == expected
    assert sorted(d.message.id for d in shipped) == expected
    assert await billing.fetch(10, 0.3) == []


async def test_competing_consumers_never_hold_one_message_at_once(transport: Transport, names: Names) -> None:
    one = await transport.subscribe(names.topic(), names.group())
    two = await transport.subscribe(names.topic(), names.group())
    await transport.publish(names.topic(), [message(n) for n in range(40)])
    first: list[Delivery] = []
    second: list[Delivery] = []

    async def drain(subscription: Subscription, held: list[Delivery]) -> None:
        deadline = time.monotonic() + 10
        while len(first) + len(second) < 40 and time.monotonic() < deadline:
            held += await subscription.fetch(5, 0.2)  # nothing acked: every message stays held

    await asyncio.gather(drain(one, first), drain(two, second))

    ids_one, ids_two = [d.message.id for d in first], [d.message.id for d in second]
    assert not set(ids_one) & set(ids_two)
    assert sorted(ids_one + ids_two) == sorted(f"m{n}" for n in range(40))
    await asyncio.gather(*(d.ack() for d in first + second))
    assert await one.fetch(10, 0.2) == [] and await two.fetch(10, 0.2) == []


async def test_nack_with_delay_redelivers_no_sooner_with_the_next_attempt(
    transport: Transport, names: Names
) -> None:
    subscription = await transport.subscribe(names.topic(), names.group())
    await transport.publish(names.topic(), [message(1)])
    [delivery] = await collect(subscription, 1)

    nacked = time.monotonic()
    await delivery.nack(delay=1.0)
    early = await subscription.fetch(1, 0.6)
    [again] = await collect(subscription, 1, seconds=6)

    assert early == []
    assert time.monotonic() - nacked >= 0.98  # clocks of client and server may differ by a few ms
    assert (again.message, again.attempt) == (message(1), 2)
    await again.ack()


async def test_nack_without_delay_redelivers_at_once(transport: Transport, names: Names) -> None:
    subscription = await transport.subscribe(names.topic(), names.group())
    await transport.publish(names.topic(), [message(1)])
    [delivery] = await collect(subscription, 1)

    await delivery.nack()
    [again] = await collect(subscription, 1, seconds=3)

    assert again.message.id == "m1" and again.attempt == 2
    await again.nack()
    [third] = await collect(subscription, 1, seconds=3)
    assert third.attempt == 3
    await third.ack()


async def test_a_consumer_that_never_acks_loses_the_message_after_ack_wait(
    transport: Transport, names: Names
) -> None:
    stuck = await transport.subscribe(names.topic(), names.group(), ack_wait=1.0)
    other = await transport.subscribe(names.topic(), names.group(), ack_wait=1.0)
    await transport.publish(names.topic(), [message(1)])
    asked = time.monotonic()  # the delivery to `stuck` happens after this
    [held] = await collect(stuck, 1)

    early = await other.fetch(1, 0.5)
    [taken] = await collect(other, 1, seconds=6)

    assert early == []
    assert time.monotonic() - asked >= 0.98  # clocks of client and server may differ by a few ms
    assert (taken.message, taken.attempt) == (message(1), 2)
    await taken.ack()
    assert held.attempt == 1
    assert await other.fetch(1, 1.5) == [] and await stuck.fetch(1, 0.1) == []


async def test_a_joint_ack_takes_only_the_deliveries_it_is_given(transport: Transport, names: Names) -> None:
    """``ack_all`` acks a batch in as few calls as the transport allows (RabbitMQ: one ``multiple`` ack for a
    run of the oldest deliveries); deliveries still held among them, older or interleaved, stay unacked and
    come back once their ack_wait is over."""
    subscription = await transport.subscribe(names.topic(), names.group(), ack_wait=2.0)
    await transport.publish(names.topic(), [message(n) for n in range(10)])
    held = await collect(subscription, 10)
    assert [d.message.id for d in held] == [f"m{n}" for n in range(10)]

    assert await ack_all([held[n] for n in (1, 2, 4, 5, 6, 9)]) == [None] * 6
    assert await ack_all([held[0]]) == [None]  # the oldest, after younger ones were acked

    back: set[str] = set()
    deadline = time.monotonic() + 12
    while back != {"m3", "m7", "m8"} and time.monotonic() < deadline:
        again = await subscription.fetch(10, 0.5)
        assert all(d.attempt >= 2 for d in again)
        back |= {d.message.id for d in again}  # one may come twice if its ack_wait lapsed here again
        assert await ack_all(again) == [None] * len(again)
    assert back == {"m3", "m7", "m8"}
    assert await subscription.fetch(10, 1.5) == []
    await subscription.close()


async def test_a_joint_ack_beside_a_delayed_nack_leaves_the_nacked_one_to_come_back(
    transport: Transport, names: Names
) -> None:
    """A nack with a delay may take a round trip (RabbitMQ republishes, then acks the original); a joint ack
    of younger deliveries meanwhile must not take the nacked one along (RabbitMQ would then close the channel
    at the original's ack, and the delivery still held, m6, could no longer be acked)."""
    subscription = await transport.subscribe(names.topic(), names.group())
    await transport.publish(names.topic(), [message(n) for n in range(7)])
    held = await collect(subscription, 7)

    nacking = asyncio.ensure_future(held[1].nack(0.5))
    await asyncio.sleep(0)  # the nack has started
    assert await ack_all([held[n] for n in (0, 2, 3, 4, 5)]) == [None] * 5
    await nacking

    [again] = await collect(subscription, 1, seconds=8)
    assert (again.message.id, again.attempt) == ("m1", 2)
    assert await ack_all([again, held[6]]) == [None, None]
    assert await subscription.fetch(10, 1.0) == []
    await subscription.close()


async def test_one_consumer_gets_each_key_in_publish_order(transport: Transport, names: Names) -> None:
    subscription = await transport.subscribe(names.topic(), names.group())
    keys = ["a", "b", "c"]
    for batch in range(3):
        await transport.publish(names.topic(), [message(batch * 100 + n, keys[n % 3]) for n in range(60)])

    deliveries: list[Delivery] = []
    while len(deliveries) < 180:
        batch = await subscription.fetch(50, 5)
        assert batch, "the messages stopped coming"
        await asyncio.gather(*(d.ack() for d in batch))
        deliveries += batch

    for key in keys:
        numbers = [int(d.message.id[1:]) for d in deliveries if d.message.key == key]
        assert numbers == sorted(numbers) and len(numbers) == 60


async def test_a_delayed_retry_does_not_hold_back_later_messages_with_its_key(
    transport: Transport, names: Names
) -> None:
    """Where per-key order does not hold, on every transport: a message nacked with a delay comes back
    after later messages with its key (keeping order would block the key for the whole delay)."""
    subscription = await transport.subscribe(names.topic(), names.group())
    await transport.publish(names.topic(), [message(n, "order-7") for n in (1, 2, 3)])
    [first] = await subscription.fetch(1, 5)
    await first.nack(delay=0.5)

    rest = await collect(subscription, 3, seconds=6)

    assert [(d.message.id, d.attempt) for d in rest] == [("m2", 1), ("m3", 1), ("m1", 2)]


async def test_a_fetch_returns_empty_after_waiting_at_most_wait(transport: Transport, names: Names) -> None:
    subscription = await transport.subscribe(names.topic(), names.group())
    began = time.monotonic()

    assert await subscription.fetch(10, 0.4) == []

    assert 0.3 <= time.monotonic() - began < 1.5
    await transport.publish(names.topic(), [])  # publishing nothing is allowed and does nothing


async def test_two_connections_share_a_group(transport_url: str, transport: Transport, names: Names) -> None:
    """As two processes would: one publishes, the other consumes, each with a transport of its own."""
    consumer = open_transport(transport_url)
    try:
        subscription = await consumer.subscribe(names.topic(), names.group())
        await transport.publish(names.topic(), [message(n) for n in range(10)])

        deliveries = await collect(subscription, 10)

        assert [d.message.id for d in deliveries] == [f"m{n}" for n in range(10)]
        await asyncio.gather(*(d.ack() for d in deliveries))
    finally:
        await consumer.close()


async def test_a_cancelled_fetch_stops_at_once_and_loses_nothing(transport: Transport, names: Names) -> None:
    subscription = await transport.subscribe(names.topic(), names.group(), ack_wait=2.0)
    began = time.monotonic()

    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.3):
            await subscription.fetch(10, 30)

    assert time.monotonic() - began < 1.5
    await transport.publish(names.topic(), [message(1)])
    # A message a cancelled fetch took on its way out comes back after ack_wait at the latest.
    [delivery] = await collect(subscription, 1, seconds=8)
    assert delivery.message.id == "m1"
    await delivery.ack()
