"""stepdance's event bus versus each broker's plain client: events/s published, consumed and acked end to end,
on the same server in one run. Target: at least 0.5 of the plain client on NATS, Redis and RabbitMQ; the
embedded SQLite bus at least 2,000 durable events/s.

For each transport, ``--count`` messages (RabbitMQ: ``--rabbitmq-count``) are published in batches of 100
while one consumer takes them; events/s is the count over the time from the first publish to the last done.
Three sides, each a warm-up then ``--rounds`` rounds alternating with the others on fresh names (best round
counts):

- ``bus`` (the ratio's numerator; ``sqlite_events_per_s``): through stepdance with outbox and inbox on
  (``_bus_path``): a service commits its rows and the events in one SQLite transaction per batch, the
  OutboxRelay puts them on a Bus over the transport, a rule routes them to a Python handler that records
  each with ``inbox.once`` and its effect in another service's SQLite database; done = inbox row committed;
- ``transport``: ``open_transport(url)`` alone, publish, fetch, ack (informative: ``*_transport_vs_plain``);
- ``plain``: the client library used directly (``_bus_sides``): publish awaited until durable, fetch, ack.

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

from _bus_path import bus_side
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transports", default="sqlite,nats,redis,rabbitmq")
    parser.add_argument("--count", type=int, default=20_000, help="messages per round")
    parser.add_argument(
        "--rabbitmq-count",
        type=int,
        default=3_000,
        help="messages per round on RabbitMQ (quorum queues are slower)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds per side (best counts)")
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
    used: list[tuple[str, str]] = []
    sides: dict[str, MakeSide]
    if kind == "sqlite":
        url = f"sqlite:///{scratch / 'bus.db'}"
        sides = {"transport": _ours(url, used), "bus": _bus(url, used)}
    else:
        server = SERVERS[kind]
        if not _reachable(server):
            console.print(f"[yellow]{kind}: server not reachable at {server}; skipped[/]")
            figures[f"{kind}_ratio"] = None
            return
        url = f"{server}?prefix={prefix}"

        async def plain(topic: str, group: str) -> Side:
            return await PLAIN[kind](server, f"{prefix}p", topic, group)

        sides = {"plain": plain, "transport": _ours(url, used), "bus": _bus(url, used)}
    try:
        best = await _alternate(kind, sides, count, rounds, bar)
    finally:
        if kind != "sqlite":
            await remove_transport_names(kind, SERVERS[kind], prefix, used)
    if kind == "sqlite":
        figures["sqlite_events_per_s"] = round(best["bus"])
        figures["sqlite_transport_events_per_s"] = round(best["transport"])
        figures["sqlite_durability"] = "WAL, synchronous=FULL (transport, both services' databases)"
        return
    figures[f"{kind}_plain_events_per_s"] = round(best["plain"])
    figures[f"{kind}_stepdance_events_per_s"] = round(best["bus"])
    figures[f"{kind}_transport_events_per_s"] = round(best["transport"])
    figures[f"{kind}_ratio"] = ratio(best["bus"], best["plain"])
    figures[f"{kind}_transport_vs_plain"] = ratio(best["transport"], best["plain"])


async def _alternate(
    kind: str, sides: dict[str, MakeSide], count: int, rounds: int, bar: Progress
) -> dict[str, float]:
    """A warm-up of each side, then ``rounds`` rounds alternating the sides; the best round of each."""
    best = dict.fromkeys(sides, 0.0)
    for name, make in sides.items():
        await _round(make, WARM_UP, bar, f"{kind}: {name} warm-up")
    for n in range(rounds):
        for name, make in sides.items():
            rate = await _round(make, count, bar, f"{kind}: {name} round {n + 1}")
            best[name] = max(best[name], rate)
    return best


def _ours(url: str, used: list[tuple[str, str]]) -> MakeSide:
    async def make(topic: str, group: str) -> Side:
        used.append((topic, group))
        return await transport_side(url, topic, group)

    return make


def _bus(url: str, used: list[tuple[str, str]]) -> MakeSide:
    async def make(topic: str, group: str) -> Side:
        return await bus_side(url, topic, group, used)

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
    rows: list[tuple[str, ...]] = []
    for kind in PLAIN:
        if figures.get(f"{kind}_plain_events_per_s"):
            rows.append(
                (
                    kind,
                    f"{figures[f'{kind}_stepdance_events_per_s']:,}",
                    f"{figures[f'{kind}_transport_events_per_s']:,}",
                    f"{figures[f'{kind}_plain_events_per_s']:,}",
                    f"{figures[f'{kind}_ratio']:g}",
                )
            )
    if "sqlite_events_per_s" in figures:
        rows.append(
            (
                "sqlite (durable, no peer)",
                f"{figures['sqlite_events_per_s']:,}",
                f"{figures['sqlite_transport_events_per_s']:,}",
                "-",
                "-",
            )
        )
    console.print(
        figures_table(
            "events/s end to end, best round",
            rows,
            ("", "bus (outbox+inbox)", "transport only", "plain client", "bus / plain"),
        )
    )
    if "sqlite_events_per_s" in figures:
        value = figures["sqlite_events_per_s"]
        verdict = "[green]meets[/]" if value >= SQLITE_TARGET else "[red]below[/]"
        console.print(f"[bold]sqlite_events_per_s[/] = {value:g} (target >= {SQLITE_TARGET:g})  {verdict}")


if __name__ == "__main__":
    main()
