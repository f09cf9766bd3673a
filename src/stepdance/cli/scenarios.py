"""``stepdance scenarios``: run the failure scenarios (the shipped catalog, or the files given) on each design
and print a matrix, scenario by design: the outcome, the invariants, the time to recover, the retries and
the messages sent. Every file is read and checked before anything runs; a bad one is one line naming the
file, the line and the field. Exits 1 when any run breaks an invariant or misses its expectations.

The faults make the engine and the bus log (a store unavailable, a handler failing): that goes to
``<data dir>/scenarios.log``, not over the progress bars; the end of the run says how many warnings it holds.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import platform
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from stepdance.cli.logfile import LogFile
from stepdance.cli.run import DesignName
from stepdance.faults import Scenario, ScenarioError, catalog_files, load_scenario
from stepdance.faults.plan_doc import plan
from stepdance.faults.runner import Outcome, run_scenario
from stepdance.order.deployment import DeploymentError
from stepdance.settings import Settings


def scenarios_cmd(
    files: Annotated[
        list[Path] | None, typer.Argument(help="Scenario YAML files (default: the shipped catalog).")
    ] = None,
    design: Annotated[
        DesignName | None, typer.Option("--design", help="Run only this design (default: each scenario's).")
    ] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Where runs write (STEPDANCE_DATA_DIR).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as one JSON object.")] = False,
    doc: Annotated[
        Path | None,
        typer.Option("--doc", help="Also write the failure and recovery plan (Markdown) to this file."),
    ] = None,
) -> None:
    """Run failure scenarios on the designs and check the invariants from the services' data."""
    console = Console(stderr=as_json)
    try:
        chosen = [load_scenario(path) for path in (files or catalog_files())]
    except ScenarioError as error:
        console.print(f"[red]error:[/] {escape(str(error))}", soft_wrap=True)
        raise typer.Exit(2) from None
    runs = [(s, d) for s in chosen for d in s.designs if design is None or d == design.value]
    if not runs:
        console.print(f"[red]error:[/] no scenario runs the {design.value if design else ''} design")
        raise typer.Exit(2)
    settings = Settings.from_env().with_urls(data_dir=data_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log = LogFile(settings.data_dir / "scenarios.log")
    try:
        with log:
            outcomes = asyncio.run(_run_all(runs, settings, console))
    except DeploymentError as error:
        console.print(f"[red]error:[/] {escape(str(error))}", soft_wrap=True)
        raise typer.Exit(2) from None
    if log.warnings:
        console.print(f"{log.warnings} warnings from the engine and the bus while faults struck: {log.path}")
    if as_json:
        passed = all(o.passed or o.skipped for o in outcomes)
        typer.echo(json.dumps({"passed": passed, "runs": [o.to_json() for o in outcomes]}))
    else:
        console.print(matrix(outcomes))
        for outcome in outcomes:
            for problem in [*map(str, outcome.violations), *outcome.mismatches][:5]:
                console.print(f"[red]{outcome.scenario} / {outcome.design}:[/] {escape(problem)}")
    if doc is not None:
        when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
        machine = f"{os.cpu_count()} CPUs, {platform.system()} {platform.machine()}, Python {platform.python_version()}"
        doc.write_text(plan(chosen, outcomes, when=when, machine=machine), encoding="utf-8")
        console.print(f"wrote {doc}")
    if not all(o.passed or o.skipped for o in outcomes):
        raise typer.Exit(1)


async def _run_all(runs: list[tuple[Scenario, str]], settings: Settings, console: Console) -> list[Outcome]:
    outcomes: list[Outcome] = []
    columns = (TextColumn("{task.description:>40}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        overall = progress.add_task("scenarios", total=len(runs))
        for scenario, design in runs:
            bar = progress.add_task(f"{scenario.name} / {design}", total=scenario.workload.orders)
            outcomes.append(await run_scenario(scenario, design, settings, progress=_updating(progress, bar)))
            progress.remove_task(bar)
            progress.advance(overall)
    return outcomes


def _updating(progress: Progress, bar: TaskID) -> Callable[[int, int], None]:
    return lambda done, _total: progress.update(bar, completed=done)


def matrix(outcomes: list[Outcome]) -> Table:
    """Scenario by design; each cell: outcome, invariants, time to recover, retries, messages."""
    designs = list(dict.fromkeys(o.design for o in outcomes))
    table = Table(
        title="failure scenarios",
        caption="outcome completed/cancelled/for a person; invariants; time from the first fault to the "
        "last order it struck settled; retries; messages sent (and handed to the channel again)",
        show_lines=True,
    )
    table.add_column("scenario", no_wrap=True)
    for name in designs:
        table.add_column(name)
    by_scenario: dict[str, dict[str, Outcome]] = {}
    for outcome in outcomes:
        by_scenario.setdefault(outcome.scenario, {})[outcome.design] = outcome
    for scenario, cells in by_scenario.items():
        table.add_row(scenario, *[_cell(cells[d]) if d in cells else "" for d in designs])
    return table


def _cell(o: Outcome) -> str:
    if o.skipped:
        return f"[yellow]skipped[/]: {escape(o.skipped)}"
    verdict = "[green]pass[/]" if o.passed else "[red]FAIL[/]"
    invariants = "invariants hold" if not o.violations else f"[red]{len(o.violations)} broken[/]"
    recover = (
        f"{o.recover_seconds:.1f} s"
        if o.recover_seconds is not None
        else "by a person"
        if o.intervention
        else "-"
    )
    return (
        f"{verdict} {o.completed}/{o.cancelled}/{len(o.intervention)}\n{invariants}\n"
        f"recover {recover}\n{o.retries} retries\n{o.messages} messages"
        + (f" [yellow]({o.resent} resent)[/]" if o.resent else "")
    )
