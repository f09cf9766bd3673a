"""Open one of the three designs from :class:`~stepdance.settings.Settings`: the engine's store, the bus's
transport and catalog, and the services' databases, each from its URL (SQLite files in the data directory by
default). What ``stepdance run``, ``stepdance demo`` and ``bench/saga.py`` share::

    async with open_design("choreographed", settings, faults=faults) as running:
        result = await run_orders(running.design, batch, concurrency=64)

Anything that cannot be reached (a database, a broker) raises :class:`DeploymentError`, whose message names
what and where, before any order is placed; what was opened is closed again.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from stepdance import telemetry
from stepdance.bus import Backoff, Bus, open_catalog
from stepdance.bus.transports import Transport, TransportError, open_transport
from stepdance.engine import Client, Engine
from stepdance.order import pubsub_bus
from stepdance.order.channels import Channel, ChannelError
from stepdance.order.db import ServiceDbError
from stepdance.order.designs import choreography_subscriptions
from stepdance.order.designs.base import Design, Services, open_services
from stepdance.order.designs.choreographed import Choreographed
from stepdance.order.designs.hybrid import Hybrid
from stepdance.order.designs.orchestrated import Orchestrated
from stepdance.order.designs.workflows_saga import WorkflowsSaga
from stepdance.order.faults import Faults
from stepdance.settings import Settings
from stepdance.store import StoreError, open_store

DESIGN_NAMES = ("orchestrated", "choreographed", "hybrid", "workflows")
BUS_DESIGNS = ("choreographed", "hybrid")  # the designs with a bus
DEFAULT_PORTS = {"postgresql": 5432, "postgres": 5432, "nats": 4222, "redis": 6379, "amqp": 5672}


class DeploymentError(Exception):
    """A design cannot run: a database or broker is unreachable or a URL is wrong. The message names it."""


@dataclass
class Running:
    """A started design and what it runs on."""

    design: Design
    services: Services
    settings: Settings
    where: dict[str, str] = field(default_factory=dict)  # what lives where, for people to read


@asynccontextmanager
async def open_design(
    name: str,
    settings: Settings,
    *,
    faults: Faults | None = None,
    channel: Channel | None = None,
    here: Sequence[str] | None = None,
    prepare: Callable[[Services], Any] | None = None,
    worker: bool = True,
    wrap_transport: Callable[[Transport], Transport] | None = None,
) -> AsyncIterator[Running]:
    """``name`` started on ``settings``' URLs; stopped and closed on exit. ``here``: for the choreographed
    design, the services this process serves (the others run as ``stepdance service``); ``prepare``: called
    with the services before the design starts (to set stock, say); ``worker``: false leaves the engine's
    executions to ``stepdance worker --saga`` processes sharing the store (this process only starts them);
    ``wrap_transport``: the bus's transport goes through it (the scenarios' misbehaving transport)."""
    if name not in DESIGN_NAMES:
        raise DeploymentError(f"unknown design {name!r}: one of {', '.join(DESIGN_NAMES)}")
    if here is not None:
        _check_here(name, here)
    make_data_dir(settings)
    async with AsyncExitStack() as stack:
        if name in BUS_DESIGNS and pubsub_bus.wants_own_endpoint(settings):
            settings = await _started_pubsub(settings, stack)
        await check_reachable(_servers(name, settings))
        services = _guarded(
            "the services' databases",
            lambda: open_services(settings.services, settings.data_dir, faults=faults, channel=channel),
        )
        stack.callback(services.dispose)
        if prepare is not None:
            prepare(services)
        where = {"services": settings.services or str(settings.data_dir.resolve())}
        design: Design
        if name == "choreographed":
            bus = open_bus(settings, stack, where, wrap_transport)
            design = Choreographed(
                services, bus, owns_bus=False, here=tuple(here or choreography_subscriptions.PARTICIPANTS)
            )
            await _started("the bus", bus.start, settings.bus)
            stack.push_async_callback(bus.stop)
        else:
            store = _guarded(f"the engine store at {settings.store}", lambda: open_store(settings.store))
            stack.callback(store.close)
            where["store"] = settings.store
            engine = Engine(store, settings, worker=worker)
            await engine.start()
            stop_engine = _once(engine.stop)
            stack.push_async_callback(stop_engine)
            if name == "hybrid":
                bus = open_bus(settings, stack, where, wrap_transport)
                await _started("the bus", bus.start, settings.bus)
                stack.push_async_callback(bus.stop)
                design = Hybrid(services, engine, bus, settings)
            elif name == "workflows":
                design = WorkflowsSaga(services, engine, settings)
            else:
                design = Orchestrated(services, engine, settings)
        await _started(f"the {name} design", design.start, settings.bus if name in BUS_DESIGNS else "")
        stack.push_async_callback(design.stop)
        if name != "choreographed":
            # The engine stops before the design lets go of the services: a task it would still run (a
            # notification after the decision) must not reach a service being closed.
            stack.push_async_callback(stop_engine)
        stack.callback(telemetry.flush)  # last: the spans of everything stopped above are on disk
        yield Running(design, services, settings, where)


@dataclass
class RunningAll:
    """The three designs on one engine and one bus, over one set of services (``stepdance serve``)."""

    designs: dict[str, Design]
    services: Services
    engine: Engine
    bus: Bus
    settings: Settings
    where: dict[str, str] = field(default_factory=dict)


@asynccontextmanager
async def open_designs(
    settings: Settings, *, prepare: Callable[[Services], Any] | None = None, faults: Faults | None = None
) -> AsyncIterator[RunningAll]:
    """Every design started on ``settings``' URLs, sharing the engine (and its worker), the bus and the
    services; stopped and closed on exit. ``prepare`` and ``faults`` as for :func:`open_design`."""
    make_data_dir(settings)
    await check_reachable(
        [
            (what, url)
            for what, url in (
                ("the services' databases", settings.services or ""),
                ("the engine store", settings.store),
                ("the bus", settings.bus),
                ("the bus catalog", settings.catalog),
            )
            if url
        ]
    )
    async with AsyncExitStack() as stack:
        if pubsub_bus.wants_own_endpoint(settings):
            settings = await _started_pubsub(settings, stack)
        services = _guarded(
            "the services' databases",
            lambda: open_services(settings.services, settings.data_dir, faults=faults),
        )
        stack.callback(services.dispose)
        if prepare is not None:
            prepare(services)
        where = {"services": settings.services or str(settings.data_dir.resolve())}
        store = _guarded(f"the engine store at {settings.store}", lambda: open_store(settings.store))
        stack.callback(store.close)
        where["store"] = settings.store
        engine = Engine(store, settings)
        await engine.start()
        stop_engine = _once(engine.stop)
        stack.push_async_callback(stop_engine)
        bus = open_bus(settings, stack, where)
        bus.engine_client = Client(engine)  # rules may target state machines: the bus starts executions
        await _started("the bus", bus.start, settings.bus)
        stack.push_async_callback(bus.stop)
        designs: dict[str, Design] = {
            "orchestrated": Orchestrated(services, engine, settings),
            "choreographed": Choreographed(services, bus, owns_bus=False),
            "hybrid": Hybrid(services, engine, bus, settings),
            "workflows": WorkflowsSaga(services, engine, settings),
        }
        for name, design in designs.items():
            await _started(f"the {name} design", design.start, "")
            stack.push_async_callback(design.stop)
        stack.push_async_callback(stop_engine)  # before the designs let go of the services, as above
        stack.callback(telemetry.flush)
        yield RunningAll(designs, services, engine, bus, settings, where)


async def _started_pubsub(settings: Settings, stack: AsyncExitStack) -> Settings:
    """``--bus pubsub``: an endpoint of this run's own; DeploymentError when the gcp extra is missing."""
    try:
        return await pubsub_bus.with_own_endpoint(settings, stack)
    except ImportError as error:
        raise DeploymentError(
            f"--bus pubsub needs the 'gcp' extra (pip install 'stepdance[gcp]'): {error}"
        ) from None
    except (OSError, StoreError, TransportError, ValueError) as error:
        raise DeploymentError(f"cannot start the Pub/Sub endpoint for --bus pubsub: {error}") from None


