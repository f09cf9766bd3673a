"""The misbehaving transport, over the real embedded one: a share of the messages arrive twice with the
same id, a share are overtaken by later ones, and every message still arrives."""

from __future__ import annotations

from pathlib import Path

from stepdance.bus.transports import Message, open_transport
from stepdance.faults.transport import MisbehavingTransport, Misbehaviour, Twice


async def _drain(transport: MisbehavingTransport, topic: str, count: int) -> list[str]:
    subscription = await transport.subscribe(topic, "g")
    arrived: list[str] = []
    try:
        await transport.publish(topic, [Message(id=f"m{i:03d}", body=b"{}") for i in range(count)])
        while len(arrived) < count + len(transport.misbehaviour.duplicated):
            deliveries = await subscription.fetch(100, 2.0)
            assert deliveries, f"only {len(arrived)} arrived"
            for delivery in deliveries:
                arrived.append(delivery.message.id)
                await delivery.ack()
    finally:
        await subscription.close()
    return arrived


async def test_a_share_of_the_messages_arrive_twice_with_the_same_id(tmp_path: Path) -> None:
    misbehaviour = Misbehaviour(duplicate_rate=0.3, seed=1)
    transport = MisbehavingTransport(open_transport(f"sqlite:///{tmp_path / 'bus.db'}"), misbehaviour)
    try:
        arrived = await _drain(transport, "t", 100)
    finally:
        await transport.close()
    assert 15 < len(misbehaviour.duplicated) < 45
    assert sorted(arrived) == sorted([f"m{i:03d}" for i in range(100)] + misbehaviour.duplicated)


async def test_held_back_messages_are_overtaken_and_still_arrive(tmp_path: Path) -> None:
    misbehaviour = Misbehaviour(hold_rate=0.2, hold_seconds=0.2, seed=2)
    transport = MisbehavingTransport(open_transport(f"sqlite:///{tmp_path / 'bus.db'}"), misbehaviour)
    try:
        arrived = await _drain(transport, "t", 50)
    finally:
        await transport.close()
    assert misbehaviour.held and sorted(arrived) == [f"m{i:03d}" for i in range(50)]
    assert arrived[-len(misbehaviour.held) :] == misbehaviour.held  # published first, arrived last
    assert arrived != sorted(arrived)


def test_an_operation_made_twice_returns_the_second_answer_and_leaves_the_rest_alone() -> None:
    class Service:
        calls: list[str] = []
        engine = "its engine"

        def charge(self, conn: object, order_id: str) -> int:
            self.calls.append(order_id)
            return len(self.calls)

    twice = Twice(Service(), "charge", rate=1.0, seed=0)
    assert twice.engine == "its engine"
    assert twice.charge(None, "o-1") == 2  # type: ignore[attr-defined]
    assert (Service.calls, twice.twice) == (["o-1", "o-1"], ["o-1"])
