"""``stepdance triggers apply|list|delete``: Eventarc triggers on the bus the settings name (docs/gcp.md).

A trigger is kept in the bus catalog, so every process running that bus (``stepdance serve``, the designs, a
worker) delivers it. A file that cannot be read, a trigger Eventarc would refuse or a name that does not
exist is one line and exit 1; an unreachable store or bus, exit 2.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from stepdance.bus import Client as EventsClient
from stepdance.cli.recovery import AsJson, BusUrl, CatalogUrl, DataDir, on_bus
from stepdance.gcp.eventarc import Trigger, TriggerError, trigger_json
from stepdance.gcp.eventarc_file import TriggerFileError, read_triggers
from stepdance.gcp.eventarc_triggers import TriggerNotFound, Triggers

T = TypeVar("T")
triggers_app = typer.Typer(
    help="Eventarc triggers: events as CloudEvents to HTTP endpoints (apply, list, delete).",
    no_args_is_help=True,
)


def _on_triggers(
    data_dir: Path | None, bus: str | None, catalog: str | None, call: Callable[[Triggers], Awaitable[T]]
) -> T:
    def work(events: EventsClient) -> Awaitable[T]:
        return call(Triggers(events.bus))

    try:
        return on_bus(data_dir, bus, catalog, work)
    except (TriggerError, TriggerNotFound) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


def _table(triggers: list[Trigger], title: str) -> None:
    table = Table(title=title)
    for column in ("trigger", "event bus", "filters", "destination", "mode", "attempts", "dead-letter topic"):
        table.add_column(column, overflow="fold")
    for each in triggers:
        filters = ", ".join(f"{f.attribute}{' ~ ' if f.operator else ' = '}{f.value}" for f in each.filters)
        table.add_row(
            each.id,
            each.event_bus,
            filters,
            each.destination,
            each.content_mode,
            str(each.retry.max_attempts),
            each.dead_letter_topic or "",
        )
    Console(soft_wrap=True).print(table)


@triggers_app.command("apply")
def triggers_apply(
    file: Annotated[
        Path, typer.Argument(help="A JSON or YAML file: a trigger, a list, or {triggers: [...]}.")
    ],
    data_dir: DataDir = None,
    bus: BusUrl = None,
    catalog: CatalogUrl = None,
) -> None:
    """Create the file's triggers, replacing those of the same name; none is changed unless all are right."""
    try:
        documents, pointers = read_triggers(file)
    except TriggerFileError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None

    async def apply(triggers: Triggers) -> list[Trigger]:
        try:
            return await triggers.apply(documents, pointers)
        except TriggerError as error:
            raise TriggerError(f"{file}: {error.pointer}", error.reason) from None

    _table(_on_triggers(data_dir, bus, catalog, apply), f"{len(documents)} trigger(s) applied from {file}")


@triggers_app.command("list")
def triggers_list(
    data_dir: DataDir = None, bus: BusUrl = None, catalog: CatalogUrl = None, as_json: AsJson = False
) -> None:
    """Every trigger, on every event bus."""
    found = _on_triggers(data_dir, bus, catalog, lambda triggers: triggers.list_triggers())
    if as_json:
        typer.echo(json.dumps({"triggers": [trigger_json(t) for t in found]}, indent=2))
    else:
        _table(found, f"{len(found)} trigger(s)")


@triggers_app.command("delete")
def triggers_delete(
    name: Annotated[str, typer.Argument(help="The trigger's id or its projects/P/locations/L/triggers/ID.")],
    data_dir: DataDir = None,
    bus: BusUrl = None,
    catalog: CatalogUrl = None,
) -> None:
    """Delete a trigger: its rule and target leave the bus; dead letters already made stay."""
    deleted = _on_triggers(data_dir, bus, catalog, lambda triggers: triggers.delete(name))
    typer.echo(f"deleted trigger {deleted.name} (event bus {deleted.event_bus})")
