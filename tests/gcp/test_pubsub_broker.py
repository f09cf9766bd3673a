"""Pub/Sub's delivery semantics over every bus transport: leases, acks, nacks with back-off, lapsed
deadlines, dead-lettering with delivery attempts."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from stepdance.bus.transports import Transport, open_transport
from stepdance.gcp.pubsub_broker import (
    DEAD_LETTER_COUNT,
    DEAD_LETTER_SOURCE,
    Broker,
    Policy,
    Published,
    Received,
)
from tests.bus.transports.backends import CORE_BACKENDS, url_for

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(params=CORE_BACKENDS)
async def transport(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Transport]:
    opened = open_transport(url_for(request.param, tmp_path))
    yield opened
    await asyncio.wait_for(opened.close(), 10)


@pytest.fixture
async def broker(transport: Transport) -> AsyncIterator[Broker]:
    made = Broker(transport)
    yield made
    await made.close()


def names() -> tuple[str, str]:
    tag = uuid.uuid4().hex[:8]
    return f"projects/p/topics/t{tag}", f"projects/p/subscriptions/s{tag}"


async def test_a_subscription_gets_what_is_published_after_it_and_an_ack_ends_it(broker: Broker) -> None:
    topic, sub = names()
    await broker.publish(topic, [Published(b"before")])
    await broker.attach(sub, topic, Policy())
    ids = await broker.publish(topic, [Published(b"one", {"k": "v"}, "order-1"), Published(b"two")])
    assert ids == sorted(ids, key=int) and len(set(ids)) == 2

    got = await _pull_all(broker, sub, 2)
    assert [(m.data, m.attributes, m.ordering_key) for m in got] == [
        (b"one", {"k": "v"}, "order-1"),
        (b"two", {}, ""),
    ]
    assert [m.message_id for m in got] == ids and all(m.delivery_attempt == 0 for m in got)
    await broker.acknowledge(sub, [m.ack_id for m in got])
    assert await broker.pull(sub, 10, 0.3) == []


async def test_a_nack_delivers_again_after_the_retry_back_off(broker: Broker) -> None:
    topic, sub = names()
    await broker.attach(sub, topic, Policy(min_backoff=0.3, max_backoff=1.0))
    await broker.publish(topic, [Published(b"x")])
    (first,) = await _pull_all(broker, sub, 1)
    await broker.modify_ack_deadline(sub, [first.ack_id], 0)
    assert await broker.pull(sub, 1, 0.1) == []  # not before the back-off
    (again,) = await _pull_all(broker, sub, 1)
    assert again.message_id == first.message_id and again.ack_id != first.ack_id
    await broker.acknowledge(sub, [first.ack_id])  # a stale ack id changes nothing
    await broker.acknowledge(sub, [again.ack_id])


async def test_a_lapsed_deadline_gives_the_message_back_and_an_extended_one_keeps_it(broker: Broker) -> None:
    now = [0.0]
    broker.clock = lambda: now[0]
    topic, sub = names()
    await broker.attach(sub, topic, Policy(ack_deadline=10))
    await broker.publish(topic, [Published(b"a"), Published(b"b")])
    a, b = await _pull_all(broker, sub, 2)
    await broker.modify_ack_deadline(sub, [b.ack_id], 60)
    now[0] = 11.0
    assert await broker.expire() == 1  # a's lease lapsed; b's was extended
    (again,) = await _pull_all(broker, sub, 1)
    assert again.data == b"a"
    assert broker.leased(sub, b.ack_id) and not broker.leased(sub, a.ack_id)


async def test_past_its_delivery_attempts_a_message_goes_to_the_dead_letter_topic(broker: Broker) -> None:
    topic, sub = names()
    dead_topic, dead_sub = names()
    await broker.attach(dead_sub, dead_topic, Policy())
    await broker.attach(sub, topic, Policy(dead_letter_topic=dead_topic, max_delivery_attempts=2))
    await broker.publish(topic, [Published(b"poison", {"why": "test"})])
    attempts = []
    for _ in range(2):
        (got,) = await _pull_all(broker, sub, 1)
        attempts.append(got.delivery_attempt)
        await broker.modify_ack_deadline(sub, [got.ack_id], 0)
    assert attempts == [1, 2]
    assert await broker.pull(sub, 1, 0.5) == []  # the third delivery was forwarded, not leased
    (dead,) = await _pull_all(broker, dead_sub, 1)
    assert dead.data == b"poison"
    assert dead.attributes == {"why": "test", DEAD_LETTER_COUNT: "2", DEAD_LETTER_SOURCE: sub}


async def test_an_ordered_subscription_sends_a_keys_next_message_only_after_an_ack(broker: Broker) -> None:
    topic, sub = names()
    await broker.attach(sub, topic, Policy(ordered=True))
    await broker.publish(topic, [Published(f"a{n}".encode(), ordering_key="a") for n in range(3)])
    await broker.publish(topic, [Published(b"b0", ordering_key="b"), Published(b"free")])
    await broker.publish(topic, [Published(b"b1", ordering_key="b")])
    first = await _pull_all(broker, sub, 3)
    assert sorted(m.data for m in first) == [b"a0", b"b0", b"free"]  # one per key, and the unkeyed one
    assert await broker.pull(sub, 10, 0.3) == []  # a1 and b1 wait for a0 and b0
    await broker.acknowledge(sub, [m.ack_id for m in first if m.data != b"a0"])
    (b1,) = await _pull_all(broker, sub, 1)
    assert b1.data == b"b1"
    a0 = next(m for m in first if m.data == b"a0")
    await broker.modify_ack_deadline(sub, [a0.ack_id], 0)  # a nack: a0 again, still before a1
    (again,) = await _pull_all(broker, sub, 1)
    assert (again.data, again.message_id) == (b"a0", a0.message_id)
    order = []
    for _ in range(2):
        await broker.acknowledge(sub, [again.ack_id])
        (again,) = await _pull_all(broker, sub, 1)
        order.append(again.data)
    assert order == [b"a1", b"a2"]
    await broker.acknowledge(sub, [again.ack_id, b1.ack_id])
    assert await broker.pull(sub, 10, 0.3) == []


async def test_an_ordered_keys_retries_keep_their_back_off_attempts_and_dead_letter(broker: Broker) -> None:
    topic, sub = names()
    dead_topic, dead_sub = names()
    await broker.attach(dead_sub, dead_topic, Policy())
    policy = Policy(ordered=True, min_backoff=0.2, dead_letter_topic=dead_topic, max_delivery_attempts=3)
    await broker.attach(sub, topic, policy)
    await broker.publish(
        topic, [Published(b"poison", ordering_key="k"), Published(b"next", ordering_key="k")]
    )
    attempts = []
    for _ in range(3):
        (got,) = await _pull_all(broker, sub, 1)
        assert got.data == b"poison"
        attempts.append(got.delivery_attempt)
        await broker.modify_ack_deadline(sub, [got.ack_id], 0)
        if len(attempts) == 1:
            assert await broker.pull(sub, 10, 0.1) == []  # neither it (back-off) nor the next one (order)
    assert attempts == [1, 2, 3]
    (dead,) = await _pull_all(broker, dead_sub, 1)
    assert dead.data == b"poison" and dead.attributes[DEAD_LETTER_COUNT] == "3"
    (after,) = await _pull_all(broker, sub, 1)  # the key goes on past its dead letter
    assert after.data == b"next" and after.delivery_attempt == 1
    await broker.acknowledge(sub, [after.ack_id])
    await broker.acknowledge(dead_sub, [dead.ack_id])


async def _pull_all(broker: Broker, subscription: str, count: int) -> list[Received]:
    got: list[Received] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while len(got) < count and loop.time() < deadline:
        got += await broker.pull(subscription, count - len(got), 2.0)
    assert len(got) == count, f"got {len(got)} of {count}"
    return sorted(got, key=lambda m: int(m.message_id))
