"""``stepdance run``: place N orders through one design and report how they ended and how fast.

The orders are a reproducible mix (:mod:`stepdance.order.workload`): declined cards, a scarce SKU that
runs out, and transient service failures that retries absorb. Everything runs on the embedded SQLite
default unless URLs say otherwise; a wrong URL or an unreachable server is one line naming it.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from stepdance.order import Faults, Order, workload
from stepdance.order.deployment import DeploymentError, open_design
from stepdance.order.run import RunResult, run_orders
from stepdance.settings import Settings


class DesignName(StrEnum):
    orchestrated = "orchestrated"
    choreographed = "choreographed"
    hybrid = "hybrid"
    workflows = "workflows"


Rate = Annotated[float, typer.Option(min=0.0, max=1.0)]


def run_cmd(
    design: Annotated[DesignName, typer.Option("--design", help="Which design runs the orders.")],
    orders: Annotated[int, typer.Option("--orders", min=1, max=1_000_000, help="How many orders.")] = 200,
    concurrency: Annotated[int, typer.Option(min=1, max=10_000, help="Orders in flight at once.")] = 64,
    store: Annotated[str | None, typer.Option(help="Engine store URL (STEPDANCE_STORE).")] = None,
    bus: Annotated[
        str | None,
        typer.Option(
            help="Bus transport URL (STEPDANCE_BUS); 'pubsub': through a Pub/Sub endpoint of the run's own."
        ),
    ] = None,
    catalog: Annotated[str | None, typer.Option(help="Bus catalog URL (STEPDANCE_CATALOG).")] = None,
    services: Annotated[str | None, typer.Option(help="Services' database URL (STEPDANCE_SERVICES).")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Where SQLite files go (STEPDANCE_DATA_DIR).")] = None,
    decline_rate: Rate = 0.05,
    out_of_stock_rate: Rate = 0.1,
    transient_rate: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of orders whose first call to each service fails.")
    ] = 0.05,
    seed: int = 7,
    here: Annotated[
        str | None,
        typer.Option(
            help="choreographed: the services served in this process (the rest run as `stepdance service`)."
        ),
    ] = None,
    worker: Annotated[
        bool,
        typer.Option(
            help="orchestrated/hybrid: advance executions here (--no-worker: `stepdance worker --saga` does)."
        ),
    ] = True,
    timeout: Annotated[float, typer.Option(min=1.0, help="Seconds to wait for every order.")] = 600.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Place orders through one design and print completed/cancelled counts, p50/p99 latency and orders/s."""
    console = Console(stderr=as_json)
    settings = Settings.from_env().with_urls(
        store=store, bus=bus, catalog=catalog, services=services, data_dir=data_dir
    )
    chosen = [s.strip() for s in here.split(",") if s.strip()] if here else None
    batch = workload.orders(
        orders,
        decline_rate=decline_rate,
        out_of_stock_rate=out_of_stock_rate,
        seed=seed,
        prefix=f"run-{uuid.uuid4().hex[:6]}",
    )
    faults = Faults(
        {"payment": transient_rate, "inventory": transient_rate, "notification": transient_rate}, seed=seed
    )
    try:
        result, expected = asyncio.run(
            _run(design.value, settings, batch, faults, concurrency, chosen, timeout, console, worker)
        )
    except DeploymentError as error:
        console.print(f"[red]error:[/] {error}")
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps({**result.to_json(), "expected": expected}))
    else:
        console.print(result_table(result, expected))
    if result.undecided:
        raise typer.Exit(1)


async def _run(
    name: str,
    settings: Settings,
    batch: list[Order],
    faults: Faults,
    concurrency: int,
    here: list[str] | None,
    seconds: float,
    console: Console,
    worker: bool = True,
) -> tuple[RunResult, dict[str, int]]:
    stock = workload.stock_for(batch)
    async with open_design(
        name,
        settings,
        faults=faults,
        here=here,
        prepare=lambda s: s.inventory.set_stock(stock),
        worker=worker,
    ) as running:
        console.print(
            f"[bold]{name}[/]: {len(batch)} orders, {concurrency} in flight, on {_where(running.where)}"
        )
        columns = (TextColumn(name), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True) as progress:
            bar = progress.add_task(name, total=len(batch))
            result = await run_orders(
                running.design,
                batch,
                concurrency=concurrency,
                timeout=seconds,
                progress=lambda done, _total: progress.update(bar, completed=done),
            )
    return result, workload.expected(batch, stock)


def _where(where: dict[str, str]) -> str:
    return ", ".join(f"{what} {url}" for what, url in where.items())


def result_table(result: RunResult, expected: dict[str, int] | None = None) -> Table:
    """One design's run as a table (what ``stepdance run`` prints)."""
    table = Table(title=f"{result.design}: {result.orders} orders, {result.concurrency} in flight")
    table.add_column("")
    table.add_column("value", justify="right")
    table.add_column("expected", justify="right")
    want = expected or {}
    table.add_row("completed", str(result.completed), str(want.get("completed", "")))
    table.add_row("cancelled", str(result.cancelled), str(want.get("cancelled", "")))
    table.add_row("undecided", str(result.undecided), "0")
    table.add_row("p50 latency", f"{result.p50 * 1000:.1f} ms", "")
    table.add_row("p99 latency", f"{result.p99 * 1000:.1f} ms", "")
    table.add_row("orders/s", f"{result.orders_per_second:.1f}", "")
    return table
