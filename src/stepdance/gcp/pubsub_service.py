"""Google Pub/Sub's Publisher and Subscriber services over the bus: what each RPC does, on proto-plus messages
of ``google-cloud-pubsub`` (the ``gcp`` extra), without gRPC itself (:mod:`.pubsub_grpc` serves it).

Topics and subscriptions are kept in the bus catalog's database (:mod:`.pubsub_catalog`); messages travel
on the bus's transport with Pub/Sub's delivery rules (:mod:`.pubsub_broker`). Names, settings and messages
are checked as Pub/Sub checks them (:mod:`.pubsub_names`, :mod:`.pubsub_config`, :mod:`.pubsub_model`)
before anything is written or published, so a rejected call changes nothing.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from google.pubsub_v1 import types
from opentelemetry.trace import SpanKind

from stepdance import telemetry
from stepdance.gcp import pubsub_config as config
from stepdance.gcp import pubsub_model as model
from stepdance.gcp.pubsub_broker import Broker, Policy, Published, Received
from stepdance.gcp.pubsub_catalog import PubSubCatalog, SubscriptionRecord, TopicRecord
from stepdance.gcp.pubsub_names import (
    DELETED_TOPIC,
    PubSubError,
    already_exists,
    not_found,
    parse_project,
    parse_subscription,
    parse_topic,
)
from stepdance.gcp.pubsub_push import Pusher

T = TypeVar("T", TopicRecord, SubscriptionRecord)
TRACEPARENT = "googclient_traceparent"  # the attribute Google's clients carry a W3C traceparent in
R = TypeVar("R")
PULL_WAIT = 5.0  # seconds a Pull waits for a first message unless it may return at once
STREAM_POLL = 1.0  # seconds a streaming pull waits for messages before looking at the stream again
PAGE = 100
# how long a Publish, Pull or Acknowledge trusts a topic or subscription it has looked up: each used to be a
# database read (8% of the CPU of the choreographed saga over Pub/Sub); a change made through this process
# is seen at once, one made by another process serving the same catalog within this time
RECENT_SECONDS = 1.0


class PubSubService:
    def __init__(self, catalog: PubSubCatalog, broker: Broker) -> None:
        self.catalog = catalog
        self.broker = broker
        self._expiring: asyncio.Task[None] | None = None
        self._pushers: dict[str, Pusher] = {}
        self._recent: dict[tuple[str, str], tuple[float, Any]] = {}

    async def _db(self, fn: Callable[..., R], *args: Any) -> R:
        return await asyncio.to_thread(fn, *args)

    async def _changed(self, fn: Callable[..., R], *args: Any) -> R:
        """A write to the catalog: what the message paths remembered may no longer hold."""
        try:
            return await self._db(fn, *args)
        finally:  # after the write: a lookup made while it ran may hold what it replaced
            self._recent.clear()

    async def _looked_up(
        self, kind: str, name: str, load: Callable[[str], R | None], recent: bool
    ) -> R | None:
        now = time.monotonic()
        if recent:
            hit = self._recent.get((kind, name))
            if hit is not None and now - hit[0] < RECENT_SECONDS:
                found: R = hit[1]
                return found
        record = await self._db(load, name)
        if record is not None:
            self._recent[(kind, name)] = (now, record)
        return record

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Take up every stored subscription where its consumer group stands, and start giving back lapsed
        leases."""
        for record in await self._db(self.catalog.all_subscriptions):
            if record.topic != DELETED_TOPIC:
                settings = _config(record)
                await self.broker.attach(record.name, record.topic, policy_of(settings))
                await self._push(settings)
        self._expiring = asyncio.get_running_loop().create_task(self._expire_leases())

    async def stop(self) -> None:
        for pusher in list(self._pushers.values()):
            await pusher.stop()
        self._pushers.clear()
        if self._expiring is not None:
            self._expiring.cancel()
            await asyncio.gather(self._expiring, return_exceptions=True)
        await self.broker.close()

    async def _expire_leases(self) -> None:
        while True:
            await self.broker.expire()
            # a lease is at least 10 s long when made: looking every 0.5 s gives it back at most that late
            await asyncio.sleep(0.5)

    async def _push(self, settings: config.SubscriptionConfig) -> None:
        """Deliver a push subscription's messages to its endpoint (again, with new settings); stop pushing
        for one that is no longer a push subscription."""
        running = self._pushers.pop(settings.name, None)
        if running is not None:
            await running.stop()
        if settings.push_config.push_endpoint and settings.topic != DELETED_TOPIC:
            pusher = Pusher(
                self.broker, settings.name, settings.push_config, float(settings.ack_deadline_seconds)
            )
            self._pushers[settings.name] = pusher
            pusher.start()

    # ------------------------------------------------------------------ Publisher

    async def create_topic(self, request: types.Topic) -> types.Topic:
        name = parse_topic(request.name)
        labels = json.dumps(dict(request.labels), sort_keys=True)
        if not await self._changed(self.catalog.create_topic, TopicRecord(request.name, labels, time.time())):
            raise already_exists(name)
        return types.Topic(name=request.name, labels=dict(request.labels))

    async def get_topic(self, request: types.GetTopicRequest) -> types.Topic:
        return _topic_message(await self._topic(request.topic))

    async def list_topics(self, request: types.ListTopicsRequest) -> types.ListTopicsResponse:
        project = parse_project(request.project)
        size = _page_size(request.page_size)
        records = await self._db(self.catalog.list_topics, project, request.page_token or None, size + 1)
        page, token = _paged(records, size)
        return types.ListTopicsResponse(topics=[_topic_message(r) for r in page], next_page_token=token)

    async def delete_topic(self, request: types.DeleteTopicRequest) -> None:
        name = parse_topic(request.topic)
        if not await self._changed(self.catalog.delete_topic, request.topic):
            raise not_found(name)
        for record in await self._db(self.catalog.topic_subscriptions, DELETED_TOPIC):
            await self.broker.detach(record.name)

    async def list_topic_subscriptions(
        self, request: types.ListTopicSubscriptionsRequest
    ) -> types.ListTopicSubscriptionsResponse:
        await self._topic(request.topic)
        names = [r.name for r in await self._db(self.catalog.topic_subscriptions, request.topic)]
        return types.ListTopicSubscriptionsResponse(subscriptions=names)

    async def publish(self, request: types.PublishRequest) -> types.PublishResponse:
        await self._topic(request.topic, recent=True)
        model.check_publish(request.topic, list(request.messages))
        messages = [Published(bytes(m.data), dict(m.attributes), m.ordering_key) for m in request.messages]
        # the client's trace (its OpenTelemetry publisher sets googclient_traceparent) goes on through here
        parent = next((m.attributes[TRACEPARENT] for m in messages if TRACEPARENT in m.attributes), None)
        attributes = {
            "stepdance.component": "pubsub",
            "messaging.system": "gcp_pubsub",
            "messaging.destination.name": request.topic,
            "messaging.batch.message_count": len(messages),
        }
        with telemetry.span(
            f"{request.topic} publish", parent=parent, kind=SpanKind.SERVER, attributes=attributes
        ):
            ids = await self.broker.publish(request.topic, messages)
        return types.PublishResponse(message_ids=ids)

    async def _topic(self, name: str, *, recent: bool = False) -> TopicRecord:
        parsed = parse_topic(name)
        record = await self._looked_up("topic", name, self.catalog.get_topic, recent)
        if record is None:
            raise not_found(parsed)
        return record

    # ------------------------------------------------------------------ Subscriber: administration

    async def create_subscription(self, request: types.Subscription) -> types.Subscription:
        name = parse_subscription(request.name)
        settings = config.from_proto(request)
        await self._topic(request.topic)
        if settings.dead_letter_policy is not None:
            await self._topic(settings.dead_letter_policy.dead_letter_topic)
        record = SubscriptionRecord(request.name, request.topic, _to_json(settings), time.time())
        if not await self._changed(self.catalog.create_subscription, record):
            raise already_exists(name)
        await self.broker.attach(request.name, request.topic, policy_of(settings))
        await self._push(settings)
        return config.to_proto(settings)

    async def get_subscription(self, request: types.GetSubscriptionRequest) -> types.Subscription:
        return config.to_proto(_config(await self._subscription(request.subscription)))

    async def update_subscription(self, request: types.UpdateSubscriptionRequest) -> types.Subscription:
        record = await self._subscription(request.subscription.name)
        updated = config.update(_config(record), request.subscription, list(request.update_mask.paths))
        if updated.dead_letter_policy is not None:
            await self._topic(updated.dead_letter_policy.dead_letter_topic)
        await self._changed(self.catalog.update_subscription, record.name, _to_json(updated))
        self.broker.configure(record.name, policy_of(updated))
        await self._push(updated)
        return config.to_proto(updated)

    async def list_subscriptions(
        self, request: types.ListSubscriptionsRequest
    ) -> types.ListSubscriptionsResponse:
        project = parse_project(request.project)
        size = _page_size(request.page_size)
        records = await self._db(
            self.catalog.list_subscriptions, project, request.page_token or None, size + 1
        )
        page, token = _paged(records, size)
        return types.ListSubscriptionsResponse(
            subscriptions=[config.to_proto(_config(r)) for r in page], next_page_token=token
        )

    async def delete_subscription(self, request: types.DeleteSubscriptionRequest) -> None:
        await self._subscription(request.subscription)
        pusher = self._pushers.pop(request.subscription, None)
        if pusher is not None:
            await pusher.stop()
        await self.broker.detach(request.subscription)
        await self._changed(self.catalog.delete_subscription, request.subscription)

    async def _subscription(self, name: str, *, recent: bool = False) -> SubscriptionRecord:
        parsed = parse_subscription(name)
        record = await self._looked_up("subscription", name, self.catalog.get_subscription, recent)
        if record is None:
            raise not_found(parsed)
        return record

    # ------------------------------------------------------------------ Subscriber: messages

    async def pull(self, request: types.PullRequest) -> types.PullResponse:
        record = await self._subscription(request.subscription, recent=True)
        if request.max_messages <= 0:
            raise PubSubError("INVALID_ARGUMENT", "max_messages must be greater than 0")
        if record.topic == DELETED_TOPIC:
            return types.PullResponse()
        wait = 0.0 if request.return_immediately else PULL_WAIT
        got = await self.broker.pull(record.name, min(request.max_messages, 1000), wait)
        delivered(record.name, got)
        return types.PullResponse(received_messages=[received(record.name, m) for m in got])

    async def acknowledge(self, request: types.AcknowledgeRequest) -> None:
        await self._subscription(request.subscription, recent=True)
        model.check_ack_ids(request.ack_ids)
        await self.broker.acknowledge(request.subscription, _tokens(request.subscription, request.ack_ids))

    async def modify_ack_deadline(self, request: types.ModifyAckDeadlineRequest) -> None:
        await self._subscription(request.subscription, recent=True)
        model.check_ack_ids(request.ack_ids)
        seconds = model.modify_ack_deadline(request.ack_deadline_seconds)
        tokens = _tokens(request.subscription, request.ack_ids)
        await self.broker.modify_ack_deadline(request.subscription, tokens, seconds)

    async def streaming_pull(
        self, first: types.StreamingPullRequest, more: AsyncIterator[types.StreamingPullRequest]
    ) -> AsyncIterator[types.StreamingPullResponse]:
        """The responses of one StreamingPull stream; ``more``: the client's later requests (acks, deadline
        changes), read beside it. The stream keeps at most ``max_outstanding_messages`` unacknowledged."""
        record = await self._subscription(first.subscription)
        deadline = float(model.stream_ack_deadline(first.stream_ack_deadline_seconds or 10))
        limit = first.max_outstanding_messages or 1000
        outstanding: set[str] = set()
        await self._apply(record.name, first, outstanding)
        reader = asyncio.ensure_future(self._read(record.name, more, outstanding))
        try:
            while not reader.done():
                room = limit - len(outstanding)
                if room <= 0 or record.topic == DELETED_TOPIC:
                    await asyncio.wait([reader], timeout=STREAM_POLL)
                    continue
                got = await self.broker.pull(record.name, min(room, 1000), STREAM_POLL, ack_deadline=deadline)
                if got:
                    delivered(record.name, got)
                    outstanding.update(m.ack_id for m in got)
                    yield types.StreamingPullResponse(
                        received_messages=[received(record.name, m) for m in got]
                    )
            reader.result()  # a failed request from the client ends the stream with its error
        finally:
            reader.cancel()

    async def _read(
        self, subscription: str, more: AsyncIterator[types.StreamingPullRequest], outstanding: set[str]
    ) -> None:
        async for request in more:
            await self._apply(subscription, request, outstanding)

    async def _apply(
        self, subscription: str, request: types.StreamingPullRequest, outstanding: set[str]
    ) -> None:
        if request.ack_ids:
            tokens = _tokens(subscription, request.ack_ids)
            await self.broker.acknowledge(subscription, tokens)
            outstanding.difference_update(tokens)
        if request.modify_deadline_ack_ids:
            if len(request.modify_deadline_ack_ids) != len(request.modify_deadline_seconds):
                raise PubSubError(
                    "INVALID_ARGUMENT",
                    "modify_deadline_seconds and modify_deadline_ack_ids must be the same length",
                )
            tokens = _tokens(subscription, request.modify_deadline_ack_ids)
            for token, seconds in zip(tokens, request.modify_deadline_seconds, strict=True):
                await self.broker.modify_ack_deadline(
                    subscription, [token], model.modify_ack_deadline(seconds)
                )
                if seconds == 0:
                    outstanding.discard(token)


