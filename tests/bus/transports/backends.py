"""The transports every behavioural test runs against: SQLite always; NATS, Redis and RabbitMQ on the shared
servers at 127.0.0.1 (4222, 6379, 5672 guest:guest), each skipped with the server's name when unreachable.

Each test session works under a name prefix of its own (``?prefix=sdt<random>``), and each test uses topics
and groups of its own, so tests never see each other's messages; the session removes what it created from
the shared servers at the end.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from stepdance.bus.transports import Delivery, Subscription, Transport, open_transport

NATS = os.environ.get("STEPDANCE_TEST_NATS", "nats://127.0.0.1:4222")
REDIS = os.environ.get("STEPDANCE_TEST_REDIS", "redis://127.0.0.1:6379/0")
RABBITMQ = os.environ.get("STEPDANCE_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672/")
SERVERS = {"nats": ("NATS", NATS), "redis": ("Redis", REDIS), "rabbitmq": ("RabbitMQ", RABBITMQ)}
CORE_BACKENDS = ["sqlite", "nats", "redis", "rabbitmq"]  # the brokers themselves
# and the bus over Google Pub/Sub's API, served by stepdance's own endpoint (on SQLite) in this process
BACKENDS = [*CORE_BACKENDS, "pubsub"]
PREFIX = f"sdt{uuid.uuid4().hex[:8]}"


def address(url: str) -> tuple[str, int]:
    rest = url.split("://", 1)[1].split("/", 1)[0].rsplit("@", 1)[-1]
    host, _, port = rest.partition(":")
    return host, int(port)


def reachable(url: str) -> bool:
    try:
        socket.create_connection(address(url), timeout=1).close()
    except OSError:
        return False
    return True


def skip_unless_up(kind: str) -> str:
    """The shared server's URL, or skip naming it."""
    name, url = SERVERS[kind]
    if not reachable(url):
        host, port = address(url)
        pytest.skip(f"{name} not reachable at {host}:{port}")
    return url


def url_for(kind: str, tmp_path: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'bus.db'}"  # tmp_path is absolute: four slashes
    if kind == "pubsub":
        return f"pubsub://{pubsub_endpoint()}?prefix={PREFIX}"
    return f"{skip_unless_up(kind)}?prefix={PREFIX}"


_ENDPOINT: dict[str, str] = {}


def pubsub_endpoint() -> str:
    """The address of a Pub/Sub endpoint of this test process's own (started on first use, on SQLite, on a
    thread with a loop of its own, so that every test's loop can talk to it); skipped without the gcp extra."""
    if "address" not in _ENDPOINT:
        pytest.importorskip("grpc", reason="grpcio is not installed (pip install 'stepdance[gcp]')")
        pytest.importorskip(
            "google.pubsub_v1", reason="google-cloud-pubsub is not installed (stepdance[gcp])"
        )
        from stepdance.bus.catalog import open_catalog
        from stepdance.gcp.pubsub_grpc import start_pubsub_server

        directory = Path(tempfile.mkdtemp(prefix="sd-pubsub-"))
        started = threading.Event()

        async def serve() -> None:
            catalog = open_catalog(f"sqlite:///{directory / 'catalog.db'}")
            server = await start_pubsub_server(catalog, open_transport(f"sqlite:///{directory / 'bus.db'}"))
            _ENDPOINT["address"] = f"127.0.0.1:{server.port}"
            started.set()
            await asyncio.Event().wait()  # until the process ends (a daemon thread)

        threading.Thread(target=lambda: asyncio.run(serve()), name="pubsub-endpoint", daemon=True).start()
        if not started.wait(30):
            pytest.fail("the test Pub/Sub endpoint did not start")
    return _ENDPOINT["address"]


@dataclass
class Names:
    """Fresh topic and group names for one test."""

    tag: str

    def topic(self, name: str = "t") -> str:
        return f"{name}-{self.tag}"

    def group(self, name: str = "g") -> str:
        return f"{name}-{self.tag}"


@pytest.fixture
def names() -> Names:
    return Names(uuid.uuid4().hex[:10])


@pytest.fixture(params=BACKENDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def transport_url(kind: str, tmp_path: Path) -> str:
    return url_for(kind, tmp_path)


@pytest.fixture
async def transport(transport_url: str) -> AsyncIterator[Transport]:
    opened = open_transport(transport_url)
    yield opened
    await asyncio.wait_for(opened.close(), 10)


async def collect(subscription: Subscription, count: int, seconds: float = 10.0) -> list[Delivery]:
    """Fetch until ``count`` deliveries arrived or ``seconds`` passed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    got: list[Delivery] = []
    while len(got) < count and (left := deadline - loop.time()) > 0:
        got += await asyncio.wait_for(subscription.fetch(count - len(got), min(left, 1.0)), left + 5)
    return got


@pytest.fixture(scope="session", autouse=True)
def clean_shared_servers() -> Iterator[None]:
    """Remove this session's streams, keys, exchanges and queues from the shared servers afterwards."""
    yield
    for kind, clean in _CLEANERS.items():
        if reachable(SERVERS[kind][1]):
            try:
                asyncio.run(asyncio.wait_for(clean(), 30))
            except Exception as error:  # cleaning is a courtesy; a failure must not fail the session
                print(f"could not clean {kind}: {error!r}")


async def _clean_nats() -> None:
    import nats

    client = await nats.connect(NATS)
    js = client.jetstream()
    for info in await js.streams_info():
        if info.config.name and info.config.name.startswith(f"{PREFIX}_"):
            await js.delete_stream(info.config.name)
    await client.close()


async def _clean_redis() -> None:
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(REDIS)
    keys = [key async for key in client.scan_iter(match=f"{PREFIX}:*", count=1000)]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def _clean_rabbitmq() -> None:
    """Queues and exchanges are listed with rabbitmqctl (the AMQP protocol cannot list them)."""
    import aio_pika

    def listed(what: str) -> list[str]:
        try:
            out = subprocess.run(
                ["rabbitmqctl", "-q", what, "name"], capture_output=True, text=True, timeout=20, check=True
            ).stdout
        except (OSError, subprocess.SubprocessError):
            return []
        return [line.strip() for line in out.splitlines() if line.strip().startswith(f"{PREFIX}.")]

    connection = await aio_pika.connect(RABBITMQ)
    channel = await connection.channel()
    for queue in listed("list_queues"):
        await channel.queue_delete(queue)
    for exchange in listed("list_exchanges"):
        await channel.exchange_delete(exchange)
    await connection.close()


_CLEANERS: dict[str, Callable[[], Coroutine[object, object, None]]] = {
    "nats": _clean_nats,
    "redis": _clean_redis,
    "rabbitmq": _clean_rabbitmq,
}
