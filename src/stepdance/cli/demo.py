"""``stepdance demo``: the order saga in its four designs, side by side, on the embedded default.

The same workload (declined cards, a scarce SKU, transient service failures) runs through the orchestrated,
the choreographed, the hybrid and the Cloud Workflows design, each on SQLite files of its own under ``<data dir>/demo/<design>``
(engine store, bus log and catalog, one database per service). Then a table compares how the orders ended
with what the workload must give, the latencies and the rate, and whether the services' own data agrees
(:mod:`stepdance.order.audit`); and the paths of what it wrote.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from stepdance.cli import report as report_cli
from stepdance.order import Faults, FileChannel, Order, workload
from stepdance.order.audit import all_notified, audit
from stepdance.order.deployment import DESIGN_NAMES, DeploymentError, open_design
from stepdance.order.run import RunResult, run_orders
from stepdance.report.decision import parse_priorities
from stepdance.settings import Settings

NOTIFY_SECONDS = 60.0  # messages go out after the decision: how long to wait for the last ones
POLL_SECONDS = 0.05


def demo_cmd(
    orders_count: Annotated[
        int, typer.Option("--orders", min=1, max=100_000, help="Orders per design.")
    ] = 300,
    concurrency: Annotated[int, typer.Option(min=1, max=10_000, help="Orders in flight at once.")] = 64,
    data_dir: Annotated[
        Path | None, typer.Option(help="Where it writes (STEPDANCE_DATA_DIR, default .stepdance).")
    ] = None,
    seed: int = 7,
    report: Annotated[
        str,
        typer.Option("--report", help="The report's scenarios at the end: quick, all or none (no report)."),
    ] = "quick",
) -> None:
    """Run the order saga orchestrated, choreographed and hybrid on the same workload and compare them."""
    console = Console()
    if report not in report_cli.SCENARIO_SETS:
        console.print(
            f"[red]error:[/] --report is one of {', '.join(report_cli.SCENARIO_SETS)}, not {report!r}"
        )
        raise typer.Exit(2)
    settings = Settings.from_env().with_urls(data_dir=data_dir)
    root = (settings.data_dir / "demo").resolve()
    console.print(
        f"[bold]stepdance demo[/]: {orders_count} orders through each design, {concurrency} in flight, "
        f"on SQLite under [cyan]{root}[/]"
    )
    try:
        rows = asyncio.run(_run_all(root, settings, orders_count, concurrency, seed, console))
    except DeploymentError as error:
        console.print(f"[red]error:[/] {error}")
        raise typer.Exit(2) from None
    console.print(comparison(rows))
    for row in rows:
        for problem in row["problems"][:5]:
            console.print(f"[red]{row['result'].design}:[/] {problem}")
    console.print(
        f"wrote: {root}/<design>/ (engine.db, bus.db, catalog.db, one .db per service, messages.jsonl)"
    )
    if any(row["problems"] or row["result"].undecided for row in rows):
        raise typer.Exit(1)
    if report != "none":
        _report(settings, orders_count, report, console)


def _report(settings: Settings, orders: int, scenarios: str, console: Console) -> None:
    """The comparison report, from a run of its own (workload and scenarios), and its recommendation."""
    out = (settings.data_dir / "report").resolve()
    console.print(f"[bold]the report[/]: the workload measured again for it, and the {scenarios} scenarios")
    try:
        found = report_cli.run(
            replace(settings, data_dir=out / "runs"),
            orders,
            report_cli.chosen_scenarios(scenarios),
            console,
            out,
        )
    except DeploymentError as error:
        console.print(f"[red]error:[/] {error}")
        raise typer.Exit(2) from None
    chosen = report_cli.write(found, parse_priorities(None), out)
    console.print(f"report: [cyan]{out / 'report.html'}[/] (and report.md)")
    console.print(f"recommendation with the default priorities: [bold]{chosen}[/]")
    console.print("  other priorities: stepdance report --reuse --out " + f"{out} --priorities audit=low,...")


async def _run_all(
    root: Path, settings: Settings, count: int, concurrency: int, seed: int, console: Console
) -> list[dict[str, Any]]:
    rows = []
    columns = (TextColumn("{task.description:>13}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        for name in DESIGN_NAMES:
            bar = progress.add_task(name, total=count)
            rows.append(await _run_one(name, root / name, settings, count, concurrency, seed, progress, bar))
    return rows


async def _run_one(
    name: str,
    where: Path,
    settings: Settings,
    count: int,
    concurrency: int,
    seed: int,
    progress: Progress,
    bar: Any,
) -> dict[str, Any]:
    batch: list[Order] = workload.orders(
        count, decline_rate=0.05, out_of_stock_rate=0.1, seed=seed, prefix=f"demo-{uuid.uuid4().hex[:6]}"
    )
    stock = workload.stock_for(batch)
    faults = Faults({"payment": 0.05, "inventory": 0.05, "notification": 0.05}, seed=seed)
    channel = FileChannel(where / "messages.jsonl")
    local = replace(settings, data_dir=where, store_url="", bus_url="", catalog_url="", services_url="")
    async with open_design(
        name, local, faults=faults, channel=channel, prepare=lambda s: s.inventory.set_stock(stock)
    ) as running:
        result = await run_orders(
            running.design,
            batch,
            concurrency=concurrency,
            progress=lambda done, _total: progress.update(bar, completed=done),
        )
        await _notified(running.services, batch)
        problems = await asyncio.to_thread(audit, running.services, batch, stock, channel)
    return {"result": result, "expected": workload.expected(batch, stock), "problems": problems}


async def _notified(services: Any, batch: list[Order]) -> None:
    """Until every order had its message, or NOTIFY_SECONDS passed (the audit then names who did not)."""
    for _ in range(int(NOTIFY_SECONDS / POLL_SECONDS)):
        if await asyncio.to_thread(all_notified, services, batch):
            return
        await asyncio.sleep(POLL_SECONDS)


def comparison(rows: list[dict[str, Any]]) -> Table:
    """The designs side by side: how the orders ended against what the workload must give, speed, audit."""
    table = Table(title="The order saga, four ways, same workload")
    table.add_column("")
    for row in rows:
        table.add_column(row["result"].design, justify="right")
    results: list[RunResult] = [row["result"] for row in rows]

    def line(label: str, values: list[str]) -> None:
        table.add_row(label, *values)

    line(
        "completed",
        [f"{r.completed} / {row['expected']['completed']}" for r, row in zip(results, rows, strict=True)],
    )
    line(
        "cancelled",
        [f"{r.cancelled} / {row['expected']['cancelled']}" for r, row in zip(results, rows, strict=True)],
    )
    line("undecided", [str(r.undecided) for r in results])
    line("p50 latency", [f"{r.p50 * 1000:.0f} ms" for r in results])
    line("p99 latency", [f"{r.p99 * 1000:.0f} ms" for r in results])
    line("orders/s", [f"{r.orders_per_second:.0f}" for r in results])
    line(
        "services' data",
        [
            "[green]consistent[/]" if not row["problems"] else f"[red]{len(row['problems'])} problems[/]"
            for row in rows
        ],
    )
    return table
