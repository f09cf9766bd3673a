"""A transport that misbehaves on purpose, wrapped around the real one (the broker still stores and
delivers every message): it publishes a share of the messages twice (a duplicate delivery, same message id,
as a publisher retrying after a lost confirm does) and holds a share back for a while, so that later
messages overtake them (out-of-order delivery). Which messages is a pure function of the seed and the
message id, so a run is reproducible.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from stepdance.bus.transports.base import Message, Subscription, Transport
from stepdance.order.faults import fraction


@dataclass
class Misbehaviour:
    duplicate_rate: float = 0.0  # share of the messages published twice
    hold_rate: float = 0.0  # share of the messages held back
    hold_seconds: float = 0.0  # for this long, while later ones go ahead
    seed: int = 0
    duplicated: list[str] = field(default_factory=list)  # message ids, as it happened
    held: list[str] = field(default_factory=list)

    def picks(self, what: str, message_id: str, rate: float) -> bool:
        return rate > 0.0 and fraction(f"{self.seed}:{what}:{message_id}") < rate


class MisbehavingTransport(Transport):
    """``inner`` with the :class:`Misbehaviour` applied to what is published."""

    def __init__(self, inner: Transport, misbehaviour: Misbehaviour) -> None:
        self.inner = inner
        self.misbehaviour = misbehaviour
        self._late: set[asyncio.Task[None]] = set()

    async def publish(self, topic: str, messages: Sequence[Message]) -> None:
        m = self.misbehaviour
        now: list[Message] = []
        for message in messages:
            if m.picks("hold", message.id, m.hold_rate):
                m.held.append(message.id)
                task = asyncio.get_running_loop().create_task(self._later(topic, message))
                self._late.add(task)
                task.add_done_callback(self._late.discard)
                continue
            now.append(message)
            if m.picks("duplicate", message.id, m.duplicate_rate):
                m.duplicated.append(message.id)
                now.append(message)
        if now:
            await self.inner.publish(topic, now)

    async def _later(self, topic: str, message: Message) -> None:
        # The caller was told the message is published: a held one must still reach the broker, so it is
        # published after the hold even if the publisher has moved on.
        await asyncio.sleep(self.misbehaviour.hold_seconds)
        await self.inner.publish(topic, [message])

    async def subscribe(self, topic: str, group: str, *, ack_wait: float = 30.0) -> Subscription:
        return await self.inner.subscribe(topic, group, ack_wait=ack_wait)

    async def close(self) -> None:
        if self._late:
            await asyncio.gather(*self._late, return_exceptions=True)
        await self.inner.close()


class Twice:
    """A service whose ``operation`` runs twice for a share of the orders, as when a task or an event is
    delivered again after its first effect (the second call must change nothing). Both calls run in the
    caller's transaction; the second one's answer is returned."""

    def __init__(self, inner: object, operation: str, rate: float, seed: int) -> None:
        self.inner = inner
        self.operation = operation
        self.seed = seed
        self.rate = rate
        self.twice: list[str] = []  # order ids, as it happened

    def __getattr__(self, name: str) -> object:
        found = getattr(self.inner, name)
        if name != self.operation or not callable(found):
            return found

        def twice(*args: object, **kwargs: object) -> object:
            first = found(*args, **kwargs)
            order_id = _order_id(args)
            if order_id is None or fraction(f"{self.seed}:twice:{order_id}") >= self.rate:
                return first
            self.twice.append(order_id)
            return found(*args, **kwargs)

        return twice


def _order_id(args: Sequence[object]) -> str | None:
    """The order an operation's call is about: an Order's id, or an order id given as text."""
    for arg in args[1:]:
        found = getattr(arg, "order_id", arg)
        if isinstance(found, str):
            return found
    return None
