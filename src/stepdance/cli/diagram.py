"""``stepdance diagram --design D``: the design drawn from what it runs. Its architecture, its state machine
(from the ASL it executes) and its event flow (its rules' patterns matched against the events published);
with ``--order ID`` also that order's sequence and timeline (from its trace) and the path its execution
took through the state machine, failures marked; with ``--execution ARN`` the path of that execution.
Mermaid text (GitHub renders it) or SVG drawn here, offline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from stepdance.cli.recovery import on_engine
from stepdance.cli.run import DesignName
from stepdance.diagrams import designs, order, svg
from stepdance.diagrams.graph import Graph
from stepdance.diagrams.statemachine import with_path
from stepdance.diagrams.workflows import with_entries
from stepdance.engine.arns import execution_of, make
from stepdance.observe import order_traces
from stepdance.order.designs.hybrid import Hybrid
from stepdance.order.designs.orchestrated import Orchestrated
from stepdance.order.designs.workflows_saga import WorkflowsSaga
from stepdance.settings import Settings

FORMATS = ("mermaid", "svg")
MACHINES = {
    "orchestrated": Orchestrated.machine_name,
    "hybrid": Hybrid.machine_name,
    "workflows": WorkflowsSaga.machine_name,
}


def diagram_cmd(
    design: Annotated[DesignName, typer.Option(help="Which design to draw.")],
    format: Annotated[str, typer.Option("--format", help="mermaid or svg.")] = "mermaid",
    execution: Annotated[str | None, typer.Option(help="Mark this execution's path (its ARN).")] = None,
    order_id: Annotated[
        str | None, typer.Option("--order", help="Add this order's sequence and timeline, and its path.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write one file per diagram here (svg needs it).")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Where the runs wrote (STEPDANCE_DATA_DIR).")] = None,
) -> None:
    """Draw a design's architecture, state machine and event flow; an order's sequence and timeline."""
    console = Console(stderr=True)
    if format not in FORMATS:
        console.print(f"[red]error:[/] --format is mermaid or svg, not {escape(format)!r}")
        raise typer.Exit(2)
    if format == "svg" and out is None:
        console.print("[red]error:[/] --format svg writes files: give --out DIR")
        raise typer.Exit(2)
    if execution is not None and order_id is not None:
        console.print("[red]error:[/] give --execution or --order, not both")
        raise typer.Exit(2)
    name = design.value
    if execution is not None and name == "choreographed":
        console.print("[red]error:[/] the choreographed design has no executions: use --order ID")
        raise typer.Exit(2)
    settings = Settings.from_env().with_urls(data_dir=data_dir)
    drawn: dict[str, Graph | str] = {"architecture": designs.architecture(name)}
    if name != "choreographed":
        states = designs.states(name)
        arn = execution or (
            execution_of(make(settings, "stateMachine", MACHINES[name]), order_id) if order_id else None
        )
        if arn is not None:
            history = _history(settings, arn)
            states = (
                with_entries(states, history) if name in designs.WORKFLOWS else with_path(states, history)
            )
        drawn["states"] = states
    if name in ("choreographed", "hybrid"):
        drawn["events"] = designs.events(name)
    if order_id is not None:
        traces = [t for t in order_traces(settings.data_dir, order_id) if t.design == name]
        if not traces:
            console.print(
                f"[red]error:[/] no trace of order {escape(order_id)} run by the {name} design under "
                f"{settings.data_dir}"
            )
            raise typer.Exit(1)
        trace = traces[-1]
        drawn["sequence"] = order.sequence_svg(trace) if format == "svg" else order.sequence_mermaid(trace)
        drawn["timeline"] = order.timeline_svg(trace) if format == "svg" else order.timeline_mermaid(trace)
    texts = {what: _text(diagram, format) for what, diagram in drawn.items()}
    if out is None:
        typer.echo("\n".join(f"%% {what}\n{text}" for what, text in texts.items()))
        return
    out.mkdir(parents=True, exist_ok=True)
    suffix = "svg" if format == "svg" else "mmd"
    for what, text in texts.items():
        path = out / f"{name}-{what}.{suffix}"
        path.write_text(text, encoding="utf-8")
        console.print(f"wrote {path}")


def _text(diagram: Graph | str, format: str) -> str:
    if isinstance(diagram, str):
        return diagram
    return svg.graph_svg(diagram) if format == "svg" else diagram.to_mermaid()


def _history(settings: Settings, arn: str) -> list[dict[str, Any]]:
    async def events(client: Any) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        token = None
        while True:
            page = await client.get_execution_history(executionArn=arn, nextToken=token, maxResults=1000)
            found += page["events"]
            token = page.get("nextToken")
            if not token:
                return found

    return on_engine(settings.data_dir, None, events)
