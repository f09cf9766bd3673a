"""The order saga's three designs, end to end: orders/s and p50/p99 order latency (placed -> decided, as the
orders view recorded it) at 64 orders in flight, on the embedded default (SQLite files, the SQLite bus) and on
the servers (PostgreSQL for the engine store, the bus catalog and the services, NATS JetStream for the bus).
Target on this 2-core machine: at least 500 orders/s for the orchestrated design on SQLite and for the
choreographed design on NATS; each ``*_target_ratio`` is orders/s over that 500 (the physical bar the issue
sets).

The workload is :func:`stepdance.order.workload.orders` (5% declined cards, a scarce SKU for 10%), no
injected faults (a fault's back-off would measure the back-off), a warm-up of 100 orders, then ``--orders``.

    .venv/bin/python bench/saga.py [--orders 2000] [--deployments sqlite,servers] [--designs ...]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import uuid
from pathlib import Path
from typing import Any

from _common import POSTGRES, console, figures_table, finish, progress
from stepdance.faults.servers import accepts
from stepdance.order import workload
from stepdance.order.deployment import DESIGN_NAMES, open_design
from stepdance.order.run import RunResult, run_orders
from stepdance.settings import Settings

TARGET = 500.0
WARM_UP = 100
CONCURRENCY = 64
NATS = "nats://127.0.0.1:4222"
TARGETS = {"orchestrated_sqlite_target_ratio": 1.0, "choreographed_servers_target_ratio": 1.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--deployments", default="sqlite,servers")
    parser.add_argument("--designs", default=",".join(DESIGN_NAMES))
    args = parser.parse_args()
    figures: dict[str, Any] = {}
    results: list[tuple[str, RunResult]] = []
    for deployment in args.deployments.split(","):
        if deployment == "servers" and not (accepts(5432) and accepts(4222)):
            console.print(
                "[yellow]servers: PostgreSQL 127.0.0.1:5432 or NATS 127.0.0.1:4222 not reachable; skipped[/]"
            )
            continue
        for design in args.designs.split(","):
            result = asyncio.run(_measure(design, deployment, args.orders))
            results.append((deployment, result))
            key = f"{design}_{deployment}"
            figures[f"{key}_orders_per_s"] = round(result.orders_per_second, 1)
            figures[f"{key}_p50_ms"] = round(result.p50 * 1000, 1)
            figures[f"{key}_p99_ms"] = round(result.p99 * 1000, 1)
            figures[f"{key}_undecided"] = result.undecided
            if key in ("orchestrated_sqlite", "choreographed_servers"):
                figures[f"{key}_target_ratio"] = round(result.orders_per_second / TARGET, 2)
    rows = [
        (
            f"{r.design} ({deployment})",
            f"{r.orders_per_second:,.0f}",
            f"{r.p50 * 1000:.0f} ms",
            f"{r.p99 * 1000:.0f} ms",
            f"{r.completed}/{r.cancelled}/{r.undecided}",
        )
        for deployment, r in results
    ]
    columns = ("", "orders/s", "p50", "p99", "completed/cancelled/undecided")
    console.print(figures_table(f"order saga, {CONCURRENCY} in flight", rows, columns))
    finish(figures, TARGETS)


async def _measure(design: str, deployment: str, count: int) -> RunResult:
    tag = uuid.uuid4().hex[:6]
    with tempfile.TemporaryDirectory(prefix="sdsaga-") as scratch:
        settings = Settings(data_dir=Path(scratch))
        if deployment == "servers":
            settings = settings.with_urls(
                store=f"{POSTGRES}?schema=sdsaga{tag}_engine",
                services=f"{POSTGRES}?schema=sdsaga{tag}",
                catalog=f"{POSTGRES}?schema=sdsaga{tag}_bus",
                bus=f"{NATS}?prefix=sdsaga{tag}",
            )
        warm = workload.orders(WARM_UP, seed=1, prefix=f"w{tag}")
        batch = workload.orders(count, seed=2, prefix=f"m{tag}")
        stock = {sku: a + b for sku, a, b in _merged(workload.stock_for(warm), workload.stock_for(batch))}
        try:
            async with open_design(
                design, settings, prepare=lambda s: s.inventory.set_stock(stock)
            ) as running:
                with progress() as bar:
                    task = bar.add_task(f"{design} ({deployment}) warm-up", total=WARM_UP)
                    await run_orders(
                        running.design, warm, concurrency=CONCURRENCY, progress=_advance(bar, task)
                    )
                    bar.remove_task(task)
                    task = bar.add_task(f"{design} ({deployment})", total=count)
                    return await run_orders(
                        running.design, batch, concurrency=CONCURRENCY, progress=_advance(bar, task)
                    )
        finally:
            if deployment == "servers":
                await asyncio.to_thread(_clean, tag)


def _merged(a: dict[str, int], b: dict[str, int]) -> list[tuple[str, int, int]]:
    return [(sku, a.get(sku, 0), b.get(sku, 0)) for sku in sorted(a.keys() | b.keys())]


def _advance(bar: Any, task: Any) -> Any:
    return lambda done, _total: bar.update(task, completed=done)


def _clean(tag: str) -> None:
    import nats  # noqa: F401  (the servers deployment needs the nats extra anyway)
    import psycopg

    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        found = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)", (f"sdsaga{tag}",)
        ).fetchall()
        for (schema,) in found:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    asyncio.run(_delete_streams(f"sdsaga{tag}"))


async def _delete_streams(prefix: str) -> None:
    import nats

    client = await nats.connect(NATS)
    js = client.jetstream()
    for stream in await js.streams_info():
        if stream.config.name and stream.config.name.startswith(prefix):
            await js.delete_stream(stream.config.name)
    await client.close()


if __name__ == "__main__":
    main()
