"""``stepdance service payment|inventory|notification|orders``: one service of the choreographed design in
a process of its own, until SIGTERM or SIGINT.

The process needs only its own database (``STEPDANCE_SERVICES`` / ``--services``), the bus's catalog and
its transport (``STEPDANCE_CATALOG``, ``STEPDANCE_BUS``): it puts its rule and target (idempotent), consumes
what its pattern matches and relays its outbox. Several processes may serve one service; its target's
consumers share the events. ``stepdance run --design choreographed --here orders`` then places orders and
leaves the rest to these processes.
"""

from __future__ import annotations

import asyncio
import signal
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from stepdance.order.deployment import DeploymentError, check_reachable, make_data_dir
from stepdance.settings import Settings


class ServiceName(StrEnum):
    payment = "payment"
    inventory = "inventory"
    notification = "notification"
    orders = "orders"


def service_cmd(
    name: Annotated[ServiceName, typer.Argument(help="Which service this process serves.")],
    bus: Annotated[str | None, typer.Option(help="Bus transport URL (STEPDANCE_BUS).")] = None,
    catalog: Annotated[str | None, typer.Option(help="Bus catalog URL (STEPDANCE_CATALOG).")] = None,
    services: Annotated[str | None, typer.Option(help="Services' database URL (STEPDANCE_SERVICES).")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Where SQLite files go (STEPDANCE_DATA_DIR).")] = None,
) -> None:
    """Serve one service of the choreographed order saga until stopped."""
    settings = Settings.from_env().with_urls(bus=bus, catalog=catalog, services=services, data_dir=data_dir)
    try:
        asyncio.run(_serve(name.value, settings))
    except DeploymentError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None


async def _serve(name: str, settings: Settings) -> None:
    from stepdance.order.designs.choreography_service import serve

    await check_reachable([("the bus", settings.bus), ("the bus catalog", settings.catalog)])
    make_data_dir(settings)
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, task.cancel)
    try:
        await serve(
            name,
            services_url=settings.services,
            data_dir=settings.data_dir,
            transport_url=settings.bus,
            catalog_url=settings.catalog,
            settings=settings,
            ready=lambda: typer.echo(f"service {name} ready on {settings.bus}", err=True),
        )
    except asyncio.CancelledError:
        typer.echo(f"service {name} stopped", err=True)
    except Exception as error:  # a database or broker failing at start: one line, not a traceback
        raise DeploymentError(f"service {name} could not start: {error}") from None