def _once(stop: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
    """``stop``, run by the first call only (it is pushed twice: for a failed start and before the design)."""
    done = False

    async def once() -> None:
        nonlocal done
        if not done:
            done = True
            await stop()

    return once


def make_data_dir(settings: Settings) -> None:
    """The data directory, made if missing; DeploymentError naming it when it cannot be."""
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DeploymentError(
            f"cannot use the data directory {settings.data_dir}: {error.strerror}"
        ) from None


async def check_reachable(servers: Sequence[tuple[str, str]]) -> None:
    """DeploymentError naming the first of ``(what, url)`` whose server does not answer."""
    for what, url in servers:
        problem = await asyncio.to_thread(unreachable, url) if url else None
        if problem is not None:
            raise DeploymentError(f"cannot reach {what} at {url}: {problem}")


def _check_here(name: str, here: Sequence[str]) -> None:
    known = choreography_subscriptions.PARTICIPANTS
    unknown = [service for service in here if service not in known]
    if unknown:
        raise DeploymentError(f"unknown services {', '.join(unknown)} in --here: one of {', '.join(known)}")
    if name == "choreographed" and "orders" not in here:
        raise DeploymentError(
            "--here must include orders: orders are placed where the orders service runs "
            "(run the others as `stepdance service NAME`)"
        )


def _servers(name: str, settings: Settings) -> list[tuple[str, str]]:
    """The servers ``name`` needs, by what they are for."""
    wanted = [("the services' databases", settings.services or "")]
    if name != "choreographed":
        wanted.append(("the engine store", settings.store))
    if name in BUS_DESIGNS:
        wanted += [("the bus", settings.bus), ("the bus catalog", settings.catalog)]
    return [(what, url) for what, url in wanted if url]


def unreachable(url: str, seconds: float = 2.0) -> str | None:
    """Why the server of a network URL cannot be reached (None when it answers a TCP connect, or the URL
    names no server: SQLite, memory). Checked before starting, so a wrong address is one clear line rather
    than retries in the background."""
    parts = urlsplit(url)
    port = DEFAULT_PORTS.get(parts.scheme.split("+", 1)[0])
    if port is None or not parts.hostname:
        return None
    try:
        socket.create_connection((parts.hostname, parts.port or port), timeout=seconds).close()
    except OSError as error:
        return error.strerror or str(error) or type(error).__name__
    return None


def open_bus(
    settings: Settings,
    stack: AsyncExitStack,
    where: dict[str, str] | None = None,
    wrap_transport: Callable[[Transport], Transport] | None = None,
) -> Bus:
    """The bus on ``settings``' catalog and transport (not started), closed with ``stack``; DeploymentError
    naming what cannot be opened."""
    where = {} if where is None else where
    catalog = _guarded(f"the bus catalog at {settings.catalog}", lambda: open_catalog(settings.catalog))
    stack.callback(catalog.close)
    transport = _guarded(f"the bus at {settings.bus}", lambda: open_transport(settings.bus))
    if wrap_transport is not None:
        transport = wrap_transport(transport)
    stack.push_async_callback(transport.close)
    where["bus"] = settings.bus
    where["catalog"] = settings.catalog
    usual = Backoff()
    backoff = Backoff(base=usual.base * settings.retry_scale, cap=usual.cap * settings.retry_scale)
    return Bus(catalog, transport, settings, backoff=backoff)


def _guarded(what: str, make: Callable[[], Any]) -> Any:
    try:
        return make()
    except (ServiceDbError, StoreError, TransportError, ChannelError, ValueError) as error:
        raise DeploymentError(f"cannot open {what}: {error}") from None
    except OSError as error:
        raise DeploymentError(f"cannot open {what}: {error}") from None


async def _started(what: str, start: Callable[[], Any], url: str) -> None:
    try:
        await start()
    except (TransportError, StoreError, ServiceDbError, OSError) as error:
        place = f" at {url}" if url else ""
        raise DeploymentError(f"cannot start {what}{place}: {error}") from None
