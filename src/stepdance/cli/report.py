"""``stepdance report --out DIR``: run the standard workload through the three designs and the failure
scenarios on each (or reuse the last run's ``report.json``), then write ``report.md``, a self-contained
``report.html`` and the figures: the designs' diagrams, throughput and latency, the failure and recovery
plan, how an order is traced, coupling and change impact, the decision matrix and the recommendation under
``--priorities``.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from stepdance.cli.logfile import LogFile
from stepdance.faults import Scenario, catalog
from stepdance.order.deployment import DeploymentError
from stepdance.report import render
from stepdance.report.decision import PriorityError, parse_priorities
from stepdance.report.gather import Gathered, gather
from stepdance.settings import Settings

QUICK = ("happy-path", "transient-payment-errors", "duplicate-events", "refund-failing-permanently")
SCENARIO_SETS = ("all", "quick", "none")


def report_cmd(
    out: Annotated[Path, typer.Option(help="Where report.md, report.html, report.json and figures/ go.")],
    priorities: Annotated[
        str | None,
        typer.Option(
            help="Weights over the defaults, e.g. audit=high,team-autonomy=low (none/low/medium/high)."
        ),
    ] = None,
    orders: Annotated[int, typer.Option(min=10, max=100_000, help="The standard workload's orders.")] = 300,
    scenarios: Annotated[str, typer.Option(help="all (the catalog), quick (four of it) or none.")] = "all",
    reuse: Annotated[
        bool, typer.Option(help="Write the report from OUT/report.json, running nothing.")
    ] = False,
    data_dir: Annotated[Path | None, typer.Option(help="Where the runs write (STEPDANCE_DATA_DIR).")] = None,
) -> None:
    """Compare the three designs and recommend one, from a run of them."""
    console = Console()
    try:
        weights = parse_priorities(priorities)
    except PriorityError as error:
        console.print(f"[red]error:[/] --priorities: {escape(str(error))}")
        raise typer.Exit(2) from None
    if scenarios not in SCENARIO_SETS:
        console.print(
            f"[red]error:[/] --scenarios is one of {', '.join(SCENARIO_SETS)}, not {escape(scenarios)!r}"
        )
        raise typer.Exit(2)
    saved = out / "report.json"
    if reuse:
        if not saved.exists():
            console.print(f"[red]error:[/] --reuse: {saved} does not exist (run once without --reuse)")
            raise typer.Exit(2)
        found = Gathered.from_json(json.loads(saved.read_text(encoding="utf-8")))
    else:
        settings = Settings.from_env().with_urls(data_dir=data_dir or out / "runs")
        try:
            found = run(settings, orders, chosen_scenarios(scenarios), console, out)
        except DeploymentError as error:
            console.print(f"[red]error:[/] {escape(str(error))}")
            raise typer.Exit(2) from None
    chosen = write(found, weights, out)
    console.print(f"wrote {out / 'report.md'} and {out / 'report.html'}")
    console.print(f"recommendation: [bold]{escape(chosen)}[/]")


def run(settings: Settings, orders: int, scenarios: list[Scenario], console: Console, out: Path) -> Gathered:
    """Gather what the report needs (the engine's and the bus's logs to ``out/report.log``), saved as
    ``out/report.json``."""
    out.mkdir(parents=True, exist_ok=True)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with LogFile(out / "report.log"):
        found = asyncio.run(_gather(settings, orders, scenarios, console))
    found.save(out / "report.json")
    return found


def chosen_scenarios(which: str) -> list[Scenario]:
    everything = catalog()
    if which == "none":
        return []
    return everything if which == "all" else [s for s in everything if s.name in QUICK]


def write(found: Gathered, priorities: dict[str, str], out: Path) -> str:
    """The report's files under ``out``; the recommendation in a line."""
    parts = render.parts(found, priorities)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    for part in parts:
        if isinstance(part, render.Figure):
            (out / "figures" / f"{part.name}.svg").write_text(part.svg, encoding="utf-8")
    (out / "report.md").write_text(render.markdown(parts), encoding="utf-8")
    (out / "report.html").write_text(render.page(parts), encoding="utf-8")
    return render.decide(found, priorities)[1].summary()


async def _gather(settings: Settings, orders: int, scenarios: list[Scenario], console: Console) -> Gathered:
    columns = (TextColumn("{task.description:>48}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        bars: dict[str, TaskID] = {}

        def advance(what: str, done: int, total: int) -> None:
            key = what.split(" /")[0] if what.startswith("scenario") else what
            if key not in bars:
                bars[key] = progress.add_task(what, total=total)
            progress.update(bars[key], completed=done, description=what)

        return await gather(settings, orders, scenarios, advance)
