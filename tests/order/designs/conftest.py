"""Deployments the designs' end-to-end tests run on: everything on SQLite files (engine store, bus catalog
and log, services), or everything on the servers (engine store, bus catalog and services on PostgreSQL, the
bus over NATS JetStream), skipped with the server's name when it is not reachable. Each PostgreSQL
deployment works in schemas of its own (``<deployment>_*``), dropped afterwards."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from stepdance.bus import Backoff, Bus, Catalog, ConsumerSettings, open_catalog
from stepdance.bus.transports import Transport, open_transport
from stepdance.order import Channel, Faults
from stepdance.order.designs.base import Services, open_services
from stepdance.settings import Settings
from stepdance.store import Store, open_store
from tests.bus.transports.backends import clean_shared_servers, url_for
from tests.order.conftest import drop_schemas
from tests.store.backends import POSTGRES, postgres_reachable

__all__ = ["clean_shared_servers"]

KINDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
SETTINGS = Settings(lease_seconds=5.0, poll_seconds=0.05)


@dataclass
class Deployment:
    """Where one test's designs keep everything."""

    kind: str
    data_dir: Path
    deployment: str = ""

    @property
    def services_url(self) -> str | None:
        return None if self.kind == "sqlite" else f"{POSTGRES}?schema={self.deployment}"

    def services(self, faults: Faults | None = None, channel: Channel | None = None) -> Services:
        return open_services(self.services_url, self.data_dir, faults=faults, channel=channel)

    def store(self) -> Store:
        if self.kind == "sqlite":
            return open_store(f"sqlite:///{self.data_dir / 'engine.db'}")
        return open_store(f"{POSTGRES}?schema={self.deployment}_engine")

    def catalog(self) -> Catalog:
        if self.kind == "sqlite":
            return open_catalog(f"sqlite:///{self.data_dir / 'catalog.db'}")
        return open_catalog(POSTGRES, schema=f"{self.deployment}_bus")

    def transport(self) -> Transport:
        return open_transport(url_for("sqlite" if self.kind == "sqlite" else "nats", self.data_dir))


@pytest.fixture(params=KINDS)
def deployment(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Deployment]:
    if request.param == "sqlite":
        yield Deployment("sqlite", tmp_path)
        return
    if not postgres_reachable():
        pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432")
    name = f"sd_design_{uuid.uuid4().hex[:10]}"
    yield Deployment("postgres", tmp_path, name)
    drop_schemas(f"{name}_")


@pytest.fixture
def sqlite(tmp_path: Path) -> Deployment:
    return Deployment("sqlite", tmp_path)


@pytest.fixture
async def store(deployment: Deployment) -> AsyncIterator[Store]:
    opened = deployment.store()
    yield opened
    opened.close()


async def running_bus(deployment: Deployment) -> tuple[Bus, Catalog, Transport]:
    """A started bus on the deployment, retrying within tens of milliseconds."""
    catalog, transport = deployment.catalog(), deployment.transport()
    bus = Bus(
        catalog,
        transport,
        SETTINGS,
        backoff=Backoff(base=0.02, cap=0.2),
        consumer_settings=ConsumerSettings(fetch_wait=0.05, reconnect_seconds=0.1),
        refresh_seconds=0.1,
    )
    await bus.start()
    return bus, catalog, transport


async def close_bus(bus: Bus, catalog: Catalog, transport: Transport) -> None:
    await bus.stop()
    await asyncio.wait_for(transport.close(), 10)
    catalog.close()
