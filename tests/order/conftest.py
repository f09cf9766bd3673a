"""Every service test runs against SQLite and PostgreSQL through ``backend``: a fresh data directory, or a
fresh deployment name on the PostgreSQL server whose service schemas are dropped after the test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine

from stepdance.order import open_service_db
from tests.store.backends import POSTGRES, postgres_reachable

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@dataclass
class Backend:
    kind: str
    url: str | None
    data_dir: Path
    deployment: str = ""
    engines: list[Engine] = field(default_factory=list)

    def db(self, service: str) -> Engine:
        """``service``'s own database on this backend (a file, or a schema of this test's own)."""
        engine = open_service_db(service, self.url, self.data_dir)
        self.engines.append(engine)
        return engine

    def close(self) -> None:
        for engine in self.engines:
            engine.dispose()
        if self.kind == "postgres":
            drop_schemas(f"{self.deployment}_")


def drop_schemas(prefix: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        found = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)", (prefix,)
        ).fetchall()
        for (schema,) in found:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        opened = Backend("sqlite", None, tmp_path)
    else:
        if not postgres_reachable():
            pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432")
        deployment = f"sd_order_{uuid.uuid4().hex[:10]}"
        opened = Backend("postgres", f"{POSTGRES}?schema={deployment}", tmp_path, deployment)
    yield opened
    opened.close()
