"""Google's own ``google-cloud-pubsub`` clients against stepdance's Pub/Sub endpoint (``PUBSUB_EMULATOR_HOST``),
over the bus's real transports: topics, subscriptions, publish, pull, streaming pull with acks and
redelivery, dead letters, errors with Pub/Sub's status codes; and a restart keeps what was stored."""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import json
import os
import threading
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("grpc", reason="grpcio is not installed (pip install 'stepdance[gcp]')")
pytest.importorskip("google.cloud.pubsub_v1", reason="google-cloud-pubsub is not installed (stepdance[gcp])")

import grpc
from google.api_core import exceptions
from google.cloud import pubsub_v1
from google.pubsub_v1.services import publisher as pubsub_gapic
from google.pubsub_v1.services.publisher.transports import PublisherGrpcTransport

from stepdance import telemetry
from stepdance.bus.catalog import open_catalog
from stepdance.bus.transports import open_transport
from stepdance.gcp.pubsub_grpc import PubSubServer, start_pubsub_server
from stepdance.settings import Settings
from tests.bus.transports.backends import CORE_BACKENDS, url_for

pytestmark = pytest.mark.timeout(90)


@dataclass
class Endpoint:
    server: PubSubServer
    address: str
    project: str

    def topic(self, name: str) -> str:
        return f"projects/{self.project}/topics/{name}"

    def subscription(self, name: str) -> str:
        return f"projects/{self.project}/subscriptions/{name}"


@pytest.fixture(params=CORE_BACKENDS)
def transport_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return url_for(request.param, tmp_path)


@pytest.fixture
async def endpoint(transport_url: str, tmp_path: Path) -> AsyncIterator[Endpoint]:
    catalog = open_catalog(f"sqlite:///{tmp_path / 'catalog.db'}")
    transport = open_transport(transport_url)
    server = await start_pubsub_server(catalog, transport)
    try:
        yield Endpoint(server, f"127.0.0.1:{server.port}", f"p{uuid.uuid4().hex[:8]}")
    finally:
        await server.stop(0)
        await asyncio.wait_for(transport.close(), 10)
        catalog.close()


@pytest.fixture(autouse=True)
def emulator_host() -> Iterator[None]:
    # the clients read it when made: each test makes its own inside ``pointed``
    yield
    os.environ.pop("PUBSUB_EMULATOR_HOST", None)


def clients(endpoint: Endpoint) -> tuple[Any, Any]:
    os.environ["PUBSUB_EMULATOR_HOST"] = endpoint.address
    return pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()


async def test_publish_then_pull_and_acknowledge_with_attributes_and_ordering_keys(
    endpoint: Endpoint,
) -> None:
    publisher, subscriber = clients(endpoint)
    topic, sub = endpoint.topic("orders"), endpoint.subscription("billing")

    def run() -> list[Any]:
        publisher.create_topic(name=topic)
        subscriber.create_subscription(name=sub, topic=topic, ack_deadline_seconds=30)
        ids = [
            publisher.publish(topic, b'{"orderId": "o-1"}', kind="OrderPlaced").result(timeout=20),
            publisher.publish(topic, b"second").result(timeout=20),
        ]
        got: list[Any] = []
        while len(got) < 2:
            got += subscriber.pull(subscription=sub, max_messages=10, timeout=20).received_messages
        subscriber.acknowledge(subscription=sub, ack_ids=[m.ack_id for m in got])
        assert sorted(m.message.message_id for m in got) == sorted(ids)
        with warnings.catch_warnings():  # deprecated in the client, still what says "do not wait"
            warnings.simplefilter("ignore", DeprecationWarning)
            again = subscriber.pull(subscription=sub, max_messages=10, return_immediately=True, timeout=20)
        assert list(again.received_messages) == []
        return got

    got = await asyncio.to_thread(run)
    first = next(m.message for m in got if m.message.data.startswith(b"{"))
    assert dict(first.attributes) == {"kind": "OrderPlaced"}
    assert first.publish_time.timestamp() > 0


async def test_streaming_pull_delivers_redelivers_a_nack_and_stops(endpoint: Endpoint) -> None:
    publisher, subscriber = clients(endpoint)
    topic, sub = endpoint.topic("events"), endpoint.subscription("stream")
    seen: list[tuple[bytes, int]] = []
    done = threading.Event()

    def callback(message: Any) -> None:
        seen.append((message.data, message.delivery_attempt or 0))
        if message.data == b"nack-once" and sum(1 for d, _ in seen if d == b"nack-once") == 1:
            message.nack()
            return
        message.ack()
        if {d for d, _ in seen} == {b"a", b"nack-once"} and len(seen) >= 3:
            done.set()

    def run() -> None:
        publisher.create_topic(name=topic)
        subscriber.create_subscription(name=sub, topic=topic)
        future = subscriber.subscribe(sub, callback)
        try:
            publisher.publish(topic, b"a").result(timeout=20)
            publisher.publish(topic, b"nack-once").result(timeout=20)
            assert done.wait(30), f"seen only {seen}"
        finally:
            future.cancel()
            with contextlib.suppress(concurrent.futures.CancelledError, Exception):
                future.result(timeout=10)  # the stream winds down; how it ended is not what is tested

    await asyncio.to_thread(run)
    assert [d for d, _ in seen].count(b"nack-once") == 2


