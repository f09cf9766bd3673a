"""``stepdance worker``: advance executions from the configured store until SIGTERM or SIGINT.

Handlers come from ``--handlers module.path``: the module either defines ``register(engine)``, which calls
``engine.register(resource, fn)``, or else a ``HANDLERS`` dict from resource name to function. Several workers
may share one PostgreSQL store; each takes over the executions of a worker that died once its lease runs
out. On SIGTERM/SIGINT the worker finishes the transitions it is writing and hands its leases back.
"""

from __future__ import annotations

import asyncio
import importlib
import signal
from typing import TYPE_CHECKING

import typer

from stepdance.settings import Settings

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
) -> None:
    """Run a worker: advance executions, fire timers, invoke task handlers, take over dead workers' executions."""
    settings = Settings.from_env().with_store(store)
    asyncio.run(run_worker(settings, handlers))


def load_handlers(engine: Engine, module_name: str) -> int:
    """Register the handlers ``module_name`` provides; how many resources it registered."""
    module = importlib.import_module(module_name)
    before = len(engine.handlers)
    register = getattr(module, "register", None)
    if callable(register):
        register(engine)
    else:
        for resource, fn in getattr(module, "HANDLERS", {}).items():
            engine.register(resource, fn)
    return len(engine.handlers) - before


async def run_worker(settings: Settings, handlers: str | None) -> None:
    from stepdance.engine import Engine
    from stepdance.store import open_store

    store = open_store(settings.store)
    engine = Engine(store, settings)
    count = load_handlers(engine, handlers) if handlers else 0
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
