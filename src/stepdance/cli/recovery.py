"""The recovery tools the failure plan relies on, for a person at a terminal:

- ``stepdance dlq list|show|redrive``: the bus's dead letters (the event, the target, the error, the
  attempts) and sending them back to their targets;
- ``stepdance executions list|describe|redrive|stop``: the engine's executions, redriving a failed one from
  the state where it stopped (a worker running on the same store then carries it on);
- ``stepdance orders show ID``: one order's whole path, from the services' own data, its execution's
  history and its dead letters, on one timeline.

Each reads the same ``STEPDANCE_*`` settings (or flags) as the designs, so it looks at what a run wrote.
A name that does not exist is one line and exit 1; an unreachable store or bus, exit 2.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from stepdance.awserror import AwsError
from stepdance.bus import Client as EventsClient
from stepdance.engine import Client, Engine
from stepdance.faults.timeline import order_timeline
from stepdance.order.deployment import DeploymentError, check_reachable, open_bus
from stepdance.order.designs.base import open_services
from stepdance.settings import Settings
from stepdance.store import StoreError, open_store

T = TypeVar("T")

dlq_app = typer.Typer(help="The bus's dead-letter queue: list, show, redrive.", no_args_is_help=True)
executions_app = typer.Typer(
    help="The engine's executions: list, describe, redrive, stop.", no_args_is_help=True
)
orders_app = typer.Typer(help="Orders: one order's whole path across the services.", no_args_is_help=True)

DataDir = Annotated[Path | None, typer.Option(help="Where SQLite files are (STEPDANCE_DATA_DIR).")]
StoreUrl = Annotated[str | None, typer.Option("--store", help="Engine store URL (STEPDANCE_STORE).")]
BusUrl = Annotated[str | None, typer.Option("--bus", help="Bus transport URL (STEPDANCE_BUS).")]
CatalogUrl = Annotated[str | None, typer.Option("--catalog", help="Bus catalog URL (STEPDANCE_CATALOG).")]
ServicesUrl = Annotated[
    str | None, typer.Option("--services", help="Services' database URL (STEPDANCE_SERVICES).")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _settings(
    data_dir: Path | None = None,
    store: str | None = None,
    bus: str | None = None,
    catalog: str | None = None,
    services: str | None = None,
) -> Settings:
    return Settings.from_env().with_urls(
        data_dir=data_dir, store=store, bus=bus, catalog=catalog, services=services
    )


def _run(work: Callable[[], Awaitable[T]]) -> T:
    """``work`` run; a missing name exits 1, an unreachable server 2, each as one line."""
    try:
        return asyncio.run(work())  # type: ignore[arg-type]
    except AwsError as error:
        typer.echo(f"error: {error.code}: {error.message}", err=True)
        raise typer.Exit(1) from None
    except (DeploymentError, StoreError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None


@asynccontextmanager
async def _events(settings: Settings) -> AsyncIterator[EventsClient]:
    await check_reachable([("the bus catalog", settings.catalog), ("the bus", settings.bus)])
    async with AsyncExitStack() as stack:
        yield EventsClient(open_bus(settings, stack))


@asynccontextmanager
async def _executions(settings: Settings) -> AsyncIterator[Client]:
    await check_reachable([("the engine store", settings.store)])
    store = open_store(settings.store)
    try:
        yield Client(Engine(store, settings, worker=False))
    finally:
        store.close()


def on_engine(data_dir: Path | None, store: str | None, call: Callable[[Client], Awaitable[T]]) -> T:
    """``call`` with a client of the engine store the settings name, run; errors as :func:`_run` says."""
    settings = _settings(data_dir, store=store)

    async def work() -> T:
        async with _executions(settings) as client:
            return await call(client)

    return _run(work)


def on_bus(
    data_dir: Path | None, bus: str | None, catalog: str | None, call: Callable[[EventsClient], Awaitable[T]]
) -> T:
    """``call`` with an events client of the bus the settings name, run; errors as :func:`_run` says."""
    settings = _settings(data_dir, bus=bus, catalog=catalog)

    async def work() -> T:
        async with _events(settings) as events:
            return await call(events)

    return _run(work)


async def _all_pages(
    call: Callable[[str | None], Awaitable[dict[str, Any]]], key: str, token_key: str
) -> list[dict[str, Any]]:
    """Every item of a paginated listing (``call(next_token)``)."""
    items: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        page = await call(token)
        items += page[key]
        token = page.get(token_key)
        if not token:
            return items


def _show(
    items: list[dict[str, Any]],
    key: str,
    what: str,
    as_json: bool,
    columns: dict[str, Callable[[dict[str, Any]], str]],
) -> None:
    """``items`` as ``{key: items}`` JSON, or as a table of ``columns``."""
    if as_json:
        typer.echo(json.dumps({key: items}, default=str))
        return
    table = Table(title=f"{len(items)} {what}")
    for column in columns:
        table.add_column(column)
    for item in items:
        table.add_row(*(cell(item) for cell in columns.values()))
    Console().print(table)


# ---------------------------------------------------------------------------------------------- dlq


@dlq_app.command("list")
def dlq_list(
    event_bus: Annotated[str | None, typer.Option("--event-bus", help="Only this event bus's.")] = None,
    rule: Annotated[str | None, typer.Option(help="Only this rule's.")] = None,
    data_dir: DataDir = None,
    bus: BusUrl = None,
    catalog: CatalogUrl = None,
    as_json: AsJson = False,
) -> None:
    """The dead letters: which event, which target, why, after how many attempts."""

    def every(events: EventsClient) -> Awaitable[list[dict[str, Any]]]:
        return _all_pages(
            lambda token: events.list_dead_letters(EventBusName=event_bus, Rule=rule, NextToken=token),
            "DeadLetters",
            "NextToken",
        )

    _show(
        on_bus(data_dir, bus, catalog, every),
        "DeadLetters",
        "dead letters",
        as_json,
        {
            "id": lambda x: x["Id"],
            "rule / target": lambda x: f"{x['Rule']} / {x['TargetId']}",
            "error": lambda x: f"{x['ErrorCode']}: {x['ErrorMessage']}",
            "attempts": lambda x: str(x["Attempts"]),
            "time": lambda x: str(x["Time"]),
        },
    )


@dlq_app.command("show")
def dlq_show(
    letter_id: Annotated[str, typer.Argument(help="The dead letter's id (from `dlq list`).")],
    data_dir: DataDir = None,
    bus: BusUrl = None,
    catalog: CatalogUrl = None,
) -> None:
    """One dead letter, with its whole event and headers, as JSON."""
    letter = on_bus(data_dir, bus, catalog, lambda events: events.describe_dead_letter(Id=letter_id))
    typer.echo(json.dumps(letter, indent=2, default=str))


@dlq_app.command("redrive")
def dlq_redrive(
    letter_ids: Annotated[list[str] | None, typer.Argument(help="Ids to redrive (default: all).")] = None,
    event_bus: Annotated[str | None, typer.Option("--event-bus", help="Only this event bus's.")] = None,
    rule: Annotated[str | None, typer.Option(help="Only this rule's.")] = None,
    data_dir: DataDir = None,
    bus: BusUrl = None,
    catalog: CatalogUrl = None,
) -> None:
    """Send dead letters back to their targets (a running subscriber then handles them)."""
    answer = on_bus(
        data_dir,
        bus,
        catalog,
        lambda events: events.redrive_dead_letters(Ids=letter_ids or None, EventBusName=event_bus, Rule=rule),
    )
    typer.echo(f"redriven: {answer['RedrivenCount']}")
    for failed in answer["FailedEntries"]:
        typer.echo(f"not redriven: {failed['Id']}: {failed['ErrorMessage']}", err=True)
    if answer["FailedEntries"]:
        raise typer.Exit(1)


# ---------------------------------------------------------------------------------------- executions


@executions_app.command("list")
def executions_list(
    state_machine: Annotated[
        str | None, typer.Option("--state-machine", help="A state machine's name or ARN (default: all).")
    ] = None,
    status: Annotated[
        str | None, typer.Option(help="RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED.")
    ] = None,
    data_dir: DataDir = None,
    store: StoreUrl = None,
    as_json: AsJson = False,
) -> None:
    """Executions, newest first, with their status."""
    settings = _settings(data_dir, store=store)

    async def work() -> list[dict[str, Any]]:
        async with _executions(settings) as client:
            machines = [m["stateMachineArn"] for m in (await client.list_state_machines())["stateMachines"]]
            if state_machine is not None:
                machines = [
                    m for m in machines if m == state_machine or m.rsplit(":", 1)[-1] == state_machine
                ]
                if not machines:
                    typer.echo(f"error: no state machine {state_machine!r}", err=True)
                    raise typer.Exit(1)
            found: list[dict[str, Any]] = []
            for arn in machines:
                found += await _all_pages(_executions_of(client, arn, status), "executions", "nextToken")
            return found

    _show(
        _run(work),
        "executions",
        "executions",
        as_json,
        {
            "name": lambda e: e["name"],
            "state machine": lambda e: e["stateMachineArn"].rsplit(":", 1)[-1],
            "status": lambda e: e["status"],
            "started": lambda e: str(e["startDate"]),
            "redrives": lambda e: str(e["redriveCount"]),
        },
    )


def _executions_of(
    client: Client, arn: str, status: str | None
) -> Callable[[str | None], Awaitable[dict[str, Any]]]:
    return lambda token: client.list_executions(stateMachineArn=arn, statusFilter=status, nextToken=token)


@executions_app.command("describe")
def executions_describe(
    arn: Annotated[str, typer.Argument(help="The execution's ARN.")],
    data_dir: DataDir = None,
    store: StoreUrl = None,
) -> None:
    """One execution (status, input, output, error, redrive status) as JSON."""
    described = on_engine(data_dir, store, lambda client: client.describe_execution(executionArn=arn))
    typer.echo(json.dumps(described, indent=2, default=str))


@executions_app.command("redrive")
def executions_redrive(
    arn: Annotated[str, typer.Argument(help="The failed, timed-out or stopped execution's ARN.")],
    data_dir: DataDir = None,
    store: StoreUrl = None,
) -> None:
    """Restart an execution from the state where it stopped; a worker on the store carries it on."""
    redriven = on_engine(data_dir, store, lambda client: client.redrive_execution(executionArn=arn))
    typer.echo(f"redriven at {redriven['redriveDate']}")


@executions_app.command("stop")
def executions_stop(
    arn: Annotated[str, typer.Argument(help="The running execution's ARN.")],
    cause: Annotated[str, typer.Option(help="Why, recorded in its history.")] = "stopped by a person",
    data_dir: DataDir = None,
    store: StoreUrl = None,
) -> None:
    """Stop a running execution (it can be redriven later)."""

    async def stop(client: Client) -> str:
        stopped = await client.stop_execution(executionArn=arn, cause=cause)
        status = (await client.describe_execution(executionArn=arn))["status"]
        if status == "RUNNING":  # the stop is durable; the owner applies it
            return "stop queued: the worker that owns the execution applies it"
        return f"{status.lower()} at {stopped['stopDate']}"

    typer.echo(on_engine(data_dir, store, stop))


# -------------------------------------------------------------------------------------------- orders


@orders_app.command("show")
def orders_show(
    order_id: Annotated[str, typer.Argument(help="The order's id.")],
    data_dir: DataDir = None,
    services: ServicesUrl = None,
    store: StoreUrl = None,
    catalog: CatalogUrl = None,
    as_json: AsJson = False,
) -> None:
    """The order's whole path: what each service recorded, its execution's history and its dead letters."""
    settings = _settings(data_dir, store=store, catalog=catalog, services=services)

    async def work() -> list[dict[str, Any]]:
        await check_reachable([("the services' databases", settings.services or "")])
        if settings.services is None and not (settings.data_dir / "orders.db").exists():
            raise DeploymentError(f"no services' databases in {settings.data_dir.resolve()} (see --data-dir)")
        opened = open_services(settings.services, settings.data_dir)
        try:
            return await order_timeline(order_id, opened, settings)
        finally:
            opened.dispose()

    steps = _run(work)
    if not steps:
        typer.echo(f"error: no order {order_id!r} in {settings.services or settings.data_dir}", err=True)
        raise typer.Exit(1)
    if as_json:
        typer.echo(json.dumps({"orderId": order_id, "path": steps}))
        return
    table = Table(title=f"order {order_id}")
    for column in ("time", "where", "what"):
        table.add_column(column)
    for step in steps:
        table.add_row(step["time"][11:23], step["where"], step["what"])
    Console().print(table)
