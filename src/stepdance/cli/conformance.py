"""``stepdance conformance asl --cases DIR``: run the AWS-recorded corpus and report what passes.

Every command of this group has the same contract: a table by area, a total line per kind of case, then the
first failures with their differences; ``--json`` prints exactly one JSON object instead
(``{"passed", "failed", "total", "failing", "by_area", <kind>: {...}}``). The exit code is 0 whatever the pass
rate (it is a report) and 2 when the cases folder cannot be read. ``format_*`` build output, the commands
read and print.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from stepdance.conformance.patterns import load_pattern_folder, run_pattern_cases
from stepdance.conformance.results import SECTION_TITLES, Outcome, Report, Tally, tally
from stepdance.conformance.runner import OnOutcome, load_folder, run_cases

EXIT_UNREADABLE = 2
MAX_LINES_PER_FAILURE = 25

conformance_app = typer.Typer(
    name="conformance",
    help="Measure the engine against the conformance corpus recorded on AWS.",
    no_args_is_help=True,
)

CasesOption = Annotated[
    Path, typer.Option("--cases", help="Folder of case files (searched recursively).", show_default=False)
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")]
OnlyOption = Annotated[
    str | None, typer.Option("--only", help="Run only the cases whose id contains this text.")
]
ShowFailuresOption = Annotated[
    int, typer.Option("--show-failures", min=0, help="How many failures to print with their differences.")
]


@conformance_app.command("asl")
def asl(
    cases: CasesOption,
    json_output: JsonOption = False,
    only: OnlyOption = None,
    show_failures: ShowFailuresOption = 10,
) -> None:
    """Run ASL execution cases and Choice-operator pairs on the in-memory driver and compare them with AWS."""
    try:
        loaded = load_folder(cases, only)
    except OSError as exc:
        _exit_unreadable(cases, exc)
    with progress_callback(loaded.units, enabled=not json_output) as on_outcome:
        report = run_cases(loaded.cases, on_outcome)
    report.unreadable = loaded.unreadable
    emit(report, json_output=json_output, show_failures=show_failures)


@conformance_app.command("patterns")
def patterns(
    cases: CasesOption,
    json_output: JsonOption = False,
    only: OnlyOption = None,
    show_failures: ShowFailuresOption = 10,
) -> None:
    """Run event-pattern cases through the pattern matcher (TestEventPattern's checks) and compare with AWS.

    The table groups cases by the outcome AWS gave (match, no_match, invalid); an invalid pattern passes only
    with AWS's error message."""
    try:
        loaded = load_pattern_folder(cases, only)
    except OSError as exc:
        _exit_unreadable(cases, exc)
    with progress_callback(len(loaded.cases), enabled=not json_output) as on_outcome:
        report = run_pattern_cases(loaded.cases, on_outcome)
    report.unreadable = loaded.unreadable
    emit(report, json_output=json_output, show_failures=show_failures, grouped_by="expected outcome")


def _exit_unreadable(folder: Path, exc: OSError) -> NoReturn:
    reason = "no such folder" if not folder.exists() else exc.strerror or str(exc)
    typer.echo(f"error: cannot read cases folder {folder}: {reason}", err=True)
    raise typer.Exit(EXIT_UNREADABLE)


# --------------------------------------------------------------------------- shared by the group's commands


@contextmanager
def progress_callback(total: int, *, enabled: bool) -> Iterator[OnOutcome | None]:
    """A progress bar on stderr while cases run, only when stderr is a terminal and ``enabled``."""
    if not (enabled and sys.stderr.isatty()):
        yield None
        return
    columns = (TextColumn("conformance"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("cases", total=total)
        yield lambda outcome: progress.advance(task)


def emit(report: Report, *, json_output: bool, show_failures: int, grouped_by: str = "area") -> None:
    if json_output:
        typer.echo(json.dumps(report.to_json()))
        return
    console = Console(highlight=False)
    console.print(format_table(report, grouped_by))
    # soft wrap: long ids and differences stay on one line, so they can be searched for and copied
    for line in format_totals(report) + format_unreadable(report):
        console.print(line, soft_wrap=True)
    for line in format_failures(report.failures[:show_failures]):
        console.print(line, soft_wrap=True)


def format_table(report: Report, grouped_by: str = "area") -> Table:
    """One row per area (for pattern cases the ``area`` is the outcome AWS gave)."""
    table = Table(title=f"Conformance by {grouped_by}", title_justify="left")
    for name, justify in ((grouped_by, "left"), ("passed", "right"), ("failed", "right"), ("total", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    table.add_column("rate", justify="right")
    for area, counts in report.by_area().items():
        table.add_row(
            Text(area), str(counts.passed), _failed(counts), str(counts.total), f"{counts.rate:.1f}%"
        )
    return table


def _failed(counts: Tally) -> Text:
    return Text(str(counts.failed), style="red" if counts.failed else "")


def format_totals(report: Report) -> list[Text]:
    """``ASL executions: 280/295 passed (94.9%)`` per kind of case run."""
    lines = []
    for name, outcomes in report.sections().items():
        counts = tally(outcomes)
        style = "bold green" if counts.failed == 0 else "bold"
        lines.append(
            Text(
                f"{SECTION_TITLES[name]}: {counts.passed}/{counts.total} passed ({counts.rate:.1f}%)",
                style=style,
            )
        )
    return lines


def format_unreadable(report: Report) -> list[Text]:
    return [Text(f"unreadable: {u.path}: {u.problem}", style="yellow") for u in report.unreadable]


def format_failures(failures: list[Outcome]) -> list[Text]:
    lines: list[Text] = []
    for outcome in failures:
        lines.append(Text(f"\nFAIL {outcome.id}", style="bold red"))
        shown = outcome.differences[:MAX_LINES_PER_FAILURE]
        lines.extend(Text(f"  {difference}") for difference in shown)
        if len(outcome.differences) > len(shown):
            lines.append(Text(f"  ... {len(outcome.differences) - len(shown)} more"))
    return lines