def policy_of(settings: config.SubscriptionConfig) -> Policy:
    """What the broker acts on of a subscription's settings."""
    retry, dead = settings.retry_policy, settings.dead_letter_policy
    return Policy(
        ack_deadline=float(settings.ack_deadline_seconds),
        min_backoff=None if retry is None else retry.minimum_backoff.total_seconds(),
        max_backoff=600.0 if retry is None else retry.maximum_backoff.total_seconds(),
        dead_letter_topic=None if dead is None else dead.dead_letter_topic,
        max_delivery_attempts=5 if dead is None else dead.max_delivery_attempts,
        accepts=model.parse_filter(settings.filter).matches if settings.filter else None,
        ordered=settings.enable_message_ordering,
    )


def delivered(subscription: str, messages: Sequence[Received]) -> None:
    """A span per delivery of a traced message (one with ``googclient_traceparent``), under the publisher's
    span: the trace crosses Pub/Sub to the subscriber."""
    if not telemetry.enabled():
        return
    now = time.time()
    for message in messages:
        parent = message.attributes.get(TRACEPARENT)
        if parent:
            telemetry.record_span(
                f"{subscription} deliver",
                parent=parent,
                span_id=telemetry.new_span_id(),
                start=message.publish_time,
                end=now,
                kind=SpanKind.CONSUMER,
                attributes={
                    "stepdance.component": "pubsub",
                    "messaging.system": "gcp_pubsub",
                    "messaging.destination.subscription.name": subscription,
                    "messaging.message.id": message.message_id,
                    "messaging.gcp_pubsub.message.delivery_attempt": message.delivery_attempt,
                },
            )


