"""The scenarios' private servers, for real: a PostgreSQL cluster of the test's own keeps what it committed
across a SIGKILL of all its processes and a restart on the same port, and a machine without PostgreSQL's
programs is told so by name."""

from __future__ import annotations

import asyncio
from pathlib import Path

import psycopg
import pytest

from stepdance.faults import servers
from stepdance.faults.servers import PrivatePostgres, ServerUnavailable


def _started(tmp_path: Path) -> PrivatePostgres:
    server = PrivatePostgres(tmp_path / "postgres")
    try:
        server.start()
    except ServerUnavailable as error:
        server.remove()
        pytest.skip(f"a private PostgreSQL cannot run here: {error}")
    return server


@pytest.mark.timeout(60)
async def test_a_private_postgresql_keeps_what_it_committed_across_a_crash(tmp_path: Path) -> None:
    server = _started(tmp_path)
    try:
        with psycopg.connect(server.url, autocommit=True) as conn:
            conn.execute("CREATE TABLE kept (n int)")
            conn.execute("INSERT INTO kept VALUES (1), (2)")
        held = psycopg.connect(server.url)
        held.execute("INSERT INTO kept VALUES (3)")  # never committed: the crash takes it
        port = server.port
        await server.outage(0.0, 0.5)
        assert server.killed_at is not None and server.back_at is not None
        assert server.back_at - server.killed_at >= 0.4 and server.port == port
        with pytest.raises(psycopg.OperationalError):
            held.execute("SELECT 1")  # the old connection is gone with the server it talked to
        held.close()
        with psycopg.connect(server.url) as conn:
            assert conn.execute("SELECT n FROM kept ORDER BY n").fetchall() == [(1,), (2,)]
    finally:
        server.remove()
    assert not server.directory.exists()


async def test_without_postgresqls_programs_the_run_is_told_which_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(servers, "POSTGRES_DIRS", str(tmp_path))
    with pytest.raises(ServerUnavailable, match="initdb is not installed"):
        await asyncio.to_thread(PrivatePostgres(tmp_path / "postgres").start)
