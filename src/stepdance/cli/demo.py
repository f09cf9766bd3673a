"""``stepdance demo``: the order saga on the durable engine, on the embedded SQLite store by default.

Runs a batch of orders concurrently through the ASL definition in :mod:`stepdance.examples.order_saga`,
shows progress, then what happened: how each order ended, whether the services' data agrees (no money kept
without stock), the history of one compensated order, and the throughput.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from stepdance.engine import Client, Engine
from stepdance.examples.order_saga import DEFINITION, Services, orders, stock_for
from stepdance.settings import Settings
from stepdance.store import StoreError, open_store

ROLE = "arn:aws:iam::123456789012:role/stepdance-demo"


def demo_cmd(
    orders_count: Annotated[
        int, typer.Option("--orders", min=1, max=100_000, help="How many orders to run.")
    ] = 200,
    concurrency: Annotated[int, typer.Option(min=1, max=10_000, help="Executions in flight at once.")] = 64,
    store: Annotated[str | None, typer.Option(help="Store URL (default: STEPDANCE_STORE or SQLite).")] = None,
) -> None:
    """Run the order saga (payment, inventory, notification) on the durable engine and show the outcome."""
    console = Console()
    settings = Settings.from_env().with_store(store)
    try:
        opened = open_store(settings.store)
    except StoreError as exc:
        console.print(f"[red]error:[/] cannot open the store {settings.store}: {exc}")
        raise typer.Exit(2) from None
    console.print(f"[bold]stepdance demo[/]: {orders_count} orders on [cyan]{settings.store}[/]")
    try:
        result = asyncio.run(_run(opened, settings, orders_count, concurrency, console))
    finally:
        opened.close()
    _report(console, result)
    if not result["consistent"]:
        raise typer.Exit(1)


async def _run(
    store: Any, settings: Settings, count: int, concurrency: int, console: Console
) -> dict[str, Any]:
    batch = orders(count)
    services = Services(stock=stock_for(count))
    async with Engine(store, settings) as engine:
        services.register(engine)
        client = Client(engine)
        machine = await client.create_state_machine(
            name="demo-order-saga", definition=DEFINITION, roleArn=ROLE
        )
        run_id = uuid.uuid4().hex[:8]
        gate = asyncio.Semaphore(concurrency)
        outcomes: dict[str, dict[str, Any]] = {}
        columns = (TextColumn("orders"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        began = time.perf_counter()
        with Progress(*columns, console=console, transient=True) as progress:
            bar = progress.add_task("orders", total=count)

            async def one(order: dict[str, Any]) -> None:
                async with gate:
                    started = await client.start_execution(
                        stateMachineArn=machine["stateMachineArn"],
                        name=f"{order['orderId']}-{run_id}",
                        input=json.dumps(order),
                    )
                    await engine.wait(started["executionArn"])
                    outcomes[order["orderId"]] = await client.describe_execution(
                        executionArn=started["executionArn"]
                    )
                    progress.advance(bar)

            await asyncio.gather(*(one(order) for order in batch))
        elapsed = time.perf_counter() - began
        example = next((o for o in outcomes.values() if o.get("error") == "OrderCancelled"), None)
        history = []
        if example is not None:
            page = await client.get_execution_history(executionArn=example["executionArn"], maxResults=100)
            history = page["events"]
    return {
        "outcomes": outcomes,
        "services": services,
        "elapsed": elapsed,
        "example": example,
        "history": history,
        "consistent": _consistent(services, outcomes),
    }


def _consistent(services: Services, outcomes: dict[str, dict[str, Any]]) -> bool:
    """No money kept without stock, no stock held without money, every completed order notified."""
    for order, outcome in outcomes.items():
        paid = order in services.charges and order not in services.refunds
        reserved = order in services.reservations
        if outcome["status"] == "SUCCEEDED" and not (
            paid and reserved and f"{order}:confirmed" in services.sent
        ):
            return False
        if outcome["status"] == "FAILED" and (paid or reserved):
            return False
    return True


def _ending(outcome: dict[str, Any]) -> str:
    if outcome["status"] == "SUCCEEDED":
        return "completed"
    return {
        "OrderCancelled": "cancelled: out of stock, refunded",
        "PaymentDeclined": "cancelled: payment declined",
    }.get(outcome.get("error", ""), f"{outcome['status'].lower()}: {outcome.get('error')}")


def _report(console: Console, result: dict[str, Any]) -> None:
    outcomes = result["outcomes"]
    endings = Counter(_ending(o) for o in outcomes.values())
    table = Table(title="How the orders ended")
    table.add_column("ending")
    table.add_column("orders", justify="right")
    for ending, n in endings.most_common():
        table.add_row(ending, str(n))
    console.print(table)
    services: Services = result["services"]
    retried = sum(1 for n in services.attempts.values() if n > 1)
    console.print(
        f"charges kept: {len(services.charges) - len(services.refunds)}, refunds: {len(services.refunds)}, "
        f"reservations: {len(services.reservations)}, notifications: {len(services.sent)}, "
        f"charges retried after a gateway error: {retried}"
    )
    verdict = "[green]consistent[/]" if result["consistent"] else "[red]INCONSISTENT[/]"
    console.print(f"services' data: {verdict} (no money kept without stock, no stock without money)")
    if result["history"]:
        events = Table(title=f"History of {result['example']['name']} (compensated)")
        for column in ("id", "prev", "type", "detail"):
            events.add_column(column)
        for event in result["history"]:
            events.add_row(str(event["id"]), str(event["previousEventId"]), event["type"], _detail(event))
        console.print(events)
    rate = len(outcomes) / result["elapsed"] if result["elapsed"] else 0.0
    console.print(
        f"{len(outcomes)} orders in {result['elapsed']:.2f} s: {rate:.0f} executions/s, durably committed"
    )


def _detail(event: dict[str, Any]) -> str:
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            shown = value.get("name") or value.get("error") or value.get("resource") or ""
            cause = value.get("cause")
            return f"{shown} {cause}" if cause else str(shown)
    return ""
