"""The transport contract the bus runs on.

A transport moves opaque messages on named *topics* to named *groups*. Every group of a topic gets every
message (fan-out); within a group, each message goes to one consumer at a time (competing consumers).
Delivery is at least once: a message stays the group's until it is acked; a consumer that dies without
acking (crash, SIGKILL) loses it to another consumer once ``ack_wait`` passes; ``nack(delay)`` hands it back
to be delivered again after ``delay``. ``Delivery.attempt`` counts deliveries (1 on the first), so the bus
can decide retries and dead-lettering without keeping state of its own.

Retries, back-off, dead-letter queues, patterns and rules live above this interface, in the bus; a transport
only stores, hands out and forgets messages. Every method raises only :class:`TransportError` (driver errors
are mapped in each implementation), and ``publish`` returns only once the server has made the messages
durable (a publisher confirm, a JetStream ack, an fsynced commit): a broker restart loses no acknowledged
publish.

Ordering: messages with the same ``key`` published by one publisher are delivered in publish order to a group
where the transport can (each implementation's docstring states what it guarantees); redeliveries may
reorder them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field


class TransportError(Exception):
    """The transport failed (server unreachable, a refused operation); the message says which and why."""


@dataclass(frozen=True, slots=True)
class Message:
    id: str  # unique per message; consumers de-duplicate on it (the inbox)
    body: bytes
    key: str | None = None  # ordering key (e.g. the order id)
    headers: dict[str, str] = field(default_factory=dict)  # correlation ids, W3C traceparent, ...


class Delivery(ABC):
    """One delivery of a message to one consumer of a group."""

    message: Message
    attempt: int  # 1 for the first delivery, 2 for the first redelivery, ...

    @abstractmethod
    async def ack(self) -> None:
        """Done with it: the group never sees this message again."""

    @abstractmethod
    async def nack(self, delay: float = 0.0) -> None:
        """Not done: deliver it again (to any consumer of the group) no sooner than ``delay`` seconds."""


class Subscription(ABC):
    """A consumer in a group; several subscriptions to one group share its messages."""

    @abstractmethod
    async def fetch(self, max_messages: int, wait: float) -> list[Delivery]:
        """Up to ``max_messages`` deliveries, waiting up to ``wait`` seconds for the first one."""

    @abstractmethod
    async def close(self) -> None:
        """Stop consuming; unacked deliveries go back to the group after ``ack_wait``."""


class Transport(ABC):
    """Durable topics with consumer groups."""

    @abstractmethod
    async def publish(self, topic: str, messages: Sequence[Message]) -> None:
        """Store the messages durably, in order; returns when the server confirmed them."""

    @abstractmethod
    async def subscribe(self, topic: str, group: str, *, ack_wait: float = 30.0) -> Subscription:
        """Join ``group`` on ``topic`` (created if missing; a new group starts with messages published from
        now on). ``ack_wait``: how long a delivery stays with a consumer that neither acks nor nacks it."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections."""
