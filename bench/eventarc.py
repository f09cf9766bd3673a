"""Eventarc triggers versus the HTTP path alone: events/s delivered as CloudEvents to one HTTP receiver, in
one run. Target: a trigger at least 0.9 of a plain EventBridge-style HTTP target on the same bus (what
CloudEvents encoding and the trigger's filters cost); the direct POSTs are the limit of the HTTP path.

The receiver is an aiohttp server in a process of its own (it answers 204 and counts). Sides, each a
warm-up then ``--rounds`` rounds alternating with the others (best round counts), ``--count`` events each:

- ``direct``: the benchmark POSTs the events as binary-mode CloudEvents itself (aiohttp, ``--concurrency``
  at a time): no bus, no durability: the HTTP path's limit;
- ``plain``: put_events (batches of 10) on the embedded SQLite bus, a rule and a plain HTTP target;
- ``binary``/``structured``: the same through an Eventarc trigger (type, source and subject filters) in
  that content mode.

Done is when the receiver has counted every event of the round.

    .venv/bin/python bench/eventarc.py [--count N] [--rounds N] [--concurrency N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from rich.progress import Progress

from _common import Stopwatch, console, figures_table, finish, progress, ratio
from stepdance.bus import Bus, Client, ConsumerSettings, open_catalog
from stepdance.bus.cloudevents import CloudEvent, to_binary
from stepdance.bus.transports import open_transport
from stepdance.gcp.eventarc_triggers import Triggers
from stepdance.settings import Settings

RATIO_TARGET = 0.9
SIDES = ("direct", "plain", "binary", "structured")
RECEIVER = """
from aiohttp import web
seen = 0
async def hit(request):
    global seen
    await request.read()
    seen += 1
    return web.Response(status=204)
async def count(request):
    return web.json_response({"seen": seen})
app = web.Application()
app.add_routes([web.post("/{tail:.*}", hit), web.get("/count", count)])
runner = web.AppRunner(app, access_log=None)
import asyncio
async def main():
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=3000, help="events per round")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds per side (best counts)")
    parser.add_argument("--concurrency", type=int, default=32, help="POSTs in flight on the direct side")
    args = parser.parse_args()
    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True)
    try:
        assert receiver.stdout is not None
        url = f"http://127.0.0.1:{int(receiver.stdout.readline())}"
        with progress() as bar, tempfile.TemporaryDirectory() as scratch:
            figures = asyncio.run(_measure(url, Path(scratch), args, bar))
    finally:
        receiver.kill()
        receiver.wait()
    _show(figures, args.count)
    finish(figures, {"trigger_vs_plain_ratio": RATIO_TARGET})


async def _measure(url: str, scratch: Path, args: argparse.Namespace, bar: Progress) -> dict[str, Any]:
    catalog = open_catalog(f"sqlite:///{scratch / 'catalog.db'}")
    transport = open_transport(f"sqlite:///{scratch / 'bus.db'}")
    bus = Bus(
        catalog,
        transport,
        Settings(data_dir=scratch, tracing=False),
        consumer_settings=ConsumerSettings(fetch_wait=0.05),
        refresh_seconds=0.05,
    )
    await bus.start()
    events, triggers = Client(bus), Triggers(bus)
    http = httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=args.concurrency))
    try:
        sides: dict[str, Callable[[int], Awaitable[None]]] = {
            "direct": lambda n: _direct(url, n, args.concurrency),
            "plain": await _through_bus(events, url, None, triggers),
            "binary": await _through_bus(events, url, "binary", triggers),
            "structured": await _through_bus(events, url, "structured", triggers),
        }
        best: dict[str, float] = {}
        task = bar.add_task("eventarc", total=len(SIDES) * (args.rounds + 1))
        for round_number in range(args.rounds + 1):
            for name, side in sides.items():
                bar.update(task, description=f"{name} round {round_number}")
                took = await _timed(http, url, side, args.count)
                if round_number:  # the first round warms up
                    best[name] = max(best.get(name, 0.0), args.count / took)
                bar.advance(task)
    finally:
        await http.aclose()
        await bus.stop()
        await transport.close()
        catalog.close()
    figures: dict[str, Any] = {f"{name}_events_per_s": round(value) for name, value in best.items()}
    figures["trigger_vs_plain_ratio"] = ratio(best["binary"], best["plain"])
    figures["structured_vs_plain_ratio"] = ratio(best["structured"], best["plain"])
    figures["trigger_vs_direct_ratio"] = ratio(best["binary"], best["direct"])
    return figures


async def _timed(
    http: httpx.AsyncClient, url: str, side: Callable[[int], Awaitable[None]], count: int
) -> float:
    before = (await http.get(f"{url}/count")).json()["seen"]
    with Stopwatch() as watch:
        await side(count)
        # the receiver is another process: asking it is the only way to know
        while (await http.get(f"{url}/count")).json()["seen"] < before + count:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    return watch.seconds


async def _direct(url: str, count: int, concurrency: int) -> None:
    """The HTTP path's limit: aiohttp (the faster of the two clients here) POSTing straight to the receiver."""
    gate = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def post(n: int) -> None:
            event = CloudEvent(
                id=uuid.uuid4().hex,
                source="stepdance.bench",
                type="OrderPlaced",
                subject=f"o-{n}",
                datacontenttype="application/json",
                data={"orderId": f"o-{n}"},
            )
            headers, body = to_binary(event)
            async with gate, session.post(f"{url}/direct", data=body, headers=headers) as answer:
                answer.raise_for_status()

        await asyncio.gather(*(post(n) for n in range(count)))


async def _through_bus(
    events: Client, url: str, mode: str | None, triggers: Triggers
) -> Callable[[int], Awaitable[None]]:
    """A fresh event bus delivering to the receiver: by a plain HTTP target, or by a trigger in ``mode``."""
    name = f"bench-{mode or 'plain'}-{uuid.uuid4().hex[:6]}"
    await events.create_event_bus(Name=name)
    if mode is None:
        await events.put_rule(Name="plain", EventBusName=name, EventPattern=json.dumps({"source": ["bench"]}))
        await events.put_targets(
            Rule="plain", EventBusName=name, Targets=[{"Id": "h", "Arn": f"{url}/plain"}]
        )
    else:
        await triggers.create(
            {
                "name": name,
                "channel": name,
                "eventFilters": [
                    {"attribute": "type", "value": "OrderPlaced"},
                    {"attribute": "source", "value": "bench"},
                    {"attribute": "subject", "value": "o-*", "operator": "match-path-pattern"},
                ],
                "destination": f"{url}/{mode}",
                "contentMode": mode,
            }
        )

    async def publish(count: int) -> None:
        for first in range(0, count, 10):
            entries = [
                {
                    "Source": "bench",
                    "DetailType": "OrderPlaced",
                    "Detail": json.dumps({"orderId": f"o-{n}"}),
                    "EventBusName": name,
                }
                for n in range(first, min(first + 10, count))
            ]
            await events.put_events(Entries=entries)

    return publish


def _show(figures: dict[str, Any], count: int) -> None:
    rows = [(side, f"{figures[f'{side}_events_per_s']:,}") for side in SIDES]
    console.print(
        figures_table(
            f"events/s delivered to one HTTP receiver ({count:,} per round)", rows, ("side", "events/s")
        )
    )


if __name__ == "__main__":
    main()