async def test_ordering_keys_are_delivered_in_order_through_a_nack(endpoint: Endpoint) -> None:
    os.environ["PUBSUB_EMULATOR_HOST"] = endpoint.address
    publisher = pubsub_v1.PublisherClient(
        publisher_options=pubsub_v1.types.PublisherOptions(enable_message_ordering=True)
    )
    subscriber = pubsub_v1.SubscriberClient()
    topic, sub = endpoint.topic("ledger"), endpoint.subscription("ledger")
    acked: dict[str, list[bytes]] = {"k": [], "j": []}
    nacked: list[bytes] = []
    done = threading.Event()

    def callback(message: Any) -> None:
        if message.data == b"k-1" and not nacked:
            nacked.append(message.data)
            message.nack()  # k-2 on must not come before k-1 comes again
            return
        acked[message.ordering_key].append(message.data)
        message.ack()
        if sum(map(len, acked.values())) == 10:
            done.set()

    def run() -> None:
        publisher.create_topic(name=topic)
        subscriber.create_subscription(request={"name": sub, "topic": topic, "enable_message_ordering": True})
        future = subscriber.subscribe(sub, callback)
        try:
            sent = [
                publisher.publish(topic, f"{key}-{n}".encode(), ordering_key=key)
                for n in range(5)
                for key in ("k", "j")
            ]
            for each in sent:
                each.result(timeout=20)
            assert done.wait(30), f"acked only {acked}"
        finally:
            future.cancel()
            with contextlib.suppress(concurrent.futures.CancelledError, Exception):
                future.result(timeout=10)

    await asyncio.to_thread(run)
    assert nacked == [b"k-1"]
    assert acked == {key: [f"{key}-{n}".encode() for n in range(5)] for key in ("k", "j")}


async def test_past_max_delivery_attempts_a_message_goes_to_the_dead_letter_topic(endpoint: Endpoint) -> None:
    publisher, subscriber = clients(endpoint)
    topic, dead = endpoint.topic("work"), endpoint.topic("work-dead")
    sub, dead_sub = endpoint.subscription("work"), endpoint.subscription("work-dead")

    def run() -> Any:
        publisher.create_topic(name=topic)
        publisher.create_topic(name=dead)
        subscriber.create_subscription(name=dead_sub, topic=dead)
        subscriber.create_subscription(
            request={
                "name": sub,
                "topic": topic,
                "dead_letter_policy": {"dead_letter_topic": dead, "max_delivery_attempts": 5},
            }
        )
        publisher.publish(topic, b"poison").result(timeout=20)
        attempts = []
        while len(attempts) < 5:
            for m in subscriber.pull(subscription=sub, max_messages=1, timeout=20).received_messages:
                attempts.append(m.delivery_attempt)
                subscriber.modify_ack_deadline(subscription=sub, ack_ids=[m.ack_id], ack_deadline_seconds=0)
        assert attempts == [1, 2, 3, 4, 5]
        while True:
            got = subscriber.pull(subscription=dead_sub, max_messages=1, timeout=20).received_messages
            if got:
                return got[0].message

    message = await asyncio.to_thread(run)
    assert message.data == b"poison"
    assert message.attributes["CloudPubSubDeadLetterSourceDeliveryCount"] == "5"


async def test_bad_calls_get_pub_sub_s_status_codes_and_change_nothing(endpoint: Endpoint) -> None:
    publisher, subscriber = clients(endpoint)
    topic = endpoint.topic("kept")

    def run() -> None:
        publisher.create_topic(name=topic)
        with pytest.raises(exceptions.AlreadyExists):
            publisher.create_topic(name=topic)
        with pytest.raises(exceptions.NotFound):
            publisher.get_topic(topic=endpoint.topic("missing"))
        with pytest.raises(exceptions.InvalidArgument):
            publisher.create_topic(name=endpoint.topic("1-starts-with-a-digit"))
        with pytest.raises(exceptions.NotFound):
            subscriber.create_subscription(
                name=endpoint.subscription("sub-1"), topic=endpoint.topic("missing")
            )
        with pytest.raises(exceptions.NotFound):
            subscriber.pull(subscription=endpoint.subscription("nobody"), max_messages=1)
        with pytest.raises(exceptions.InvalidArgument):
            subscriber.create_subscription(
                name=endpoint.subscription("s2"), topic=topic, ack_deadline_seconds=5000
            )
        names = [t.name for t in publisher.list_topics(project=f"projects/{endpoint.project}")]
        assert names == [topic]
        assert list(subscriber.list_subscriptions(project=f"projects/{endpoint.project}")) == []

    await asyncio.to_thread(run)


