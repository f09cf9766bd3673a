"""stepdance's bus transports versus each broker's plain client: events/s published, consumed and acked end to
end, on the same server in one run. Target: at least 0.5 of the plain client on NATS, Redis and RabbitMQ;
the SQLite transport at least 2,000 durable events/s.

For each transport, ``--count`` messages (RabbitMQ: ``--rabbitmq-count``) are published in batches of 100 (each batch awaited until the
server made it durable: PubAck, MULTI/EXEC, publisher confirms, SQLite commit) while one consumer fetches
batches and acks every message; events/s is the count over the time from the first publish to the last ack.
stepdance goes through ``open_transport(url)``; the plain side is the client library used directly
(``_bus_sides``). Each side runs a warm-up, then ``--rounds`` rounds alternating with the other side, each on
fresh names; the best round counts. SQLite has no peer: its figure is the transport's own.

What is measured: the transport level. The issue's target is measured "through stepdance (outbox and inbox
on)"; :func:`bus_side` is the hook for that path, and while it returns None the ratio is the transport's.

    .venv/bin/python bench/bus_vs_broker.py [--transports sqlite,nats,redis,rabbitmq] [--count N] [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import socket
import tempfile
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from rich.progress import Progress

from _bus_sides import Side, nats_side, rabbitmq_side, redis_side, remove_transport_names, transport_side
from _common import Stopwatch, console, figures_table, finish, progress, ratio
from stepdance.bus.transports import Message

RATIO_TARGET = 0.5
SQLITE_TARGET = 2000.0
WARM_UP = 1000
BODY = b"x" * 256
SERVERS = {
    "nats": os.environ.get("STEPDANCE_BENCH_NATS", "nats://127.0.0.1:4222"),
    "redis": os.environ.get("STEPDANCE_BENCH_REDIS", "redis://127.0.0.1:6379/0"),
    "rabbitmq": os.environ.get("STEPDANCE_BENCH_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672/"),
}
PLAIN: dict[str, Callable[[str, str, str, str], Awaitable[Side]]] = {
    "nats": nats_side,
    "redis": redis_side,
    "rabbitmq": rabbitmq_side,
}
MakeSide = Callable[[str, str], Awaitable[Side]]  # (topic, group) -> a side subscribed and ready


# --- HOOK: the bus-level path ----------------------------------------------------------------------------
# Any async publish/consume pair can be timed with measure_pair() below. When the bus core (outbox and inbox) lands, return a Side here whose publish puts the events in a
# publishing service's outbox and returns once they are committed there (the relay hands them to the
# transport at ``url``), and whose consume delivers them through a subscriber's inbox (one transaction with
# the inbox row) and acks. The ratio then compares that path with the plain client.
async def bus_side(url: str, topic: str, group: str) -> Side | None:
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transports", default="sqlite,nats,redis,rabbitmq")
    parser.add_argument("--count", type=int, default=20_000, help="messages per round")
    parser.add_argument(
        "--rabbitmq-count",
        type=int,
        default=5_000,
        help="messages per round on RabbitMQ (quorum queues are slower)",
    )
    parser.add_argument("--rounds", type=int, default=2, help="measured rounds per side (best counts)")
    args = parser.parse_args()
    figures: dict[str, Any] = {}
    with progress() as bar, tempfile.TemporaryDirectory() as scratch:
        for kind in args.transports.split(","):
            count = args.rabbitmq_count if kind == "rabbitmq" else args.count
            asyncio.run(_measure(kind, Path(scratch), count, args.rounds, bar, figures))
            gc.collect()
    _show(figures)
    finish(figures, {f"{kind}_ratio": RATIO_TARGET for kind in PLAIN})


async def _measure(
    kind: str, scratch: Path, count: int, rounds: int, bar: Progress, figures: dict[str, Any]
) -> None:
    prefix = f"sdbench{uuid.uuid4().hex[:6]}"
    if kind == "sqlite":
        url = f"sqlite:///{scratch / 'bus.db'}"
        figures["sqlite_events_per_s"] = round(
            await _best(_ours(url, []), count, rounds, bar, "sqlite: stepdance")
        )
        figures["sqlite_durability"] = "WAL, synchronous=FULL"
        return
    server = SERVERS[kind]
    if not _reachable(server):
        console.print(f"[yellow]{kind}: server not reachable at {server}; skipped[/]")
        figures[f"{kind}_ratio"] = None
        return
    ours_url, used = f"{server}?prefix={prefix}", []

    async def plain(topic: str, group: str) -> Side:
        return await PLAIN[kind](server, f"{prefix}p", topic, group)

    ours = _ours(ours_url, used)
    through = "transport"
    if await bus_side(ours_url, "probe", "probe") is not None:
        ours, through = _bus(ours_url), "bus"
    try:
        best: dict[str, float] = {"plain": 0.0, "ours": 0.0}
        for make, name in ((plain, "plain"), (ours, "ours")):
            await _round(make, WARM_UP, bar, f"{kind}: {name} warm-up")
        for n in range(rounds):
            for make, name in ((plain, "plain"), (ours, "ours")):
                rate = await _round(make, count, bar, f"{kind}: {name} round {n + 1}")
                best[name] = max(best[name], rate)
    finally:
        await remove_transport_names(kind, server, prefix, used)
    figures[f"{kind}_plain_events_per_s"] = round(best["plain"])
    figures[f"{kind}_stepdance_events_per_s"] = round(best["ours"])
    figures[f"{kind}_measured_through"] = through
    figures[f"{kind}_ratio"] = ratio(best["ours"], best["plain"])


def _ours(url: str, used: list[tuple[str, str]]) -> MakeSide:
    async def make(topic: str, group: str) -> Side:
        used.append((topic, group))
        return await transport_side(url, topic, group)

    return make


def _bus(url: str) -> MakeSide:
    async def make(topic: str, group: str) -> Side:
        side = await bus_side(url, topic, group)
        assert side is not None
        return side

    return make


async def _best(make: MakeSide, count: int, rounds: int, bar: Progress, label: str) -> float:
    await _round(make, WARM_UP, bar, f"{label} warm-up")
    return max([await _round(make, count, bar, f"{label} round {n + 1}") for n in range(rounds)])


async def _round(make: MakeSide, count: int, bar: Progress, label: str) -> float:
    """Events/s of one round on fresh names."""
    tag = uuid.uuid4().hex[:8]
    side = await make(f"bench-{tag}", f"g{tag}")
    task = bar.add_task(label, total=count)
    try:
        return await measure_pair(side.publish, side.consume, count, lambda n: bar.advance(task, n))
    finally:
        bar.remove_task(task)
        await side.close()


async def measure_pair(
    publish: Callable[[Sequence[Message]], Awaitable[None]],
    consume: Callable[[int, Callable[[int], None]], Awaitable[None]],
    count: int,
    advance: Callable[[int], None] = lambda _: None,
) -> float:
    """HOOK for any path: events/s of an async ``publish(batch)`` / ``consume(count, advance)`` pair, the
    publisher sending ``count`` messages in batches of 100 while the consumer takes and acks them."""
    tag = uuid.uuid4().hex[:8]
    messages = [Message(id=f"{tag}-{i}", body=BODY, key=f"order-{i % 64}") for i in range(count)]

    async def publish_all() -> None:
        for start in range(0, count, 100):
            await publish(messages[start : start + 100])

    with Stopwatch() as watch:
        await asyncio.wait_for(asyncio.gather(publish_all(), consume(count, advance)), 120)
    return count / watch.seconds


def _reachable(url: str) -> bool:
    rest = url.split("://", 1)[1].split("/", 1)[0].rsplit("@", 1)[-1]
    host, _, port = rest.partition(":")
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
    except OSError:
        return False
    return True


def _show(figures: dict[str, Any]) -> None:
    rows = []
    for kind in PLAIN:
        if figures.get(f"{kind}_plain_events_per_s"):
            rows.append(
                (
                    f"{kind} (through the {figures[f'{kind}_measured_through']})",
                    f"{figures[f'{kind}_stepdance_events_per_s']:,}",
                    f"{figures[f'{kind}_plain_events_per_s']:,}",
                )
            )
    if "sqlite_events_per_s" in figures:
        rows.append(("sqlite (durable, no peer)", f"{figures['sqlite_events_per_s']:,}", "-"))
    console.print(
        figures_table(
            "events/s end to end (publish, fetch, ack), best round",
            rows,
            ("", "stepdance", "plain client"),
        )
    )
    if "sqlite_events_per_s" in figures:
        value = figures["sqlite_events_per_s"]
        verdict = "[green]meets[/]" if value >= SQLITE_TARGET else "[red]below[/]"
        console.print(f"[bold]sqlite_events_per_s[/] = {value:g} (target >= {SQLITE_TARGET:g})  {verdict}")


if __name__ == "__main__":
    main()
