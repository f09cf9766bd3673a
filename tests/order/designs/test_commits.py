"""Service calls grouped into shared transactions on SQLite, each in a transaction of its own on
PostgreSQL: every call returns once its changes are committed, and its failure undoes only its own."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, event, insert, select

from stepdance.order.db import begun
from stepdance.order.designs.commits import GroupCommit
from tests.order.conftest import Backend
from tests.order.helpers import on_threads

metadata = MetaData()
rows = Table("rows", metadata, Column("id", Integer, primary_key=True), Column("note", String(32)))


class Decided(Exception):
    """An answer that is recorded, then raised (as a decline is)."""


@pytest.fixture
def calls(backend: Backend) -> GroupCommit:
    engine = backend.db("payment")
    metadata.create_all(engine)
    return GroupCommit(engine, keep=(Decided,))


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


def test_calls_are_grouped_on_sqlite_only(calls: GroupCommit, backend: Backend) -> None:
    assert calls.grouped is (backend.kind == "sqlite")


def test_a_call_returns_its_result_once_committed(calls: GroupCommit) -> None:
    assert calls.run(add(calls, "a")) == "a"
    assert notes(calls) == ["a"]


def test_a_failed_call_undoes_only_its_own_changes_and_a_kept_one_keeps_them(calls: GroupCommit) -> None:
    outcomes: dict[int, object] = {}

    def work(i: int) -> None:
        then = [None, RuntimeError("boom"), Decided("declined")][i % 3]
        try:
            outcomes[i] = calls.run(add(calls, f"n{i:02d}", then))
        except Exception as error:
            outcomes[i] = type(error).__name__

    on_threads(30, work)

    assert [outcomes[i] for i in range(3)] == ["n00", "RuntimeError", "Decided"]
    kept = [f"n{i:02d}" for i in range(30) if i % 3 != 1]
    assert notes(calls) == kept


def test_many_threads_share_few_transactions_on_sqlite(calls: GroupCommit) -> None:
    if not calls.grouped:
        pytest.skip("calls are not grouped on PostgreSQL")
    commits = 0
    lock = threading.Lock()

    def count_commits(*_: object) -> None:
        nonlocal commits
        with lock:
            commits += 1

    event.listen(calls.engine, "commit", count_commits)
    on_threads(40, lambda i: calls.run(add(calls, f"n{i:02d}")))
    event.remove(calls.engine, "commit", count_commits)

    assert len(notes(calls)) == 40
    assert commits < 40


def test_a_call_that_breaks_the_shared_transaction_fails_it_and_the_next_gets_a_new_one(
    calls: GroupCommit,
) -> None:
    def break_the_connection(tx: Connection | None) -> None:
        assert tx is not None
        tx.connection.dbapi_connection.close()  # type: ignore[union-attr]

    if not calls.grouped:
        pytest.skip("calls are not grouped on PostgreSQL")
    with pytest.raises(Exception):  # noqa: B017 - whatever the driver raises for a closed connection
        calls.run(break_the_connection)
    assert calls.run(add(calls, "after")) == "after"  # the next call gets a fresh group
    assert notes(calls) == ["after"]
