"""The DBOS side of ``engine_vs_dbos``: the three-step saga as one DBOS workflow of three steps.

Configuration, chosen by measurement on this machine (64 in flight, 2 cores): async workflows and async
steps started with ``DBOS.start_workflow_async`` (about 55-80 workflows/s) beat sync workflows started with
``DBOS.start_workflow`` on its thread pool (19/s on SQLite, 66/s on PostgreSQL) and queues with
``worker_concurrency=64`` (30-43/s). On SQLite the system database file is switched to WAL before DBOS opens
it (DBOS leaves SQLite's rollback journal otherwise, which ran at 20/s); its connections keep SQLite's
default ``synchronous=FULL``, so both sides fsync every commit. On PostgreSQL the system database pool holds
a connection per workflow in flight (64, not the default 20).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dbos import DBOS, DBOSConfig

from _common import fsync_setting

CONFIGURATION = (
    "async workflow + 3 async steps, DBOS.start_workflow_async, 64 in flight; SQLite file in WAL mode;"
    " PostgreSQL pool of 64"
)


@DBOS.step()
async def charge(order: dict[str, Any]) -> dict[str, Any]:
    return {"charged": order["amount"]}


@DBOS.step()
async def reserve(order: dict[str, Any]) -> dict[str, Any]:
    return {"reserved": order["sku"]}


@DBOS.step()
async def notify(order: dict[str, Any]) -> dict[str, Any]:
    return {"notified": order["customer"]}


@DBOS.workflow()
async def saga(order: dict[str, Any]) -> dict[str, Any]:
    return {**await charge(order), **await reserve(order), **await notify(order)}


@dataclass
class Measured:
    count: int
    seconds: float
    durability: str

    @property
    def per_second(self) -> float:
        return self.count / self.seconds


def measure(url: str, count: int, concurrency: int, done: Callable[[], None]) -> Measured:
    """Launch DBOS on the system database ``url``, run ``count`` sagas with ``concurrency`` in flight
    (after a warm-up round that is not counted), shut DBOS down."""
    if url.startswith("sqlite:///"):
        _wal(Path(url.removeprefix("sqlite:///")))
    config: DBOSConfig = {
        "name": "stepdance-bench",
        "system_database_url": url,
        "run_admin_server": False,
        "log_level": "WARNING",
    }
    if not url.startswith("sqlite"):
        config["sys_db_pool_size"] = concurrency  # a connection per workflow in flight (the default is 20)
    DBOS(config=config)
    DBOS.launch()
    logging.getLogger("dbos").setLevel(logging.WARNING)
    try:
        durability = _durability()
        asyncio.run(_run(concurrency, concurrency, lambda: None))
        seconds = asyncio.run(_run(count, concurrency, done))
    finally:
        DBOS.destroy(destroy_registry=False)
    return Measured(count, seconds, durability)


async def _run(count: int, concurrency: int, done: Callable[[], None]) -> float:
    gate = asyncio.Semaphore(concurrency)
    loop = asyncio.get_running_loop()

    async def one(i: int) -> None:
        async with gate:
            handle = await DBOS.start_workflow_async(saga, {"amount": i, "sku": "sku-1", "customer": "c"})
            result = await handle.get_result()
            assert result["charged"] == i
            done()

    began = loop.time()
    await asyncio.gather(*(one(i) for i in range(count)))
    return loop.time() - began


def _wal(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")


def _durability() -> str:
    """What DBOS's own system-database connections say."""
    from dbos._dbos import _get_dbos_instance

    return fsync_setting(_get_dbos_instance()._sys_db.engine)
