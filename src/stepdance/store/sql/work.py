"""Work that several processes share: leases on executions, activity tasks, task tokens, queued signals.

On PostgreSQL the rows a caller takes are locked ``FOR UPDATE SKIP LOCKED`` so concurrent workers never
get the same one; on SQLite every write transaction holds the database's single write lock.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, Select, literal_column, select, update

from stepdance.store.base import SignalFor
from stepdance.store.errors import ExecutionDoesNotExist, ExecutionNotRedrivable, TaskClosed, TaskDoesNotExist
from stepdance.store.plan import dumps
from stepdance.store.records import ANSWERABLE, REDRIVABLE, RUNNING, ExecutionRecord, TaskRecord
from stepdance.store.sql.schema import Tables


def running(t: Tables) -> Any:
    """``status = 'RUNNING'`` as a literal, so the partial indexes apply."""
    return t.executions.c.status == literal_column("'RUNNING'")


def execution_record(row: Row[Any]) -> ExecutionRecord:
    values = dict(row._mapping)
    snapshot = values.pop("snapshot", None)
    return ExecutionRecord(**values, snapshot=None if snapshot is None else json.loads(snapshot))


def task_record(row: Row[Any]) -> TaskRecord:
    return TaskRecord(**row._mapping)


def _locked(conn: Connection, query: Select[Any], *, skip: bool = False) -> Select[Any]:
    return query.with_for_update(skip_locked=skip) if conn.dialect.name == "postgresql" else query


def claim_executions(
    conn: Connection, t: Tables, owner: str, now: float, lease_until: float, limit: int
) -> list[ExecutionRecord]:
    ex = t.executions
    pick = select(ex.c.arn).where(running(t), ex.c.lease_until < now).order_by(ex.c.lease_until).limit(limit)
    claimed = conn.execute(
        update(ex)
        .where(ex.c.arn.in_(_locked(conn, pick, skip=True)))
        .values(owner=owner, lease_until=lease_until, version=ex.c.version + 1)
        .returning(*ex.c)
    )
    return [execution_record(row) for row in claimed]


def renew_leases(conn: Connection, t: Tables, owner: str, lease_until: float) -> int:
    return _set_leases(conn, t, owner, None, {"lease_until": lease_until})


def release_leases(conn: Connection, t: Tables, owner: str, arns: Sequence[str] | None) -> int:
    return _set_leases(conn, t, owner, arns, {"owner": None, "lease_until": 0.0})


def _set_leases(
    conn: Connection, t: Tables, owner: str, arns: Sequence[str] | None, values: dict[str, Any]
) -> int:
    """Update ``owner``'s RUNNING executions (those of ``arns``), locking them in arn order first.

    A commit locks its executions in arn order too; a plain ``UPDATE ... WHERE owner = ?`` would lock
    them in whatever order the scan meets them and deadlock with it (measured on PostgreSQL: a dozen
    deadlocks per benchmark run, each stalling both sides for a second)."""
    ex = t.executions
    mine = select(ex.c.arn).where(running(t), ex.c.owner == owner).order_by(ex.c.arn)
    if arns is not None:
        mine = mine.where(ex.c.arn.in_(list(arns)))
    result = conn.execute(update(ex).where(ex.c.arn.in_(_locked(conn, mine))).values(values))
    return int(result.rowcount)


def add_signal(conn: Connection, t: Tables, arn: str, body: dict[str, Any], now: float) -> int:
    if conn.execute(select(t.executions.c.arn).where(t.executions.c.arn == arn)).first() is None:
        raise ExecutionDoesNotExist(arn)
    return _signal(conn, t, arn, body, now)


def _signal(conn: Connection, t: Tables, arn: str, body: dict[str, Any], now: float) -> int:
    row = {"execution_arn": arn, "body": dumps(body), "created": now}
    return int(conn.execute(t.signals.insert().values(row).returning(t.signals.c.id)).scalar_one())


def claim_activity_task(
    conn: Connection, t: Tables, activity_arn: str, worker: str, now: float, started: SignalFor
) -> TaskRecord | None:
    tk = t.tasks
    pick = (
        select(tk)
        .where(
            tk.c.resource == activity_arn,
            tk.c.status == literal_column("'SCHEDULED'"),  # literals: the partial index's condition
            tk.c.kind == literal_column("'activity'"),
        )
        .order_by(tk.c.created)
        .limit(1)
    )
    row = conn.execute(_locked(conn, pick, skip=True)).first()
    if row is None:
        return None
    task = task_record(row)
    task.status, task.worker = "STARTED", worker
    _set_task(conn, t, task, worker=worker)
    _signal(conn, t, task.execution_arn, started(task), now)
    return task


def signal_task(
    conn: Connection, t: Tables, token: str, now: float, signal: SignalFor, *, close: bool
) -> TaskRecord:
    row = conn.execute(_locked(conn, select(t.tasks).where(t.tasks.c.token == token))).first()
    if row is None:
        raise TaskDoesNotExist(token)
    task = task_record(row)
    if task.status not in ANSWERABLE:
        raise TaskClosed(token)
    _signal(conn, t, task.execution_arn, signal(task), now)
    if close:
        task.status = "ANSWERED"
        _set_task(conn, t, task)
    return task


def _set_task(conn: Connection, t: Tables, task: TaskRecord, **values: Any) -> None:
    tk = t.tasks
    where = (tk.c.execution_arn == task.execution_arn, tk.c.task_id == task.task_id)
    conn.execute(update(tk).where(*where).values(status=task.status, **values))


def redrive_execution(
    conn: Connection,
    t: Tables,
    arn: str,
    *,
    owner: str | None,
    lease_until: float,
    now: float,
    signal: dict[str, Any],
) -> ExecutionRecord:
    ex = t.executions
    row = conn.execute(_locked(conn, select(ex).where(ex.c.arn == arn))).first()
    if row is None:
        raise ExecutionDoesNotExist(arn)
    if row.status not in REDRIVABLE:
        raise ExecutionNotRedrivable(arn)
    reopened = conn.execute(
        update(ex)
        .where(ex.c.arn == arn)
        .values(
            status=RUNNING,
            output=None,
            error=None,
            cause=None,
            stop_date=None,
            redrive_count=ex.c.redrive_count + 1,
            redrive_date=now,
            owner=owner,
            lease_until=lease_until,
            version=ex.c.version + 1,
        )
        .returning(*ex.c)
    ).one()
    _signal(conn, t, arn, signal, now)
    return execution_record(reopened)
