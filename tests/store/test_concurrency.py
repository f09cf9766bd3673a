"""Concurrent writers, claimers and pollers, in threads and (SQLite, PostgreSQL) in separate processes."""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from stepdance.store import Store, TaskRecord, open_store
from tests.store.factories import create, execution_arn, step, task

ACTIVITY = "arn:aws:states:us-east-1:123456789012:activity:pack"


def started(task: TaskRecord) -> dict[str, Any]:
    return {"type": "TaskStarted", "task_id": task.task_id}


def test_writers_in_threads_each_advance_their_own_executions(store: Store) -> None:
    def writer(w: int) -> None:
        names = [f"w{w}-{i}" for i in range(5)]
        store.commit([create(n, owner=f"w{w}") for n in names])
        for version in range(1, 21):
            results = store.commit([step(n, version, first_event=version + 1, owner=f"w{w}") for n in names])
            assert results == [None] * len(names)

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(writer, range(6)))
    for w in range(6):
        record = store.get_execution(execution_arn(f"w{w}-3"))
        assert (record.version, record.last_event_id) == (21, 21)
        assert [e["id"] for e in store.get_history(record.arn, 100).items] == list(range(1, 22))


def test_racing_writers_on_one_execution_never_both_win_a_version(store: Store) -> None:
    store.commit([create("e1")])
    arn = execution_arn("e1")

    def racer(_: int) -> int:
        won = 0
        for _ in range(15):
            record = store.get_execution(arn)
            (result,) = store.commit([step("e1", record.version, first_event=record.last_event_id + 1)])
            won += result is None
        return won

    with ThreadPoolExecutor(4) as pool:
        wins = sum(pool.map(racer, range(4)))
    record = store.get_execution(arn)
    assert record.version == 1 + wins
    assert [e["id"] for e in store.get_history(arn, 1000).items] == list(range(1, wins + 2))


def test_claimers_in_threads_never_share_an_execution(store: Store) -> None:
    store.commit([create(f"e{i}", owner="dead", lease_until=1.0) for i in range(60)])

    def claimer(w: int) -> list[str]:
        mine: list[str] = []
        while batch := store.claim_executions(f"w{w}", 10.0, 100.0, 7):
            mine += [e.arn for e in batch]
        return mine

    with ThreadPoolExecutor(5) as pool:
        claimed = [arn for part in pool.map(claimer, range(5)) for arn in part]
    assert sorted(claimed) == sorted(execution_arn(f"e{i}") for i in range(60))


def test_pollers_in_threads_each_get_a_different_activity_task(store: Store) -> None:
    tasks = [
        task("e1", str(i), kind="activity", token=f"t{i}", resource=ACTIVITY, created=float(i))
        for i in range(40)
    ]
    store.commit([create("e1", tasks_added=tasks)])

    def poller(w: int) -> list[str]:
        got: list[str] = []
        while (claimed := store.claim_activity_task(ACTIVITY, f"w{w}", 5.0, started)) is not None:
            got.append(claimed.token or "")
        return got

    with ThreadPoolExecutor(5) as pool:
        tokens = [t for part in pool.map(poller, range(5)) for t in part]
    assert sorted(tokens) == sorted(f"t{i}" for i in range(40))
    assert len(store.fetch_signals("worker-a", 100)) == 40


def _claim_and_advance(url: str, worker: str, go: Any, results: Any) -> None:
    store = open_store(url)
    mine: list[str] = []
    go.wait(60)
    while batch := store.claim_executions(worker, 10.0, 1e12, 3):
        for record in batch:
            (result,) = store.commit([step(record.name, record.version, first_event=2, owner=worker)])
            assert result is None
            mine.append(record.arn)
        time.sleep(0.005)  # the work a real worker does between claims; lets the others at the lock
    store.close()
    results.put(mine)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_worker_processes_share_executions_without_overlap(
    backend: str, tmp_path: Any, request: pytest.FixtureRequest
) -> None:
    from tests.store.backends import url_for

    url = url_for(backend, tmp_path, request)
    store = open_store(url)
    store.commit([create(f"e{i}", owner=None, lease_until=0.0) for i in range(120)])
    ctx = multiprocessing.get_context("spawn")
    go, results = ctx.Barrier(3), ctx.Queue()
    workers = [ctx.Process(target=_claim_and_advance, args=(url, f"p{i}", go, results)) for i in range(3)]
    for worker in workers:
        worker.start()
    parts = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(10)
        assert worker.exitcode == 0
    claimed = [arn for part in parts for arn in part]
    assert sorted(claimed) == sorted(execution_arn(f"e{i}") for i in range(120))
    assert sum(1 for part in parts if part) >= 2, "the processes did not run side by side"
    assert all(store.get_execution(arn).last_event_id == 2 for arn in claimed)
    store.close()
