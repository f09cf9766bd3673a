"""The bus over Google Pub/Sub's API: ``pubsub://host:port`` (stepdance's own endpoint under ``stepdance
serve``, or any Pub/Sub emulator; no TLS, no credentials).

A transport topic is a Pub/Sub topic and a consumer group a subscription of it, both created on first use
under the project ``stepdance`` (``?project=``) with names made safe for Pub/Sub (``?prefix=`` in front).
A message's id, key and headers travel as attributes (Pub/Sub assigns message ids of its own). A fetch is a
Pull; ``ack`` acknowledges; ``nack(delay)`` moves the ack deadline to ``delay`` (whole seconds: Pub/Sub's
unit), and a subscription's ``ack_wait`` is set on each delivery right after it is pulled, since Pub/Sub's
subscription deadline cannot be under 10 s.

Delivery attempts come from Pub/Sub's ``delivery_attempt``, which Pub/Sub only counts with a dead-letter
policy: each subscription gets one, to a topic of its own (``...-attempts``) after 100 attempts, Pub/Sub's
most. The bus dead-letters long before that (its retry budget), so nothing should ever reach it.

Ordering: Pub/Sub keeps publish order per ordering key only for subscriptions with message ordering; this
transport makes no ordering promise beyond the order a Pull returns.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Awaitable, Sequence
from urllib.parse import parse_qsl, quote

import grpc
from google.api_core import exceptions
from google.pubsub_v1 import types
from google.pubsub_v1.services.publisher import PublisherAsyncClient
from google.pubsub_v1.services.publisher.transports import PublisherGrpcAsyncIOTransport
from google.pubsub_v1.services.subscriber import SubscriberAsyncClient
from google.pubsub_v1.services.subscriber.transports import SubscriberGrpcAsyncIOTransport

from stepdance.bus.transports.base import Delivery, Message, Subscription, Transport, TransportError

ID, KEY, HEADER = "sd-id", "sd-key", "sd-h-"  # attributes that carry the transport's message fields
MAX_ATTEMPTS = 100  # Pub/Sub's largest max_delivery_attempts
MIN_DEADLINE, MAX_DEADLINE = 10, 600


class PubSubTransport(Transport):
    def __init__(self, address: str, *, project: str = "stepdance", prefix: str = "sd") -> None:
        self.address = address
        self.project = project
        self.prefix = prefix
        self._channel: grpc.aio.Channel | None = None
        self._publisher: PublisherAsyncClient | None = None
        self._subscriber: SubscriberAsyncClient | None = None
        self._topics: set[str] = set()

    def _clients(self) -> tuple[PublisherAsyncClient, SubscriberAsyncClient]:
        if self._publisher is None or self._subscriber is None:
            # one channel for both, made on the loop that uses it (grpc.aio channels belong to a loop)
            self._channel = grpc.aio.insecure_channel(self.address)
            # a client given its channel needs no credentials: the emulator's way, as PUBSUB_EMULATOR_HOST does
            self._publisher = PublisherAsyncClient(
                transport=PublisherGrpcAsyncIOTransport(channel=self._channel)
            )
            self._subscriber = SubscriberAsyncClient(
                transport=SubscriberGrpcAsyncIOTransport(channel=self._channel)
            )
        return self._publisher, self._subscriber

    def topic_name(self, topic: str) -> str:
        return f"projects/{self.project}/topics/{_safe(self.prefix, topic)}"

    def subscription_name(self, topic: str, group: str) -> str:
        return f"projects/{self.project}/subscriptions/{_safe(self.prefix, topic + '/' + group)}"

    async def _ensure_topic(self, name: str) -> None:
        if name in self._topics:
            return
        publisher, _ = self._clients()
        await self._create(name, publisher.create_topic(name=name))
        self._topics.add(name)

    async def _create(self, name: str, call: Awaitable[object]) -> None:
        """Create a topic or subscription; one that exists already (another process made it) is fine."""
        try:
            await call
        except exceptions.AlreadyExists:
            pass
        except exceptions.GoogleAPICallError as error:
            raise TransportError(
                f"Pub/Sub at {self.address}: cannot create {name}: {error.message}"
            ) from None

    async def publish(self, topic: str, messages: Sequence[Message]) -> None:
        if not messages:
            return
        name = self.topic_name(topic)
        await self._ensure_topic(name)
        publisher, _ = self._clients()
        sent = [types.PubsubMessage(data=m.body, attributes=_attributes(m)) for m in messages]
        try:
            for start in range(0, len(sent), 1000):  # Pub/Sub takes at most 1000 messages a request
                await publisher.publish(topic=name, messages=sent[start : start + 1000])
        except exceptions.GoogleAPICallError as error:
            raise TransportError(f"Pub/Sub at {self.address}: publish to {name}: {error.message}") from None
        except grpc.aio.AioRpcError as error:
            raise TransportError(f"Pub/Sub at {self.address}: {error.details()}") from None

    async def subscribe(self, topic: str, group: str, *, ack_wait: float = 30.0) -> Subscription:
        topic_name = self.topic_name(topic)
        await self._ensure_topic(topic_name)
        attempts = self.topic_name(f"{topic}/{group}/attempts")
        await self._ensure_topic(attempts)
        name = self.subscription_name(topic, group)
        _, subscriber = self._clients()
        settings = types.Subscription(
            name=name,
            topic=topic_name,
            ack_deadline_seconds=min(MAX_DEADLINE, max(MIN_DEADLINE, math.ceil(ack_wait))),
            dead_letter_policy=types.DeadLetterPolicy(
                dead_letter_topic=attempts, max_delivery_attempts=MAX_ATTEMPTS
            ),
        )
        await self._create(name, subscriber.create_subscription(request=settings))
        return PubSubSubscription(subscriber, name, ack_wait)

    async def close(self) -> None:
        if self._channel is not None:
            channel, self._channel = self._channel, None
            self._publisher = self._subscriber = None
            await channel.close()


class PubSubSubscription(Subscription):
    def __init__(self, client: SubscriberAsyncClient, name: str, ack_wait: float) -> None:
        self.client = client
        self.name = name
        self.ack_wait = min(float(MAX_DEADLINE), max(0.0, ack_wait))

    async def fetch(self, max_messages: int, wait: float) -> list[Delivery]:
        try:
            answer = await self.client.pull(
                request=types.PullRequest(subscription=self.name, max_messages=max_messages),
                timeout=max(wait, 0.05),
            )
        except exceptions.DeadlineExceeded:
            return []
        except exceptions.GoogleAPICallError as error:
            raise TransportError(f"Pub/Sub: pull from {self.name}: {error.message}") from None
        got = list(answer.received_messages)
        if got and self.ack_wait < MIN_DEADLINE:
            # the subscription's deadline cannot be this short: each delivery gets it right away
            await self._deadline([m.ack_id for m in got], self.ack_wait)
        return [PubSubDelivery(self, m) for m in got]

    async def _deadline(self, ack_ids: list[str], seconds: float) -> None:
        try:
            await self.client.modify_ack_deadline(
                subscription=self.name, ack_ids=ack_ids, ack_deadline_seconds=math.ceil(seconds)
            )
        except exceptions.GoogleAPICallError as error:
            raise TransportError(f"Pub/Sub: modify ack deadline on {self.name}: {error.message}") from None

    async def close(self) -> None:
        pass  # nothing held here: what this consumer leased goes back at its deadline


class PubSubDelivery(Delivery):
    def __init__(self, subscription: PubSubSubscription, received: types.ReceivedMessage) -> None:
        self._subscription = subscription
        self._ack_id = received.ack_id
        self.message = _message(received.message)
        self.attempt = max(1, received.delivery_attempt)

    async def ack(self) -> None:
        try:
            await self._subscription.client.acknowledge(
                subscription=self._subscription.name, ack_ids=[self._ack_id]
            )
        except exceptions.GoogleAPICallError as error:
            raise TransportError(
                f"Pub/Sub: acknowledge on {self._subscription.name}: {error.message}"
            ) from None

    async def nack(self, delay: float = 0.0) -> None:
        await self._subscription._deadline([self._ack_id], min(float(MAX_DEADLINE), max(0.0, delay)))


def _attributes(message: Message) -> dict[str, str]:
    attributes = {ID: message.id, **{HEADER + k: v for k, v in message.headers.items()}}
    if message.key is not None:
        attributes[KEY] = message.key
    return attributes


def _message(message: types.PubsubMessage) -> Message:
    attributes = dict(message.attributes)
    headers = {k.removeprefix(HEADER): v for k, v in attributes.items() if k.startswith(HEADER)}
    return Message(attributes.get(ID, message.message_id), bytes(message.data), attributes.get(KEY), headers)


def _safe(prefix: str, name: str) -> str:
    """A Pub/Sub id for a transport name: a letter first, then only what Pub/Sub allows (``%`` escapes)."""
    text = f"{prefix}-{quote(name, safe='-_.~')}"
    return text if len(text) <= 255 else text[:200] + "-" + _digest(text)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def open_pubsub(base: str, options: dict[str, str]) -> Transport:
    """``pubsub://host:port[?project=p]`` (``prefix`` from the factory's options)."""
    rest = base.split("://", 1)[1]
    address, _, query = rest.partition("?")
    extra = dict(parse_qsl(query))
    return PubSubTransport(
        address.rstrip("/"), project=extra.get("project", "stepdance"), prefix=options.get("prefix", "sd")
    )
