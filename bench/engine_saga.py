"""The engine's throughput on the three-task saga: executions per second at a given concurrency.

Each execution runs Charge, Reserve and Notify, three Python handlers (synchronous, trivial), with full
durability on SQLite (WAL, synchronous=FULL) and PostgreSQL (synchronous_commit=on). ``--concurrency``
executions are kept in flight. Target: at least 400 executions/s at 64 concurrent on SQLite and PostgreSQL.

    .venv/bin/python bench/engine_saga.py [--executions N] [--concurrency C] [--backends memory,sqlite,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import POSTGRES, console, finish, scratch_database
from stepdance.engine import Client, Engine
from stepdance.settings import Settings
from stepdance.store import open_store

TARGET = 400.0
ROLE = "arn:aws:iam::123456789012:role/bench"

SAGA: dict[str, Any] = {
    "StartAt": "Charge",
    "States": {
        "Charge": {"Type": "Task", "Resource": "charge", "ResultPath": "$.payment", "Next": "Reserve"},
        "Reserve": {"Type": "Task", "Resource": "reserve", "ResultPath": "$.reservation", "Next": "Notify"},
        "Notify": {"Type": "Task", "Resource": "notify", "ResultPath": None, "End": True},
    },
}


def charge(order: dict[str, Any]) -> dict[str, Any]:
    return {"charged": order["amount"]}


def reserve(order: dict[str, Any]) -> dict[str, Any]:
    return {"reserved": order["sku"]}


def notify(order: dict[str, Any]) -> None:
    return None


async def run(url: str, executions: int, concurrency: int) -> float:
    store = open_store(url)
    async with Engine(store, Settings(lease_seconds=30)) as engine:
        for name, fn in (("charge", charge), ("reserve", reserve), ("notify", notify)):
            engine.register(name, fn)
        client = Client(engine)
        sm = await client.create_state_machine(name="saga", definition=json.dumps(SAGA), roleArn=ROLE)
        arn = sm["stateMachineArn"]
        slots = asyncio.Semaphore(concurrency)

        async def one(i: int) -> None:
            async with slots:
                order = json.dumps({"order": i, "amount": 10 + i % 7, "sku": f"sku-{i % 13}"})
                started = await client.start_execution(stateMachineArn=arn, name=f"order-{i}", input=order)
                record = await engine.wait(started["executionArn"])
                assert record.status == "SUCCEEDED", record

        await asyncio.gather(*(one(i) for i in range(20)))  # warm up: parse, caches, connections
        began = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(20, 20 + executions)))
        seconds = time.perf_counter() - began
        committer = engine.committer
    store.close()
    busy = committer.busy_seconds / (time.perf_counter() - began)  # may pass 100% with parallel commits
    console.print(
        f"  {committer.changes / max(committer.batches, 1):.1f} changes per commit, committer busy {busy:.0%}"
    )
    return executions / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--executions", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--backends", default="memory,sqlite,postgres")
    args = parser.parse_args()
    figures: dict[str, Any] = {"executions": args.executions, "concurrency": args.concurrency}
    for backend in args.backends.split(","):
        console.print(f"[bold]{backend}[/]: {args.executions} sagas, {args.concurrency} in flight")
        if backend == "memory":
            rate = asyncio.run(run("memory://", args.executions, args.concurrency))
        elif backend == "sqlite":
            with tempfile.TemporaryDirectory() as scratch:
                rate = asyncio.run(
                    run(f"sqlite:///{Path(scratch) / 'bench.db'}", args.executions, args.concurrency)
                )
        else:
            with scratch_database("stepdance_bench") as url:
                rate = asyncio.run(run(url, args.executions, args.concurrency))
        console.print(f"  [bold]{rate:.0f}[/] executions/s")
        figures[f"{backend}_executions_per_second"] = round(rate, 1)
        if backend != "memory":
            figures[f"{backend}_vs_target_ratio"] = round(rate / TARGET, 2)
    console.print(f"PostgreSQL server: {POSTGRES}")
    finish(figures, {"sqlite_vs_target_ratio": 1.0, "postgres_vs_target_ratio": 1.0})


if __name__ == "__main__":
    main()
