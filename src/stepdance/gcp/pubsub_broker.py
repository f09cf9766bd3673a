"""Pub/Sub's delivery semantics over the bus's transports: topics, subscriptions, leases with ack deadlines,
retry back-off, dead-letter forwarding with delivery attempts.

A Pub/Sub topic is a transport topic and each of its subscriptions a consumer group of it, so a subscription
gets every message published after it was created, and its subscribers compete for them (the transport's
contract, :mod:`stepdance.bus.transports.base`). What Pub/Sub adds is kept here, in the process that serves
the subscription:

- a pulled message is *leased* until its ack deadline; ``modify_ack_deadline`` moves the deadline (0 gives
  the message back at once), and :meth:`Broker.expire` gives back every lease whose deadline passed;
- a message given back is delivered again after the subscription's retry back-off (exponential from the
  minimum to the maximum over the delivery attempts), or at once without a retry policy;
- with a dead-letter policy, a message given back after its ``max_delivery_attempts``-th delivery (or
  delivered again past it, after a crash) is published to the dead-letter topic (with ``CloudPubSubDeadLetterSourceDeliveryCount`` and the source subscription as
  attributes, as Pub/Sub adds them) and acknowledged on its own subscription.

Leases live in this process: if it dies, the transport gives the messages it held back after its own ack
wait (:data:`CRASH_ACK_WAIT`, Pub/Sub's longest deadline), as Pub/Sub does after a lease lapses.

The message travels as the transport's message: ``data`` as the body, the ordering key as the key, the
attributes and the publish time in headers.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from stepdance.bus.transports import Delivery, Message, Subscription, Transport

CRASH_ACK_WAIT = 600.0  # the longest ack deadline Pub/Sub allows: what a lease can never outlive
ATTRIBUTES, PUBLISHED = "pubsub-attributes", "pubsub-publish-time"
DEAD_LETTER_COUNT = "CloudPubSubDeadLetterSourceDeliveryCount"
DEAD_LETTER_SOURCE = "CloudPubSubDeadLetterSourceSubscription"


def topic_key(topic: str) -> str:
    """The transport topic of a Pub/Sub topic (``projects/p/topics/t``)."""
    return f"pubsub/{topic}"


def group_key(subscription: str) -> str:
    """The consumer group of a Pub/Sub subscription (``projects/p/subscriptions/s``)."""
    return f"pubsub/{subscription}"


@dataclass(frozen=True, slots=True)
class Policy:
    """What the broker needs of a subscription's settings."""

    ack_deadline: float = 10.0
    min_backoff: float | None = None  # None: no retry policy, a message given back comes again at once
    max_backoff: float = 600.0
    dead_letter_topic: str | None = None  # a topic's resource name
    max_delivery_attempts: int = 5
    accepts: Callable[[Mapping[str, str]], bool] | None = None  # the subscription's filter on attributes

    def backoff(self, attempt: int) -> float:
        """Seconds before delivering again a message given back after its ``attempt``-th delivery."""
        if self.min_backoff is None:
            return 0.0
        return float(min(self.max_backoff, self.min_backoff * 2.0 ** max(0, attempt - 1)))


@dataclass(frozen=True, slots=True)
class Published:
    """A message as a publisher sends it."""

    data: bytes = b""
    attributes: Mapping[str, str] = field(default_factory=dict)
    ordering_key: str = ""


@dataclass(frozen=True, slots=True)
class Received:
    """A leased message as a subscriber gets it."""

    ack_id: str
    message_id: str
    data: bytes
    attributes: dict[str, str]
    ordering_key: str
    publish_time: float
    delivery_attempt: int  # 0 unless the subscription has a dead-letter policy, as in Pub/Sub


@dataclass
class _Lease:
    subscription: str
    delivery: Delivery
    deadline: float


