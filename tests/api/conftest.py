"""The API's behavioural tests run against a real ``stepdance serve`` on each backend: everything embedded
(SQLite files and the SQLite bus), and everything on the servers (the engine store, the bus catalog and the
services on PostgreSQL in schemas of the run's own, the bus over NATS JetStream), skipped with the server's
name when it is not reachable."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.api.served import Served, serving
from tests.bus.transports.backends import clean_shared_servers, skip_unless_up, url_for
from tests.order.conftest import drop_schemas
from tests.store.backends import POSTGRES, postgres_reachable

__all__ = ["clean_shared_servers"]

BACKENDS = ["embedded", pytest.param("servers", marks=pytest.mark.postgres)]


@pytest.fixture(scope="module", params=BACKENDS)
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One server per test module and backend (starting one takes about a second); tests name what they
    create uniquely, so they do not see each other's resources."""
    data_dir = tmp_path_factory.mktemp("served")
    handlers = ("--handlers", "tests.api.user_handlers")
    if request.param == "embedded":
        with serving(data_dir, *handlers) as server:
            yield server
        return
    if not postgres_reachable():
        pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432")
    skip_unless_up("nats")
    schema = f"sd_api_{uuid.uuid4().hex[:8]}"
    env = {
        "STEPDANCE_STORE": f"{POSTGRES}?schema={schema}_engine",
        "STEPDANCE_SERVICES": f"{POSTGRES}?schema={schema}",
        "STEPDANCE_CATALOG": f"{POSTGRES}?schema={schema}_bus",
        "STEPDANCE_BUS": url_for("nats", data_dir),
    }
    try:
        with serving(data_dir, *handlers, env=env) as server:
            server.services_url = env["STEPDANCE_SERVICES"]
            yield server
    finally:
        drop_schemas(schema)


@pytest.fixture(scope="module")
def sfn(served: Served) -> object:
    return served.client("stepfunctions", read_timeout=70)


@pytest.fixture(scope="module")
def events(served: Served) -> object:
    return served.client("events")
