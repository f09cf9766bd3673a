"""``stepdance trace ORDER_ID``: the order's path across the services as its trace recorded it, one table
per design that ran it: when each span began (from the order's placement), how long it took, the component
(engine, bus, payment, inventory, notification, orders) and what failed. Reads the span files under the data
directory (every run's: a scenario run keeps its own directory below it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from stepdance import telemetry
from stepdance.cli.run import DesignName
from stepdance.observe import OrderTrace, order_traces
from stepdance.settings import Settings

COLOURS = {"engine": "cyan", "bus": "magenta", "orders": "green"}


def trace_cmd(
    order_id: Annotated[str, typer.Argument(help="The order's id.")],
    design: Annotated[DesignName | None, typer.Option(help="Only the trace of this design's run.")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Where the runs wrote (STEPDANCE_DATA_DIR).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the traces as JSON.")] = False,
) -> None:
    """Print an order's trace across the services, for any design."""
    settings = Settings.from_env().with_urls(data_dir=data_dir)
    console = Console()
    found = [
        t for t in order_traces(settings.data_dir, order_id) if design is None or t.design == design.value
    ]
    if not found:
        where = telemetry.otlp_endpoint()
        hint = (
            f"spans go to the OTLP endpoint {where}: look there"
            if where
            else "was the order placed with this data directory, and tracing on (STEPDANCE_TRACING)?"
        )
        console.print(
            f"[red]error:[/] no trace of order {escape(order_id)} under {settings.data_dir}: {hint}"
        )
        raise typer.Exit(1)
    if as_json:
        typer.echo(json.dumps([_json(t) for t in found], indent=2))
        return
    for trace in found:
        console.print(_table(trace))
        for line in _errors(trace):
            console.print(line, soft_wrap=True)


def _table(trace: OrderTrace) -> Table:
    """The spans as a tree, a row each; failed ones in red, their errors listed under the table (errors are
    long, and a terminal is 80 columns)."""
    failed = len(trace.errors)
    table = Table(
        title=f"order {escape(trace.order_id)}, {trace.design or 'unknown design'}: "
        f"{len(trace.rows)} spans in {trace.seconds * 1000:.1f} ms"
        + (f", [red]{failed} failed[/]" if failed else ""),
        caption=f"trace {trace.trace_id}",
    )
    table.add_column("at ms", justify="right", no_wrap=True)
    table.add_column("took ms", justify="right", no_wrap=True)
    table.add_column("component", no_wrap=True)
    table.add_column("span", overflow="fold")
    for row in trace.rows:
        colour = COLOURS.get(row.component, "yellow")
        name = "  " * row.depth + escape(row.name)
        table.add_row(
            f"{row.offset * 1000:.1f}",
            f"{row.seconds * 1000:.1f}",
            f"[{colour}]{escape(row.component)}[/]",
            f"[red]{name} ✗[/]" if row.error else name,
        )
    return table


def _errors(trace: OrderTrace) -> list[str]:
    return [
        f"[red]✗[/] {row.offset * 1000:.1f} ms {escape(row.name)}: {escape(row.error or '')}"
        for row in trace.errors
    ]


def _json(trace: OrderTrace) -> dict[str, object]:
    return {
        "orderId": trace.order_id,
        "traceId": trace.trace_id,
        "design": trace.design,
        "spans": [
            {
                "offsetMs": round(r.offset * 1000, 3),
                "durationMs": round(r.seconds * 1000, 3),
                "depth": r.depth,
                "component": r.component,
                "name": r.name,
                "error": r.error,
                "spanId": r.span_id,
                "parentSpanId": r.parent_id,
            }
            for r in trace.rows
        ],
    }
