"""Entry point: ``stepdance`` and its sub-commands. Each command lives in its own module."""

from __future__ import annotations

import typer

from stepdance.cli.conformance import conformance_app
from stepdance.cli.demo import demo_cmd
from stepdance.cli.diagram import diagram_cmd
from stepdance.cli.export import export_app
from stepdance.cli.recovery import dlq_app, executions_app, orders_app
from stepdance.cli.report import report_cmd
from stepdance.cli.run import run_cmd
from stepdance.cli.scenarios import scenarios_cmd
from stepdance.cli.serve import serve_cmd
from stepdance.cli.service import service_cmd
from stepdance.cli.trace import trace_cmd
from stepdance.cli.triggers import triggers_app
from stepdance.cli.validate import validate_cmd
from stepdance.cli.worker import worker_cmd

app = typer.Typer(
    name="stepdance",
    help="Orchestration versus choreography, measured: a durable ASL engine and an EventBridge-style bus.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def main() -> None:
    """stepdance: run, break and compare orchestrated and choreographed sagas."""


@app.command()
def version() -> None:
    """Print the version."""
    from stepdance import __version__

    typer.echo(__version__)


# Sub-commands register here, one line each.
app.command("validate")(validate_cmd)
app.add_typer(conformance_app, name="conformance")
app.command("worker")(worker_cmd)
app.command("demo")(demo_cmd)
app.command("run")(run_cmd)
app.command("service")(service_cmd)
app.command("scenarios")(scenarios_cmd)
app.add_typer(dlq_app, name="dlq")
app.add_typer(executions_app, name="executions")
app.add_typer(orders_app, name="orders")
app.command("trace")(trace_cmd)
app.command("diagram")(diagram_cmd)
app.command("report")(report_cmd)
app.command("serve")(serve_cmd)
app.add_typer(export_app, name="export")
app.add_typer(triggers_app, name="triggers")
