"""``stepdance serve``: the three designs on one engine and one bus, behind the AWS-compatible API.

What a boto3 user finds there: the state machines ``stepdance-order-saga`` (orchestrated) and
``stepdance-order-saga-hybrid``, whose executions run the saga (``{"orderId": ...}`` is a whole order: see
:mod:`stepdance.order.intake`); the event buses ``stepdance-choreographed`` and the hybrid's, with the
services' rules; and on the ``default`` bus a rule that turns an ``OrderCreated`` event from ``orders`` into a
choreographed order. Anything else they create (state machines with their own activities, buses, rules,
archives) lives beside these, in the same stores.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from stepdance.api.app import ApiConfig, create_app
from stepdance.api.dashboard import routes
from stepdance.api.dashboard.context import Dashboard
from stepdance.api.services import routes as service_routes
from stepdance.bus import Bus
from stepdance.bus import Client as EventsClient
from stepdance.engine import Client as StepFunctionsClient
from stepdance.engine import Engine
from stepdance.engine.handlers import load_handlers
from stepdance.faults.scenario import ScenarioError, load_scenario
from stepdance.gcp import GcpUnavailable, start_executions_server
from stepdance.gcp.eventarc import TriggerError
from stepdance.gcp.eventarc_api import EventarcApi
from stepdance.gcp.eventarc_triggers import Triggers
from stepdance.order.deployment import open_designs
from stepdance.order.designs.base import Services
from stepdance.order.designs.choreographed import Choreographed
from stepdance.order.designs.choreography_intake import subscribe_intake
from stepdance.order.designs.orchestrated import Orchestrated
from stepdance.order.faults import Faults
from stepdance.order.workload import PLENTY_SKU, SCARCE_SKU
from stepdance.settings import Settings

DEFAULT_STOCK = {PLENTY_SKU: 1_000_000, SCARCE_SKU: 100}
KEYS_VARIABLE = "STEPDANCE_API_KEYS"
GRACE_SECONDS = 10  # requests still running at SIGTERM get this long before they are cut


class ServeError(Exception):
    """``stepdance serve`` cannot start as asked; the message says why and what to do."""


def parse_keys(pairs: list[str], env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Access keys from ``ID:SECRET`` pairs, the flags' and then ``STEPDANCE_API_KEYS``'s (comma-separated)."""
    env = os.environ if env is None else env
    given = list(pairs) + [p for p in env.get(KEYS_VARIABLE, "").split(",") if p.strip()]
    keys: dict[str, str] = {}
    for pair in given:
        key_id, sep, secret = pair.strip().partition(":")
        if not sep or not key_id or not secret:
            raise ServeError(f"an access key must be ID:SECRET, not {pair.strip()!r}")
        keys[key_id] = secret
    return keys


def parse_stock(pairs: list[str]) -> dict[str, int]:
    """``SKU=UNITS`` pairs."""
    stock: dict[str, int] = {}
    for pair in pairs:
        sku, sep, units = pair.partition("=")
        if not sep or not sku or not units.strip().isdigit():
            raise ServeError(f"--stock takes SKU=UNITS (a whole number), not {pair!r}")
        stock[sku] = int(units)
    return stock


def faults_of(path: Path) -> Faults:
    """The error and latency faults of the scenario file ``path`` (its workload and expectations are for
    ``stepdance scenarios``); ServeError naming the file and line of what is wrong, or of a fault kind
    that needs the scenario runner (a killed process, a restarted server, a poisoned bus)."""
    try:
        scenario = load_scenario(path)
    except ScenarioError as error:
        raise ServeError(str(error)) from None
    other = [f for f in scenario.faults if f.rule is None]
    if other:
        where = f"{path}:{other[0].line}" if other[0].line else str(path)
        raise ServeError(
            f"{where}: a {other[0].kind} fault needs `stepdance scenarios`; serve takes error and latency faults"
        )
    return Faults(rules=scenario.rules, seed=scenario.workload.seed)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_auth(host: str, keys: Mapping[str, str]) -> None:
    """Beyond loopback, anyone who reaches the port could start executions: auth must be on."""
    if not keys and not is_loopback(host):
        raise ServeError(
            f"binding to {host} needs access keys (auth is on beyond loopback): give --access-key ID:SECRET "
            f"or {KEYS_VARIABLE}=ID:SECRET, and sign with them (boto3 does with those credentials)"
        )


