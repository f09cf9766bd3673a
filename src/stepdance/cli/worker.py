"""``stepdance worker``: advance executions from the configured store until SIGTERM or SIGINT.

Handlers come from ``--handlers module.path``: the module either defines ``register(engine)``, which calls
``engine.register(resource, fn)``, or else a ``HANDLERS`` dict from resource name to function. ``--saga``
serves the order saga's tasks over the services' databases (``STEPDANCE_SERVICES``) and its
``events:putEvents`` tasks (the hybrid design) on the bus (``STEPDANCE_BUS``, ``STEPDANCE_CATALOG``), so
workers beside ``stepdance run --design orchestrated|hybrid`` share its executions on PostgreSQL. Several workers
may share one PostgreSQL store; each takes over the executions of a worker that died once its lease runs
out. On SIGTERM/SIGINT the worker finishes the transitions it is writing and hands its leases back.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import TYPE_CHECKING, Any

import typer

from stepdance.bus.transports import TransportError
from stepdance.engine.handlers import load_handlers
from stepdance.order.db import ServiceDbError
from stepdance.order.deployment import DeploymentError, check_reachable, make_data_dir, open_bus
from stepdance.settings import Settings
from stepdance.store import StoreError

if TYPE_CHECKING:
    from stepdance.engine import Engine


def worker_cmd(
    handlers: str = typer.Option(
        None,
        "--handlers",
        help="Module whose register(engine) (or HANDLERS dict) provides the task handlers.",
    ),
    store: str = typer.Option(
        None, "--store", help="Store URL; default STEPDANCE_STORE, else SQLite in the data dir."
    ),
    saga: bool = typer.Option(False, "--saga", help="Serve the order saga's tasks (and its putEvents)."),
) -> None:
    """Run a worker: advance executions, fire timers, invoke task handlers, take over dead workers' executions."""
    settings = Settings.from_env().with_store(store)
    try:
        asyncio.run(run_worker(settings, handlers, saga=saga))
    except DeploymentError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None


async def run_worker(settings: Settings, handlers: str | None, *, saga: bool = False) -> None:
    from stepdance.engine import Engine
    from stepdance.store import open_store

    wanted = [("the engine store", settings.store)]
    if saga:
        wanted += [
            ("the services' databases", settings.services or ""),
            ("the bus", settings.bus),
            ("the bus catalog", settings.catalog),
        ]
    await check_reachable(wanted)
    try:
        store = open_store(settings.store)
    except StoreError as error:
        raise DeploymentError(f"cannot open the engine store at {settings.store}: {error}") from None
    engine = Engine(store, settings)
    count = load_handlers(engine, handlers) if handlers else 0
    async with contextlib.AsyncExitStack() as stack:
        if saga:
            try:
                count += await _serve_saga(engine, settings, stack)
            except DeploymentError:
                store.close()
                raise
            except (StoreError, ServiceDbError, TransportError, ValueError) as error:
                store.close()
                raise DeploymentError(f"cannot serve the order saga: {error}") from None
        await _work(engine, store, settings, count)


async def _serve_saga(engine: Engine, settings: Settings, stack: contextlib.AsyncExitStack) -> int:
    """Register the order saga's task handlers and putEvents on ``engine``; how many resources."""
    from stepdance.bus import Client as EventsClient
    from stepdance.order.designs.base import open_services
    from stepdance.order.designs.services_http import ServicesServer
    from stepdance.order.designs.tasks import SagaTasks

    make_data_dir(settings)
    services = open_services(settings.services, settings.data_dir)
    stack.callback(services.dispose)
    tasks = SagaTasks(services)
    stack.callback(tasks.close)
    before = len(engine.handlers)
    tasks.register(engine)
    # the Cloud Workflows saga calls the services over HTTP: this worker serves them for the executions
    # it takes over, under the name the definition uses
    server = ServicesServer(tasks, engine)
    await server.start()
    stack.push_async_callback(server.stop)
    bus = open_bus(settings, stack)
    await bus.start()
    stack.push_async_callback(bus.stop)
    engine.register_put_events(EventsClient(bus))
    return len(engine.handlers) - before


async def _work(engine: Engine, store: Any, settings: Settings, count: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with engine:
            scheme = settings.store.split("://", 1)[0]
            typer.echo(f"worker {engine.owner} ready: {scheme} store, {count} handlers", err=True)
            await stop.wait()
            typer.echo(f"worker {engine.owner} stopping", err=True)
    finally:
        store.close()
