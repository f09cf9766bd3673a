"""Service calls batched into shared transactions (or, when told, each in a transaction of its own): every
call returns once its changes are committed, and its failure undoes only its own."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, event, insert, select

from stepdance.order.db import begun
from stepdance.order.designs.commits import GroupCommit
from tests.order.conftest import Backend

metadata = MetaData()
rows = Table("rows", metadata, Column("id", Integer, primary_key=True), Column("note", String(32)))


class Decided(Exception):
    """An answer that is recorded, then raised (as a decline is)."""


def opened(backend: Backend, *, group: bool) -> Iterator[GroupCommit]:
    engine = backend.db("payment")
    metadata.create_all(engine)
    calls = GroupCommit(engine, keep=(Decided,), group=group)
    yield calls
    calls.close()


@pytest.fixture(params=["batched", "one by one"])
def calls(request: pytest.FixtureRequest, backend: Backend) -> Iterator[GroupCommit]:
    yield from opened(backend, group=request.param == "batched")


@pytest.fixture
def batched(backend: Backend) -> Iterator[GroupCommit]:
    yield from opened(backend, group=True)


def notes(calls: GroupCommit) -> list[str]:
    with calls.engine.connect() as conn:
        return sorted(conn.execute(select(rows.c.note)).scalars())


def add(calls: GroupCommit, note: str, then: Exception | None = None) -> Callable[[Connection | None], str]:
    """A service call: writes a row in the caller's transaction (or its own) and maybe fails inside it,
    or records a decision and raises it afterwards, as the services do."""

    def call(tx: Connection | None) -> str:
        with begun(calls.engine, tx) as conn:
            conn.execute(insert(rows).values(note=note))
            if then is not None and not isinstance(then, Decided):
                raise then
        if then is not None:
            raise then
        return note

    return call


async def test_a_call_returns_its_result_once_committed(calls: GroupCommit) -> None:
    assert await calls.run(add(calls, "a")) == "a"
    assert notes(calls) == ["a"]


async def test_a_failed_call_undoes_only_its_own_changes_and_a_kept_one_keeps_them(
    calls: GroupCommit,
) -> None:
    async def one(i: int) -> object:
        then = [None, RuntimeError("boom"), Decided("declined")][i % 3]
        try:
            return await calls.run(add(calls, f"n{i:02d}", then))
        except Exception as error:
            return type(error).__name__

    outcomes = await asyncio.gather(*(one(i) for i in range(30)))

    assert outcomes[:3] == ["n00", "RuntimeError", "Decided"]
    assert notes(calls) == [f"n{i:02d}" for i in range(30) if i % 3 != 1]


async def test_calls_made_at_once_share_few_transactions(batched: GroupCommit) -> None:
    commits = 0

    def count_commits(*_: object) -> None:
        nonlocal commits
        commits += 1

    event.listen(batched.engine, "commit", count_commits)
    try:
        await asyncio.gather(*(batched.run(add(batched, f"n{i:02d}")) for i in range(40)))
    finally:
        event.remove(batched.engine, "commit", count_commits)

    assert len(notes(batched)) == 40
    assert commits <= 2  # the first call's batch, then everything queued meanwhile


async def test_a_failed_transaction_fails_every_call_of_its_batch_and_the_next_batch_is_new(
    batched: GroupCommit,
) -> None:
    def break_the_connection(tx: Connection | None) -> None:
        assert tx is not None
        tx.connection.dbapi_connection.close()  # type: ignore[union-attr]

    outcomes = await asyncio.gather(
        batched.run(add(batched, "before")), batched.run(break_the_connection), return_exceptions=True
    )
    assert all(isinstance(o, Exception) for o in outcomes), outcomes
    assert await batched.run(add(batched, "after")) == "after"
    assert notes(batched) == ["after"]
