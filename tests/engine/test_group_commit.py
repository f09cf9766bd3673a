"""Group commit: concurrent executions share transactions; a store that is briefly down is waited out."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import pytest

from stepdance.engine import Client, Engine
from stepdance.engine.committer import GroupCommitter
from stepdance.store import Change, StoreError, StoreUnavailable
from stepdance.store.memory import MemoryStore
from tests.engine.machines import SAGA, machine
from tests.store.factories import create, step


async def test_concurrent_executions_share_commits(engine: Engine, client: Client) -> None:
    engine.register("charge", lambda order: order)
    engine.register("reserve", lambda order: order)
    engine.register("notify", lambda order: None)
    sm = await machine(client, SAGA)
    starts = [client.start_execution(stateMachineArn=sm, input=json.dumps({"n": n})) for n in range(40)]
    arns = [started["executionArn"] for started in await asyncio.gather(*starts)]
    records = await asyncio.gather(*(engine.wait(arn, seconds=30) for arn in arns))
    assert {r.status for r in records} == {"SUCCEEDED"}
    committer = engine.committer
    assert committer.changes >= 40 * 4
    if engine.store.blocking:  # a store that never blocks is written change by change, on the loop
        assert committer.changes / committer.batches > 3, "executions did not share transactions"


async def test_a_store_that_never_blocks_is_written_as_changes_are_submitted() -> None:
    store = MemoryStore()
    committer = GroupCommitter(store)
    future = committer.submit(create("e1"))
    assert future.done() and future.result() is None
    assert store.get_execution(create("e1").execution_arn).version == 1
    refused = committer.submit(create("e1"))
    assert type(refused.exception()).__name__ == "ExecutionAlreadyExists"
    committer.close()


async def test_a_stopped_committer_refuses_changes() -> None:
    committer = GroupCommitter(MemoryStore())
    running = asyncio.create_task(committer.run())
    await asyncio.sleep(0)
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    assert isinstance(committer.submit(create("e1")).exception(), StoreError)
    committer.close()


class FlakyStore(MemoryStore):
    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures
        self.calls = 0

    def commit(self, changes: Sequence[Change]) -> list[StoreError | None]:
        self.calls += 1
        if self.failures:
            self.failures -= 1
            raise StoreUnavailable("connection refused")
        return super().commit(changes)


async def run_committer(committer: GroupCommitter, *changes: Change) -> list[Any]:
    running = asyncio.create_task(committer.run())
    try:
        futures = [committer.submit(change) for change in changes]
        return await asyncio.gather(*futures, return_exceptions=True)
    finally:
        running.cancel()
        committer.close()


async def test_a_batch_is_retried_while_the_store_is_unavailable() -> None:
    store = FlakyStore(failures=2)
    committer = GroupCommitter(store)
    assert await run_committer(committer, create("e1"), create("e2")) == [None, None]
    assert store.calls == 3
    assert store.get_execution(create("e1").execution_arn).version == 1


async def test_a_refused_change_fails_only_its_own_future() -> None:
    store = MemoryStore()
    store.commit([create("e1")])
    stale = step("e1", 7, first_event=2)
    results = await run_committer(GroupCommitter(store), stale, create("e2"))
    assert type(results[0]).__name__ == "ConflictError"
    assert results[1] is None


@pytest.mark.parametrize("count", [1, 5])
async def test_drain_waits_for_submitted_changes(count: int) -> None:
    store = MemoryStore()
    committer = GroupCommitter(store)
    running = asyncio.create_task(committer.run())
    for n in range(count):
        committer.submit(create(f"e{n}"))
    await asyncio.wait_for(committer.drain(), 5)
    assert committer.changes == count
    running.cancel()
    committer.close()
