"""``stepdance validate FILE``: check a state machine definition as ValidateStateMachineDefinition does, or a
Google Cloud Workflows definition (``.yaml``/``.yml``, or JSON that is shaped like one), each problem with
its line and path.

Exit codes: 0 when the definition is valid (warnings allowed), 1 when it has errors, 2 when the file
cannot be read. ``format_*`` functions build the output; ``validate_cmd`` only reads and prints.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.text import Text

from stepdance.asl.definition import Problem
from stepdance.asl.validate import is_valid, validate_text
from stepdance.gcw.syntax import Problem as GcwProblem
from stepdance.gcw.syntax import looks_like_workflows
from stepdance.gcw.syntax import validate as validate_workflows

EXIT_INVALID = 1
EXIT_UNREADABLE = 2
WORKFLOWS_SUFFIXES = (".yaml", ".yml")  # ASL is JSON; a Workflows definition is YAML (or JSON, recognised)
# A JSON syntax error's location repeats the whole source (as AWS's parser prints it); only its line and
# column are worth showing in a terminal.
_SOURCE_LOCATION = re.compile(r"^\[Source: .*; (line: \d+, column: \d+)\]$", re.DOTALL)


def format_problem(problem: Problem) -> Text:
    """``CODE: message at /location``, the code coloured by severity."""
    style = "bold red" if problem.severity == "ERROR" else "bold yellow"
    text = Text()
    text.append(problem.code, style=style)
    text.append(f": {problem.message}")
    location = _SOURCE_LOCATION.sub(r"\1", problem.location) or "/"
    text.append(" at ")
    text.append(location, style="cyan")
    return text


def format_json(problems: list[Problem]) -> dict[str, Any]:
    """The diagnostics shaped like ValidateStateMachineDefinition's response."""
    diagnostics: list[dict[str, str]] = []
    for problem in problems:
        diagnostic = {"severity": problem.severity, "code": problem.code, "message": problem.message}
        if problem.location:
            diagnostic["location"] = problem.location
        diagnostics.append(diagnostic)
    return {"result": "OK" if is_valid(problems) else "FAIL", "diagnostics": diagnostics}


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        reason = "no such file"
    except IsADirectoryError:
        reason = "it is a directory"
    except PermissionError:
        reason = "permission denied"
    except UnicodeDecodeError:
        reason = "it is not UTF-8 text"
    except OSError as exc:
        reason = exc.strerror or str(exc)
    Console(stderr=True, highlight=False, soft_wrap=True).print(
        Text(f"Error: cannot read {path}: {reason}", style="red")
    )
    raise typer.Exit(EXIT_UNREADABLE)


def validate_cmd(
    file: Path = typer.Argument(
        ...,
        help="The definition to check: ASL JSON, or Cloud Workflows YAML/JSON.",
        show_default=False,
    ),
    as_json: bool = typer.Option(
        False,
        "--json",
        help="Print the diagnostics as JSON, shaped like ValidateStateMachineDefinition's response.",
    ),
) -> None:
    """Check a state machine definition (ASL JSON) or a Google Cloud Workflows definition (YAML or JSON)
    and print every problem found."""
    text = _read(file)
    console = Console(highlight=False, soft_wrap=True)
    if file.suffix.lower() in WORKFLOWS_SUFFIXES or looks_like_workflows(text):
        _validate_workflows(file, text, console, as_json=as_json)
        return
    problems = validate_text(text)
    if as_json:
        typer.echo(json.dumps(format_json(problems), indent=2))
    else:
        for problem in problems:
            console.print(format_problem(problem))
        if is_valid(problems):
            console.print(Text(f"OK: {file} is a valid state machine definition", style="green"))
    if not is_valid(problems):
        raise typer.Exit(EXIT_INVALID)


def format_workflows_problem(problem: GcwProblem) -> Text:
    """``line N: path: message [CODE]``, the line and code coloured."""
    text = Text()
    if problem.line is not None:
        text.append(f"line {problem.line}", style="cyan")
        text.append(": ")
    if problem.path:
        text.append(problem.path, style="cyan")
        text.append(": ")
    text.append(problem.message)
    text.append(" [")
    text.append(problem.code, style="bold red")
    text.append("]")
    return text


def _validate_workflows(file: Path, text: str, console: Console, *, as_json: bool) -> None:
    problems = validate_workflows(text, str(file))
    if as_json:
        shaped = [{"code": p.code, "message": p.message, "line": p.line, "path": p.path} for p in problems]
        typer.echo(json.dumps({"result": "FAIL" if problems else "OK", "problems": shaped}, indent=2))
    else:
        for problem in problems:
            console.print(format_workflows_problem(problem))
        if not problems:
            console.print(Text(f"OK: {file} is a valid Cloud Workflows definition", style="green"))
    if problems:
        raise typer.Exit(EXIT_INVALID)
