"""Fixtures for the bus core: a catalog in a fresh SQLite file, a transport (SQLite unless a test asks for
the others with ``@pytest.mark.parametrize("transport_kind", BACKENDS, indirect=True)``), a running bus with
a clock the test moves and back-offs of milliseconds, its client, and a fresh event bus per test (topics on
the shared servers outlive a test, so every test publishes on a bus of its own)."""

from __future__ import annotations

import asyncio
import inspect
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from stepdance.bus import Backoff, Bus, Catalog, Client, ConsumerSettings, open_catalog
from stepdance.bus.transports import Transport, open_transport
from stepdance.settings import Settings
from tests.bus.transports.backends import BACKENDS, clean_shared_servers, url_for

__all__ = [
    "BACKENDS",
    "Clock",
    "bus",
    "bus_name",
    "catalog",
    "clean_shared_servers",
    "clock",
    "entry",
    "events",
    "eventually",
    "settings",
    "transport",
    "transport_kind",
]

T = TypeVar("T")
SETTINGS = Settings(region="us-east-1", account="123456789012")


@dataclass
class Clock:
    now: float = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings() -> Settings:
    return SETTINGS


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    opened = open_catalog(f"sqlite:///{tmp_path / 'catalog.db'}")
    yield opened
    opened.close()


@pytest.fixture
def transport_kind(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
async def transport(transport_kind: str, tmp_path: Path) -> AsyncIterator[Transport]:
    opened = open_transport(url_for(transport_kind, tmp_path))
    yield opened
    await asyncio.wait_for(opened.close(), 10)


def quick_bus(catalog: Catalog, transport: Transport, clock: Clock, settings: Settings) -> Bus:
    """A bus (not started) whose back-offs, fetches and refreshes take milliseconds."""
    return Bus(
        catalog,
        transport,
        settings,
        clock=clock,
        backoff=Backoff(base=0.001, cap=0.005),
        consumer_settings=ConsumerSettings(fetch_wait=0.05, ack_wait=10.0, reconnect_seconds=0.05),
        refresh_seconds=0.05,
    )


@pytest.fixture
async def bus(catalog: Catalog, transport: Transport, clock: Clock, settings: Settings) -> AsyncIterator[Bus]:
    running = quick_bus(catalog, transport, clock, settings)
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
def events(bus: Bus) -> Client:
    return Client(bus)


@pytest.fixture
async def bus_name(events: Client) -> str:
    name = f"bus-{uuid.uuid4().hex[:10]}"
    await events.create_event_bus(Name=name)
    return name


def entry(bus: str | None = None, detail: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """A PutEvents entry (``order.placed`` from ``shop`` unless told otherwise)."""
    made: dict[str, Any] = {
        "Source": "shop",
        "DetailType": "order.placed",
        "Detail": json.dumps(detail or {}),
    }
    if bus is not None:
        made["EventBusName"] = bus
    made.update(fields)
    return made


async def eventually(check: Callable[[], T | Awaitable[T]], seconds: float = 10.0) -> T:
    """``check()``'s first truthy answer, asked every few milliseconds for up to ``seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        answer = check()
        if inspect.isawaitable(answer):
            answer = await answer
        if answer:
            return answer  # type: ignore[return-value]
        if loop.time() > deadline:
            raise AssertionError(f"still {answer!r} after {seconds}s")
        await asyncio.sleep(0.01)
