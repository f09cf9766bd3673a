"""A broker restart loses no acknowledged publish: publish, ack part, kill the broker (SIGKILL), start it
again on the same data, and a new consumer of the group gets every message it had not acked.

NATS, Redis and RabbitMQ run as private instances started here (never the shared servers); Redis with
``appendonly yes`` and ``appendfsync always``, as its transport's docstring requires. For SQLite the restart
is closing the file and opening it again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from stepdance.bus.transports import Message, open_transport
from tests.bus.transports.backends import CORE_BACKENDS, Names, collect
from tests.bus.transports.servers import PrivateServer, nats_server, rabbitmq_server, redis_server

STARTERS = {"nats": nats_server, "redis": redis_server, "rabbitmq": rabbitmq_server}


@pytest.fixture(params=CORE_BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PrivateServer | str]:
    """A private server to restart, or (SQLite) the URL of a file."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bus.db'}"
        return
    started = STARTERS[request.param](tmp_path)
    started.start()
    yield started
    started.kill()


@pytest.mark.slow
@pytest.mark.timeout(90)
async def test_a_restart_loses_no_acknowledged_publish(server: PrivateServer | str, names: Names) -> None:
    url = server if isinstance(server, str) else server.url
    topic, group = names.topic(), names.group()
    before = open_transport(url)
    subscription = await before.subscribe(topic, group)
    await before.publish(topic, [Message(id=f"m{n}", body=b"x" * n, key=f"k{n % 3}") for n in range(50)])
    done = await collect(subscription, 10)
    for delivery in done:
        await delivery.ack()
    await before.close()

    if isinstance(server, PrivateServer):
        if server.name == "NATS":
            await _written_by_nats(server.directory, 50)
        await asyncio.to_thread(server.restart)
    after = open_transport(url)
    try:
        subscription = await after.subscribe(topic, group)
        owed = {f"m{n}" for n in range(50)} - {d.message.id for d in done}
        got = await collect(subscription, len(owed), seconds=20)

        ids = {d.message.id for d in got}
        assert owed <= ids, f"lost {sorted(owed - ids)}"
        assert all(d.message.body == b"x" * int(d.message.id[1:]) for d in got)
        if isinstance(server, str):
            assert ids == owed  # SQLite's acks are committed too: nothing acked comes back
    finally:
        await after.close()


async def _written_by_nats(directory: Path, count: int) -> None:
    """Until the stream's message blocks hold every published message. nats-server 2.9 acks a publish once
    the message is in its memory and writes it to the block file a few milliseconds later (2.10 adds
    ``sync_interval: always``); a SIGKILL in between loses it (seen once in CI under load: the last of 50).
    That is the single-node broker's window, not the transport's, so the crash comes after it closes."""
    blocks = directory / "js"
    for _ in range(200):
        held = b"".join(path.read_bytes() for path in blocks.rglob("*.blk"))
        if all(b'{"i":"m%d"' % n in held for n in range(count)):  # the frame of each (transports.common)
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"nats-server did not write the {count} messages to {blocks} within 5 s")