class Broker:
    """Publishes to and leases from Pub/Sub subscriptions over one transport."""

    def __init__(self, transport: Transport, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.transport = transport
        self.clock = clock
        self._consumers: dict[str, Subscription] = {}
        self._leases: dict[str, _Lease] = {}
        self._policies: dict[str, Policy] = {}
        self._ids = itertools.count(int(time.time() * 1000) * 1000)  # decimal ids that only grow
        self._lock = asyncio.Lock()

    # ------------------------------------------------------------------ publishing

    async def publish(self, topic: str, messages: Sequence[Published]) -> list[str]:
        """Store ``messages`` on ``topic`` durably, in order; their message ids."""
        now = time.time()
        sent = [self._message(m, now) for m in messages]
        await self.transport.publish(topic_key(topic), sent)
        return [m.id for m in sent]

    def _message(self, published: Published, now: float) -> Message:
        headers = {PUBLISHED: repr(now)}
        if published.attributes:
            headers[ATTRIBUTES] = json.dumps(dict(published.attributes), separators=(",", ":"))
        return Message(str(next(self._ids)), published.data, published.ordering_key or None, headers)

    # ------------------------------------------------------------------ subscriptions

    async def attach(self, subscription: str, topic: str, policy: Policy) -> None:
        """Start the subscription's consumer group on ``topic``: messages published from now on are its."""
        self._policies[subscription] = policy
        if subscription not in self._consumers:
            async with self._lock:
                if subscription not in self._consumers:
                    self._consumers[subscription] = await self.transport.subscribe(
                        topic_key(topic), group_key(subscription), ack_wait=CRASH_ACK_WAIT
                    )

    def configure(self, subscription: str, policy: Policy) -> None:
        """New settings for an attached subscription (UpdateSubscription); leases keep their deadlines."""
        self._policies[subscription] = policy

    async def detach(self, subscription: str) -> None:
        """Stop consuming (the subscription was deleted, or the server stops); its leases lapse."""
        consumer = self._consumers.pop(subscription, None)
        self._policies.pop(subscription, None)
        for ack_id in [a for a, lease in self._leases.items() if lease.subscription == subscription]:
            del self._leases[ack_id]
        if consumer is not None:
            await consumer.close()

    async def pull(
        self, subscription: str, max_messages: int, wait: float, *, ack_deadline: float | None = None
    ) -> list[Received]:
        """Up to ``max_messages`` messages leased until the ack deadline (the subscription's, or a stream's
        ``ack_deadline``), waiting up to ``wait`` seconds for the first; messages past their delivery
        attempts go to the dead-letter topic instead."""
        consumer = self._consumers[subscription]
        policy = self._policies[subscription]
        deadline = self.clock() + max(wait, 0.0)
        while True:
            deliveries = await consumer.fetch(max_messages, max(0.0, deadline - self.clock()))
            leased: list[Received] = []
            for delivery in deliveries:
                if policy.accepts is not None and not policy.accepts(_attributes(delivery.message)):
                    await delivery.ack()  # as Pub/Sub does: a message the filter excludes is acknowledged
                    continue
                if policy.dead_letter_topic and delivery.attempt > policy.max_delivery_attempts:
                    await self._dead_letter(subscription, policy, delivery, delivery.attempt - 1)
                    continue
                leased.append(self._lease(subscription, policy, delivery, ack_deadline))
            if leased or self.clock() >= deadline:
                return leased

    def _lease(
        self, subscription: str, policy: Policy, delivery: Delivery, ack_deadline: float | None
    ) -> Received:
        ack_id = f"{uuid.uuid4().hex}"
        seconds = policy.ack_deadline if ack_deadline is None else ack_deadline
        self._leases[ack_id] = _Lease(subscription, delivery, self.clock() + seconds)
        message = delivery.message
        return Received(
            ack_id=ack_id,
            message_id=message.id,
            data=message.body,
            attributes=_attributes(message),
            ordering_key=message.key or "",
            publish_time=float(message.headers.get(PUBLISHED) or 0.0),
            delivery_attempt=delivery.attempt if policy.dead_letter_topic else 0,
        )

    async def _dead_letter(
        self, subscription: str, policy: Policy, delivery: Delivery, attempts: int
    ) -> None:
        assert policy.dead_letter_topic is not None
        message = delivery.message
        attributes = _attributes(message)
        attributes[DEAD_LETTER_COUNT] = str(attempts)
        attributes[DEAD_LETTER_SOURCE] = subscription
        forwarded = Published(message.body, attributes, message.key or "")
        await self.publish(policy.dead_letter_topic, [forwarded])
        await delivery.ack()  # only once the dead-letter topic holds it: nothing is lost in between

    # ------------------------------------------------------------------ leases

    def leased(self, subscription: str, ack_id: str) -> bool:
        lease = self._leases.get(ack_id)
        return lease is not None and lease.subscription == subscription

    async def acknowledge(self, subscription: str, ack_ids: Sequence[str]) -> None:
        """Done with these messages. Unknown or lapsed ack ids are ignored, as Pub/Sub ignores them."""
        for ack_id in ack_ids:
            lease = self._leases.get(ack_id)
            if lease is not None and lease.subscription == subscription:
                del self._leases[ack_id]
                await lease.delivery.ack()

    async def modify_ack_deadline(self, subscription: str, ack_ids: Sequence[str], seconds: float) -> None:
        """Move the leases' deadlines to ``seconds`` from now; 0 gives the messages back (a nack)."""
        now = self.clock()
        for ack_id in ack_ids:
            lease = self._leases.get(ack_id)
            if lease is None or lease.subscription != subscription:
                continue
            if seconds <= 0:
                await self._give_back(ack_id, lease)
            else:
                lease.deadline = now + seconds

    async def expire(self) -> int:
        """Give back every lease whose deadline passed; how many."""
        now = self.clock()
        lapsed = [(a, lease) for a, lease in self._leases.items() if lease.deadline <= now]
        for ack_id, lease in lapsed:
            await self._give_back(ack_id, lease)
        return len(lapsed)

    async def _give_back(self, ack_id: str, lease: _Lease) -> None:
        self._leases.pop(ack_id, None)
        policy = self._policies.get(lease.subscription, Policy())
        attempt = lease.delivery.attempt
        if policy.dead_letter_topic and attempt >= policy.max_delivery_attempts:
            # its last attempt failed: forwarded now, not at a next pull that may never come
            await self._dead_letter(lease.subscription, policy, lease.delivery, attempt)
            return
        await lease.delivery.nack(policy.backoff(attempt))

    async def close(self) -> None:
        for subscription in list(self._consumers):
            await self.detach(subscription)


def _attributes(message: Message) -> dict[str, str]:
    found: dict[str, str] = json.loads(message.headers.get(ATTRIBUTES) or "{}")
    return found
