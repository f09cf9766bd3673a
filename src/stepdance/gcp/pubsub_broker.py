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
- with ``enable_message_ordering``, a key's next message goes out only once the one before it is
  acknowledged; one given back is kept here, ahead of the key's later messages, until its back-off passes
  (the transport's redelivery would not keep the order);
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
import collections
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
    ordered: bool = False  # enable_message_ordering: one message of an ordering key out at a time, in order

    def backoff(self, attempt: int) -> float:
        """Seconds before delivering again a message given back after its ``attempt``-th delivery."""
        if self.min_backoff is None:
            return 0.0
        # 2**40 times even a 1 µs minimum is past 600 s: the capped exponent never overflows a float
        return float(min(self.max_backoff, self.min_backoff * 2.0 ** min(max(0, attempt - 1), 40)))


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
    again: int = 0  # deliveries this broker made of it beyond the transport's count (an ordered key's)

    @property
    def attempt(self) -> int:
        return self.delivery.attempt + self.again


@dataclass
class _Waiting:
    """A message of an ordering key waiting for the one before it, or to be delivered again."""

    delivery: Delivery
    again: int = 0
    not_before: float = 0.0


@dataclass
class _Keys:
    """An ordered subscription's keys: the message of each that is out, and those waiting behind it."""

    out: dict[str, str] = field(default_factory=dict)  # ordering key -> ack id of its leased message
    waiting: dict[str, collections.deque[_Waiting]] = field(default_factory=dict)

    def ready(self, now: float) -> list[tuple[str, _Waiting]]:
        return [
            (key, queue[0])
            for key, queue in self.waiting.items()
            if key not in self.out and queue and queue[0].not_before <= now
        ]

    def next_due(self) -> float | None:
        due = [q[0].not_before for key, q in self.waiting.items() if key not in self.out and q]
        return min(due) if due else None

    def hold(self, key: str, delivery: Delivery) -> bool:
        """Keep ``delivery`` behind its key's earlier messages; False when it may go out now. A message the
        transport gave again while held (its ack wait ran out) takes its earlier copy's place."""
        queue = self.waiting.get(key)
        if queue:
            for held in queue:
                if held.delivery.message.id == delivery.message.id:
                    held.delivery, held.again = delivery, max(0, held.again - 1)
                    return True
        if key in self.out or queue:
            self.waiting.setdefault(key, collections.deque()).append(_Waiting(delivery))
            return True
        return False


class Broker:
    """Publishes to and leases from Pub/Sub subscriptions over one transport."""

    def __init__(self, transport: Transport, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.transport = transport
        self.clock = clock
        self._consumers: dict[str, Subscription] = {}
        self._leases: dict[str, _Lease] = {}
        self._policies: dict[str, Policy] = {}
        self._keys: dict[str, _Keys] = {}  # ordered subscriptions only
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
        self._keys.pop(subscription, None)  # the transport gives what was held back after its ack wait
        for ack_id in [a for a, lease in self._leases.items() if lease.subscription == subscription]:
            del self._leases[ack_id]
        if consumer is not None:
            await consumer.close()

    async def pull(
        self, subscription: str, max_messages: int, wait: float, *, ack_deadline: float | None = None
    ) -> list[Received]:
        """Up to ``max_messages`` messages leased until the ack deadline (the subscription's, or a stream's
        ``ack_deadline``), waiting up to ``wait`` seconds for the first; messages past their delivery
        attempts go to the dead-letter topic instead. On an ordered subscription a key's next message goes
        out only once the one before it is acknowledged."""
        consumer = self._consumers[subscription]
        policy = self._policies[subscription]
        keys = self._keys.setdefault(subscription, _Keys()) if policy.ordered else None
        deadline = self.clock() + max(wait, 0.0)
        while True:
            leased: list[Received] = []
            if keys is not None:
                for key, held in keys.ready(self.clock())[:max_messages]:
                    keys.waiting[key].popleft()
                    if not keys.waiting[key]:
                        del keys.waiting[key]
                    await self._offer(subscription, policy, held.delivery, held.again, ack_deadline, leased)
            room = max_messages - len(leased)
            if room > 0:
                until = deadline if not leased else self.clock()
                due = keys.next_due() if keys is not None else None
                if due is not None:
                    until = min(until, due)
                for delivery in await consumer.fetch(room, max(0.0, until - self.clock())):
                    if policy.accepts is not None and not policy.accepts(_attributes(delivery.message)):
                        await delivery.ack()  # as Pub/Sub does: a message the filter excludes is acknowledged
                        continue
                    ordering = delivery.message.key
                    if keys is not None and ordering and keys.hold(ordering, delivery):
                        continue
                    await self._offer(subscription, policy, delivery, 0, ack_deadline, leased)
            if leased or self.clock() >= deadline:
                return leased

    async def _offer(
        self,
        subscription: str,
        policy: Policy,
        delivery: Delivery,
        again: int,
        ack_deadline: float | None,
        leased: list[Received],
    ) -> None:
        attempt = delivery.attempt + again
        if policy.dead_letter_topic and attempt > policy.max_delivery_attempts:
            await self._dead_letter(subscription, policy, delivery, attempt - 1)
            return
        leased.append(self._lease(subscription, policy, delivery, ack_deadline, again))

    def _lease(
        self,
        subscription: str,
        policy: Policy,
        delivery: Delivery,
        ack_deadline: float | None,
        again: int = 0,
    ) -> Received:
        ack_id = f"{uuid.uuid4().hex}"
        seconds = policy.ack_deadline if ack_deadline is None else ack_deadline
        self._leases[ack_id] = _Lease(subscription, delivery, self.clock() + seconds, again)
        message = delivery.message
        keys = self._keys.get(subscription)
        if keys is not None and message.key:
            keys.out[message.key] = ack_id
        return Received(
            ack_id=ack_id,
            message_id=message.id,
            data=message.body,
            attributes=_attributes(message),
            ordering_key=message.key or "",
            publish_time=float(message.headers.get(PUBLISHED) or 0.0),
            delivery_attempt=delivery.attempt + again if policy.dead_letter_topic else 0,
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
                self._release(ack_id, lease)
                await lease.delivery.ack()

    def _release(self, ack_id: str, lease: _Lease) -> None:
        """The lease's ordering key may send its next message."""
        keys, key = self._keys.get(lease.subscription), lease.delivery.message.key
        if keys is not None and key and keys.out.get(key) == ack_id:
            del keys.out[key]

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
        self._release(ack_id, lease)
        policy = self._policies.get(lease.subscription, Policy())
        attempt = lease.attempt
        if policy.dead_letter_topic and attempt >= policy.max_delivery_attempts:
            # its last attempt failed: forwarded now, not at a next pull that may never come
            await self._dead_letter(lease.subscription, policy, lease.delivery, attempt)
            return
        keys, key = self._keys.get(lease.subscription), lease.delivery.message.key
        if keys is not None and key:
            # kept here, ahead of the key's later messages: the transport's redelivery would not keep the order
            again = _Waiting(lease.delivery, lease.again + 1, self.clock() + policy.backoff(attempt))
            keys.waiting.setdefault(key, collections.deque()).appendleft(again)
            return
        await lease.delivery.nack(policy.backoff(attempt))

    async def close(self) -> None:
        for subscription in list(self._consumers):
            await self.detach(subscription)


def _attributes(message: Message) -> dict[str, str]:
    found: dict[str, str] = json.loads(message.headers.get(ATTRIBUTES) or "{}")
    return found