def stock_unless_known(stock: Mapping[str, int]) -> Callable[[Services], None]:
    """Stock the SKUs the inventory has never seen; levels already there (a restart) are kept."""

    def prepare(services: Services) -> None:
        known = services.inventory.stock_levels()
        missing = {sku: units for sku, units in stock.items() if sku not in known}
        if missing:
            services.inventory.set_stock(missing)

    return prepare


async def serve(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    keys: Mapping[str, str] | None = None,
    stock: Mapping[str, int] | None = None,
    on_ready: Callable[[int], Any] | None = None,
    handlers: str | None = None,
    faults: Faults | None = None,
    grpc_port: int | None = None,
    on_grpc: Callable[[int], Any] | None = None,
    pubsub_port: int | None = None,
    on_pubsub: Callable[[int], Any] | None = None,
    triggers: TriggerSet | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM; ``on_ready`` is called with the port once it accepts connections (port
    0 picks a free one). ``handlers``: a module whose task handlers the engine serves besides the saga's
    (see :func:`stepdance.engine.handlers.load_handlers`). ``faults``: failures the services suffer while
    serving (a scenario's error and latency faults, :func:`faults_of`), armed once it listens.
    ``grpc_port``: also serve Cloud Workflows' Executions API over gRPC there (0: a free port; ``on_grpc``
    is told which). It has no authentication, so with access keys it listens on loopback only. The same
    for ``pubsub_port``: Google Pub/Sub over the served bus (``on_pubsub``). ``triggers``: Eventarc triggers
    to create or replace once the designs' buses exist (:func:`stepdance.gcp.eventarc_file.read_triggers`)."""
    keys = dict(keys or {})
    check_auth(host, keys)
    prepare = stock_unless_known(DEFAULT_STOCK if stock is None else stock)
    sock = _bound(host, port)  # first: a port in use is refused before anything is opened
    with sock:
        await _serve(
            settings,
            sock,
            config_of=lambda app: _config(app, host, port),
            keys=keys,
            prepare=prepare,
            on_ready=on_ready,
            handlers=handlers,
            faults=faults,
            grpc=None if grpc_port is None else (host if not keys else "127.0.0.1", grpc_port, on_grpc),
            pubsub=None
            if pubsub_port is None
            else (host if not keys else "127.0.0.1", pubsub_port, on_pubsub),
            triggers=triggers,
        )


def _config(app: Any, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        lifespan="off",
        access_log=False,
        timeout_graceful_shutdown=GRACE_SECONDS,
    )


async def _serve(
    settings: Settings,
    sock: socket.socket,
    *,
    config_of: Callable[[Any], uvicorn.Config],
    keys: Mapping[str, str],
    prepare: Callable[[Services], None],
    on_ready: Callable[[int], Any] | None,
    handlers: str | None,
    faults: Faults | None,
    grpc: tuple[str, int, Callable[[int], Any] | None] | None = None,
    pubsub: tuple[str, int, Callable[[int], Any] | None] | None = None,
    triggers: TriggerSet | None = None,
) -> None:
    async with (
        open_designs(settings, prepare=prepare, faults=faults) as running,
        contextlib.AsyncExitStack() as stack,
    ):
        choreographed = running.designs["choreographed"]
        assert isinstance(choreographed, Choreographed)
        await subscribe_intake(choreographed)
        if handlers:
            _load(running.engine, handlers)
        sfn = StepFunctionsClient(running.engine)
        if grpc is not None:
            await _serve_executions(sfn, grpc, stack)
        if pubsub is not None:
            await _serve_pubsub(running.bus, pubsub, stack)
        eventarc = Triggers(running.bus)  # from now on, a trigger's dead letters reach its Pub/Sub topic
        if triggers is not None:
            try:
                await eventarc.apply(triggers.documents, triggers.pointers)
            except TriggerError as error:
                raise ServeError(f"--triggers {triggers.source}: {error}") from None
        clients = {"stepfunctions": sfn, "events": EventsClient(running.bus)}
        dashboard = Dashboard(
            sfn, clients["events"], running.services, settings, running.designs, keys=keys, triggers=eventarc
        )
        orchestrated = running.designs["orchestrated"]
        assert isinstance(orchestrated, Orchestrated)
        services = service_routes(orchestrated.tasks.resources(), dashboard.refused)
        eventarc_api = EventarcApi(eventarc, dashboard.refused)
        app = create_app(
            clients, ApiConfig(keys=keys), [*routes(dashboard), *services, *eventarc_api.routes()]
        )
        config = config_of(app)

        def listening() -> None:
            if faults is not None:
                faults.arm()
            if on_ready is not None:
                on_ready(sock.getsockname()[1])

        server = _Server(config, listening, stopping=sfn.end_polls)
        await server.serve(sockets=[sock])


class _Server(uvicorn.Server):
    """uvicorn's server, telling when it listens (it has no hook of its own for that)."""

    def __init__(
        self, config: uvicorn.Config, listening: Callable[[], Any], stopping: Callable[[], Any]
    ) -> None:
        super().__init__(config)
        self.listening = listening
        self.stopping = stopping

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.listening()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """uvicorn's, without raising the signal again once the server has stopped: that would kill the
        process before the engine, the bus and the services are stopped (leases handed back, outboxes
        flushed); ``stepdance serve`` ends with exit code 0 after a graceful stop instead."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.stopping()  # long polls answer now, so the connections they hold close before the grace runs out
        await super().shutdown(sockets)


async def _serve_executions(
    client: StepFunctionsClient,
    where: tuple[str, int, Callable[[int], Any] | None],
    stack: contextlib.AsyncExitStack,
) -> None:
    host, port, told = where
    try:
        server = await start_executions_server(client, host, port)
    except GcpUnavailable as error:
        raise ServeError(str(error)) from None
    except (OSError, RuntimeError) as error:  # grpc says a port is taken with a RuntimeError
        raise ServeError(f"cannot serve the Executions API on {host}:{port}: {error}") from None
    stack.push_async_callback(server.stop, GRACE_SECONDS)
    if told is not None:
        told(server.port)


async def _serve_pubsub(
    bus: Bus, where: tuple[str, int, Callable[[int], Any] | None], stack: contextlib.AsyncExitStack
) -> None:
    host, port, told = where
    try:
        from stepdance.gcp.pubsub_grpc import start_pubsub_server
    except ImportError as error:
        raise ServeError(f"Pub/Sub needs the 'gcp' extra (pip install 'stepdance[gcp]'): {error}") from None
    try:
        server = await start_pubsub_server(bus.catalog, bus.transport, host, port)
    except (OSError, RuntimeError) as error:
        raise ServeError(f"cannot serve Pub/Sub on {host}:{port}: {error}") from None
    stack.push_async_callback(server.stop, GRACE_SECONDS)
    if told is not None:
        told(server.port)


@dataclass(frozen=True, slots=True)
class TriggerSet:
    """Eventarc trigger documents read from ``source``, with each one's JSON pointer there."""

    source: str
    documents: list[Any]
    pointers: list[str]


def _load(engine: Engine, module: str) -> None:
    try:
        load_handlers(engine, module)
    except ImportError as error:
        raise ServeError(f"cannot load --handlers {module}: {error}") from None


def _bound(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio turns Nagle off only for sockets that say they are TCP, and with Nagle on
    # every answer waits for the client's delayed ACK (40 ms a call)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    sock.set_inheritable(True)
    return sock
