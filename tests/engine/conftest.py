from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from stepdance.engine import Client, Engine
from stepdance.settings import Settings
from stepdance.store import Store
from tests.store.backends import backend_url, postgres_schema, store

__all__ = ["backend_url", "client", "engine", "postgres_schema", "settings", "store"]


@pytest.fixture
def settings() -> Settings:
    return Settings(lease_seconds=2.0, poll_seconds=0.05)


@pytest.fixture
async def engine(store: Store, settings: Settings) -> AsyncIterator[Engine]:
    running = Engine(store, settings)
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
def client(engine: Engine) -> Client:
    return Client(engine, activity_poll_seconds=1.0)
