"""The batched write path: one transaction for many executions' changes.

Inside the transaction: lock and read the ``(version, owner)`` of the batch's executions, plan
(:mod:`stepdance.store.plan`), then write each table with one statement per kind of operation
(:mod:`.batch`), so a batch costs a handful of statements whatever its size.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import Connection, delete, select, update

from stepdance.store.errors import StoreError
from stepdance.store.plan import Plan, make_plan
from stepdance.store.records import Change, ExecutionRecord, TaskRecord
from stepdance.store.sql.batch import Batch, batch_for
from stepdance.store.sql.schema import Tables

EXECUTION_COLUMNS = [*ExecutionRecord.__slots__]
TASK_COLUMNS = [*TaskRecord.__slots__]
UPDATED = ("version", "snapshot", "status", "output", "error", "cause", "stop_date", "last_event_id")
KEEP_UNLESS_SET = frozenset(UPDATED) - {"version"}


def commit(conn: Connection, t: Tables, changes: Sequence[Change]) -> list[StoreError | None]:
    arns = sorted({c.execution_arn for c in changes})
    ex = t.executions
    query = select(ex.c.arn, ex.c.version, ex.c.owner).where(ex.c.arn.in_(arns)).order_by(ex.c.arn)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    current = {row.arn: (row.version, row.owner) for row in conn.execute(query)}
    plan = make_plan(changes, current)
    with _pipelined(conn):
        _write(conn, t, plan)
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


def _write(conn: Connection, t: Tables, plan: Plan) -> None:
    rows = batch_for(conn)
    _executions(conn, t, plan, rows)
    _timers(conn, t, plan, rows)
    _tasks(conn, t, plan, rows)
    if plan.signals_consumed:
        conn.execute(delete(t.signals).where(t.signals.c.id.in_(plan.signals_consumed)))
    if plan.finished:
        _finish(conn, t, sorted(plan.finished))


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


def _finish(conn: Connection, t: Tables, arns: list[str]) -> None:
    """A finished execution owes nothing: no timers, no signals, no open tasks (tokens stay, closed)."""
    tk = t.tasks
    conn.execute(delete(t.timers).where(t.timers.c.execution_arn.in_(arns)))
    conn.execute(delete(t.signals).where(t.signals.c.execution_arn.in_(arns)))
    conn.execute(delete(tk).where(tk.c.execution_arn.in_(arns), tk.c.token.is_(None)))
    conn.execute(
        update(tk).where(tk.c.execution_arn.in_(arns), tk.c.status != "CLOSED").values(status="CLOSED")
    )