def received(subscription: str, message: Received) -> types.ReceivedMessage:
    return types.ReceivedMessage(
        ack_id=model.ack_id(subscription, message.ack_id),
        delivery_attempt=message.delivery_attempt,
        message=types.PubsubMessage(
            data=message.data,
            attributes=message.attributes,
            message_id=message.message_id,
            publish_time=datetime.fromtimestamp(message.publish_time, UTC),
            ordering_key=message.ordering_key,
        ),
    )


def _tokens(subscription: str, ack_ids: Sequence[str]) -> list[str]:
    """The broker's lease handles of the ack ids; INVALID_ARGUMENT for one this server did not make."""
    return [model.parse_ack_id(ack_id, subscription) for ack_id in ack_ids]


def _topic_message(record: TopicRecord) -> types.Topic:
    return types.Topic(name=record.name, labels=json.loads(record.labels))


def _config(record: SubscriptionRecord) -> config.SubscriptionConfig:
    stored = types.Subscription.from_json(record.settings, ignore_unknown_fields=True)
    stored.topic = record.topic  # a deleted topic detaches its subscriptions in the catalog only
    return config.from_proto(stored)


def _to_json(settings: config.SubscriptionConfig) -> str:
    return str(types.Subscription.to_json(config.to_proto(settings), indent=None))


def _page_size(size: int) -> int:
    return PAGE if size <= 0 else min(size, 1000)


def _paged(records: Sequence[T], size: int) -> tuple[Sequence[T], str]:
    if len(records) > size:
        return records[:size], records[size - 1].name
    return records, ""
