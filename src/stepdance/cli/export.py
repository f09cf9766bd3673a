"""``stepdance export aws --design D --out DIR``: each design as an AWS SAM template (``DIR/<design>/
template.yaml``) and the handler code of its Lambda functions (``DIR/<design>/functions/``), computed from
the definitions and subscriptions the design runs. See ``docs/export-aws.md``.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from stepdance.export import DESIGNS, ExportError, PlanError, Written, write

export_app = typer.Typer(
    help="Export the designs to run on a cloud: AWS SAM templates.", no_args_is_help=True
)


class ExportDesign(StrEnum):
    orchestrated = "orchestrated"
    choreographed = "choreographed"
    hybrid = "hybrid"
    all = "all"


@export_app.command("aws")
def aws_cmd(
    out: Annotated[Path, typer.Option("--out", help="Directory to write <design>/template.yaml under.")],
    design: Annotated[
        ExportDesign, typer.Option("--design", help="Which design to export; all: the three.")
    ] = ExportDesign.all,
) -> None:
    """Write an AWS SAM template per design: Step Functions, Lambda, EventBridge, SQS dead-letter queues."""
    console = Console(soft_wrap=True)  # commands to copy: never broken across lines
    errors = Console(stderr=True, soft_wrap=True)
    blocking = _file_in_the_way(out)
    if blocking is not None:
        where = "is a file" if blocking == out else f"is under {escape(str(blocking))}, a file"
        errors.print(f"[red]error:[/] --out {escape(str(out))} {where}: give a directory")
        raise typer.Exit(2)
    chosen = DESIGNS if design is ExportDesign.all else (design.value,)
    try:
        written = [write(name, out) for name in chosen]
    except (ExportError, PlanError) as error:
        errors.print(f"[red]error:[/] {escape(str(error))}")
        raise typer.Exit(1) from None
    for done in written:
        _print_written(console, done)
    console.print(
        "\nThe functions need the stepdance package (functions/requirements.txt) and a PostgreSQL server "
        "reachable from Lambda: see docs/export-aws.md."
    )


def _file_in_the_way(out: Path) -> Path | None:
    """``out``, or the nearest of its parents that exists, when that is not a directory."""
    for path in (out, *out.parents):
        if path.exists():
            return None if path.is_dir() else path
    return None


def _print_written(console: Console, done: Written) -> None:
    console.print(f"[bold]{done.design}[/]: wrote {escape(str(done.template))}")
    console.print(
        f"  and {len(done.functions)} files under {escape(str(done.template.parent / 'functions'))}"
    )
    # built in the design's directory, so the designs' builds (.aws-sam/) do not overwrite each other
    console.print(
        f"  deploy: [cyan]cd {escape(str(done.template.parent))} && sam build && "
        "sam deploy --guided --template-file .aws-sam/build/template.yaml[/]"
    )