async def test_a_deleted_subscription_or_topic_is_gone_for_the_very_next_call(endpoint: Endpoint) -> None:
    publisher, subscriber = clients(endpoint)
    topic, sub = endpoint.topic("brief"), endpoint.subscription("brief")
    # Google's generated client, without the batching publisher's own retries
    channel = grpc.insecure_channel(endpoint.address)
    plain = pubsub_gapic.PublisherClient(transport=PublisherGrpcTransport(channel=channel))

    def run() -> None:
        publisher.create_topic(name=topic)
        subscriber.create_subscription(name=sub, topic=topic)
        publisher.publish(topic, b"x").result(timeout=20)  # the topic and subscription are looked up now
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            subscriber.pull(subscription=sub, max_messages=1, return_immediately=True, timeout=20)
        subscriber.delete_subscription(subscription=sub)
        with pytest.raises(exceptions.NotFound):  # no retry: the first answer must already say so
            subscriber.pull(subscription=sub, max_messages=1, timeout=20, retry=None)
        publisher.delete_topic(topic=topic)
        with pytest.raises(exceptions.NotFound):
            plain.publish(topic=topic, messages=[{"data": b"y"}], retry=None, timeout=20)

    try:
        await asyncio.to_thread(run)
    finally:
        channel.close()


class Receiver(BaseHTTPRequestHandler):
    """A push endpoint: refuses each message's first delivery with a 503, takes the second with a 204."""

    got: list[tuple[dict[str, str], bytes]] = []

    def log_message(self, *_: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        Receiver.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
        first = sum(1 for _, b in Receiver.got if b == body) == 1
        self.send_response(503 if first else 204)
        self.send_header("Content-Length", "0")
        self.end_headers()


async def test_a_push_subscription_posts_each_message_until_the_endpoint_takes_it(endpoint: Endpoint) -> None:
    Receiver.got = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/push"
    publisher, subscriber = clients(endpoint)
    topic = endpoint.topic("pushed")

    def run() -> None:
        publisher.create_topic(name=topic)
        subscriber.create_subscription(
            request={
                "name": endpoint.subscription("wrapped"),
                "topic": topic,
                "push_config": {"push_endpoint": url},
                "retry_policy": {"minimum_backoff": {"seconds": 0}, "maximum_backoff": {"seconds": 1}},
            }
        )
        subscriber.create_subscription(
            request={
                "name": endpoint.subscription("raw"),
                "topic": topic,
                "push_config": {"push_endpoint": url, "no_wrapper": {"write_metadata": True}},
            }
        )
        publisher.publish(topic, b"hello", kind="greeting").result(timeout=20)
        deadline = time.monotonic() + 20
        while len(Receiver.got) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)

    try:
        await asyncio.to_thread(run)
    finally:
        server.shutdown()
        server.server_close()
    assert len(Receiver.got) == 4  # each subscription: refused once, delivered again, taken
    wrapped = [json.loads(b) for h, b in Receiver.got if h["content-type"] == "application/json"]
    assert len(wrapped) == 2 and wrapped[0] == wrapped[1]
    assert wrapped[0]["subscription"] == endpoint.subscription("wrapped")
    assert base64.b64decode(wrapped[0]["message"]["data"]) == b"hello"
    assert wrapped[0]["message"]["attributes"] == {"kind": "greeting"}
    raw = [(h, b) for h, b in Receiver.got if h["content-type"] == "application/octet-stream"]
    assert [b for _, b in raw] == [b"hello", b"hello"]
    assert raw[0][0]["x-goog-pubsub-kind"] == "greeting"


async def test_a_trace_crosses_pub_sub_from_the_publisher_s_googclient_traceparent(
    endpoint: Endpoint, tmp_path: Path
) -> None:
    telemetry.configure(Settings(data_dir=tmp_path))
    publisher, subscriber = clients(endpoint)
    topic, sub = endpoint.topic("traced"), endpoint.subscription("traced")
    trace_id, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"

    def run() -> None:
        publisher.create_topic(name=topic)
        subscriber.create_subscription(name=sub, topic=topic)
        traceparent = f"00-{trace_id}-{parent}-01"
        publisher.publish(topic, b"traced", googclient_traceparent=traceparent).result(timeout=20)
        got: list[Any] = []
        while not got:
            got = list(subscriber.pull(subscription=sub, max_messages=1, timeout=20).received_messages)
        subscriber.acknowledge(subscription=sub, ack_ids=[got[0].ack_id])

    await asyncio.to_thread(run)
    telemetry.flush()
    spans = [s for s in telemetry.read_spans(tmp_path / "traces") if s["traceId"] == trace_id]
    kinds = {s["name"]: s for s in spans}
    assert set(kinds) == {f"{topic} publish", f"{sub} deliver"}
    assert kinds[f"{topic} publish"]["parentSpanId"] == parent
    assert kinds[f"{sub} deliver"]["parentSpanId"] == parent
