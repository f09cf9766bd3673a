"""The store backends every behavioural test runs against: memory, SQLite and PostgreSQL.

``backend_url`` yields a fresh, empty store URL per test: a new SQLite file, or a new table prefix in a
PostgreSQL schema made for this test session (dropped at the end). PostgreSQL tests skip when the server is
not reachable. ``STEPDANCE_TEST_POSTGRES`` overrides the server URL.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from stepdance.store import Store, open_store

POSTGRES = os.environ.get("STEPDANCE_TEST_POSTGRES", "postgresql://127.0.0.1:5432/test")
BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
_prefixes = itertools.count(1)


def postgres_reachable() -> bool:
    try:
        import psycopg

        psycopg.connect(POSTGRES, connect_timeout=2).close()
    except Exception:
        return False
    return True


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    """A schema of its own for this test session, dropped afterwards."""
    if not postgres_reachable():
        pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432")
    import psycopg

    schema = f"sd_test_{uuid.uuid4().hex[:10]}"
    yield schema
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def url_for(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "memory":
        return "memory://"
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    schema = request.getfixturevalue("postgres_schema")
    return f"{POSTGRES}?schema={schema}&prefix=t{next(_prefixes)}_"


@pytest.fixture(params=BACKENDS)
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return url_for(request.param, tmp_path, request)


@pytest.fixture
def store(backend_url: str) -> Iterator[Store]:
    opened = open_store(backend_url)
    yield opened
    opened.close()
