"""The batched write path: one transaction for many executions' changes.

Inside the transaction: lock and read the ``(version, owner)`` of the batch's executions, plan
(:mod:`stepdance.store.plan`), then write each table with one statement per kind of operation
(:mod:`.batch`), so a batch costs a handful of statements whatever its size.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, any_, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql

from stepdance.store.errors import StoreError
from stepdance.store.plan import Plan, make_plan
from stepdance.store.records import Change, ExecutionRecord, TaskRecord
from stepdance.store.sql.batch import Batch, batch_for
from stepdance.store.sql.schema import Tables

EXECUTION_COLUMNS = [*ExecutionRecord.__slots__]
TASK_COLUMNS = [*TaskRecord.__slots__]
UPDATED = ("version", "snapshot", "status", "output", "error", "cause", "stop_date", "last_event_id")
KEEP_UNLESS_SET = frozenset(UPDATED) - {"version"}


@dataclass(frozen=True, slots=True)
class Statements:
    """The statements every commit runs, built once per table set (``arns`` is an expanding bind)."""

    current: Any
    signals_consumed: Any
    finish: tuple[Any, ...]

    @classmethod
    def of(cls, t: Tables, dialect: str) -> Statements:
        key = (id(t.executions), dialect)
        if key not in _STATEMENTS:
            _STATEMENTS[key] = cls._build(t, dialect)
        return _STATEMENTS[key]

    @classmethod
    def _build(cls, t: Tables, dialect: str) -> Statements:
        ex, tk = t.executions, t.tasks
        pg = dialect == "postgresql"

        def one_of(column: Any, name: str) -> Any:
            # PostgreSQL: "= ANY(array)" keeps one statement text whatever the count, so it stays prepared.
            if pg:
                return column == any_(bindparam(name, type_=postgresql.ARRAY(column.type)))
            return column.in_(bindparam(name, expanding=True))

        current = (
            select(ex.c.arn, ex.c.version, ex.c.owner).where(one_of(ex.c.arn, "arns")).order_by(ex.c.arn)
        )
        # A finished execution owes nothing: no timers, no signals, no open tasks (tokens stay, closed).
        finish = (
            delete(t.timers).where(one_of(t.timers.c.execution_arn, "arns")),
            delete(t.signals).where(one_of(t.signals.c.execution_arn, "arns")),
            delete(tk).where(one_of(tk.c.execution_arn, "arns"), tk.c.token.is_(None)),
            update(tk)
            .where(one_of(tk.c.execution_arn, "arns"), tk.c.status != "CLOSED")
            .values(status="CLOSED"),
        )
        return cls(
            current=current.with_for_update() if pg else current,
            signals_consumed=delete(t.signals).where(one_of(t.signals.c.id, "ids")),
            finish=finish,
        )


_STATEMENTS: dict[tuple[int, str], Statements] = {}


def commit(conn: Connection, t: Tables, changes: Sequence[Change]) -> list[StoreError | None]:
    statements = Statements.of(t, conn.dialect.name)
    arns = sorted({c.execution_arn for c in changes})
    current = {row.arn: (row.version, row.owner) for row in conn.execute(statements.current, {"arns": arns})}
    plan = make_plan(changes, current)
    with _pipelined(conn):
        _write(conn, t, plan, statements)
    return plan.results


@contextmanager
def _pipelined(conn: Connection) -> Iterator[None]:
    """On PostgreSQL, send the writes without waiting for each one's answer (psycopg's pipeline mode):
    none of them returns anything we read, and the commit waits for them all."""
    if conn.dialect.name != "postgresql":
        yield
        return
    with conn.connection.driver_connection.pipeline():  # type: ignore[union-attr]
        yield


def _write(conn: Connection, t: Tables, plan: Plan, statements: Statements) -> None:
    rows = batch_for(conn)
    _executions(conn, t, plan, rows)
    _timers(conn, t, plan, rows)
    _tasks(conn, t, plan, rows)
    if plan.signals_consumed:
        conn.execute(statements.signals_consumed, {"ids": plan.signals_consumed})
    if plan.finished:
        finished = {"arns": sorted(plan.finished)}
        for statement in statements.finish:
            conn.execute(statement, finished)


def _executions(conn: Connection, t: Tables, plan: Plan, rows: Batch) -> None:
    created = [
        tuple(snapshot if c == "snapshot" else getattr(record, c) for c in EXECUTION_COLUMNS)
        for record, snapshot in plan.inserts.values()
    ]
    rows.insert(conn, t.executions, EXECUTION_COLUMNS, created)
    updated = [(arn, *(getattr(row, c) for c in UPDATED)) for arn, row in plan.updates.items()]
    rows.update(conn, t.executions, ("arn",), UPDATED, updated, KEEP_UNLESS_SET)
    rows.insert(conn, t.history, ("execution_arn", "event_id", "body"), plan.events)


def _timers(conn: Connection, t: Tables, plan: Plan, rows: Batch) -> None:
    key = ("execution_arn", "timer_id")
    rows.delete(conn, t.timers, key, list(plan.timers_deleted))
    due = [(arn, timer_id, at) for (arn, timer_id), at in plan.timers_set.items()]
    rows.upsert(conn, t.timers, key, (*key, "due"), due)


def _tasks(conn: Connection, t: Tables, plan: Plan, rows: Batch) -> None:
    key = ("execution_arn", "task_id")
    added = [tuple(getattr(task, c) for c in TASK_COLUMNS) for task in plan.tasks_inserted.values()]
    rows.insert(conn, t.tasks, TASK_COLUMNS, added)
    statuses = [(arn, task_id, status) for (arn, task_id), status in plan.task_status.items()]
    rows.update(conn, t.tasks, key, ("status",), statuses)
    rows.delete(conn, t.tasks, key, list(plan.tasks_deleted))
