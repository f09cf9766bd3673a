"""The batched write path: one transaction for many executions' changes.

Inside the transaction: lock and read the ``(version, owner)`` of the batch's executions, plan
(:mod:`stepdance.store.plan`), then write each table with one executemany per kind of statement, so a batch
costs a handful of round trips whatever its size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Float, Integer, Text, and_, bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from stepdance.store.errors import StoreError
from stepdance.store.plan import Plan, make_plan
from stepdance.store.records import Change, as_row
from stepdance.store.sql.schema import Tables


def commit(conn: Connection, t: Tables, changes: Sequence[Change]) -> list[StoreError | None]:
    arns = sorted({c.execution_arn for c in changes})
    ex = t.executions
    query = select(ex.c.arn, ex.c.version, ex.c.owner).where(ex.c.arn.in_(arns)).order_by(ex.c.arn)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    current = {row.arn: (row.version, row.owner) for row in conn.execute(query)}
    plan = make_plan(changes, current)
    _executions(conn, t, plan)
    _work(conn, t, plan)
    return plan.results


def _executions(conn: Connection, t: Tables, plan: Plan) -> None:
    ex = t.executions
    if plan.inserts:
        rows = []
        for record, snapshot in plan.inserts.values():
            row = as_row(record)
            row["snapshot"] = snapshot
            rows.append(row)
        conn.execute(ex.insert(), rows)
    if plan.updates:
        conn.execute(_update_statement(t), [_update_params(arn, row) for arn, row in plan.updates.items()])
    if plan.events:
        conn.execute(
            t.history.insert(),
            [{"execution_arn": a, "event_id": i, "body": body} for a, i, body in plan.events],
        )


_UPDATES: dict[int, Any] = {}


def _update_statement(t: Tables) -> Any:
    """The row update, built once per table set: COALESCE keeps the columns a change leaves alone."""
    ex = t.executions
    if id(ex) in _UPDATES:
        return _UPDATES[id(ex)]

    def keep(name: str, type_: Any) -> Any:
        return func.coalesce(bindparam(f"p_{name}", type_=type_), ex.c[name])

    statement = _UPDATES[id(ex)] = (
        update(ex)
        .where(ex.c.arn == bindparam("p_arn"))
        .values(
            version=bindparam("p_version", type_=Integer),
            snapshot=keep("snapshot", Text),
            status=keep("status", Text),
            output=keep("output", Text),
            error=keep("error", Text),
            cause=keep("cause", Text),
            stop_date=keep("stop_date", Float),
            last_event_id=keep("last_event_id", Integer),
        )
    )
    return statement


def _update_params(arn: str, row: Any) -> dict[str, Any]:
    params = {f"p_{name}": getattr(row, name) for name in row.__slots__}
    params["p_arn"] = arn
    return params


def _work(conn: Connection, t: Tables, plan: Plan) -> None:
    _timers(conn, t, plan)
    _tasks(conn, t, plan)
    if plan.signals_consumed:
        conn.execute(delete(t.signals).where(t.signals.c.id.in_(plan.signals_consumed)))
    if plan.finished:
        _finish(conn, t, sorted(plan.finished))


def _timers(conn: Connection, t: Tables, plan: Plan) -> None:
    tm = t.timers
    if plan.timers_deleted:
        conn.execute(
            delete(tm).where(
                and_(tm.c.execution_arn == bindparam("p_arn"), tm.c.timer_id == bindparam("p_id"))
            ),
            [{"p_arn": a, "p_id": i} for a, i in plan.timers_deleted],
        )
    if plan.timers_set:
        insert = postgresql.insert(tm) if conn.dialect.name == "postgresql" else sqlite.insert(tm)
        upsert = insert.on_conflict_do_update(
            index_elements=[tm.c.execution_arn, tm.c.timer_id], set_={"due": insert.excluded.due}
        )
        conn.execute(
            upsert, [{"execution_arn": a, "timer_id": i, "due": d} for (a, i), d in plan.timers_set.items()]
        )


def _tasks(conn: Connection, t: Tables, plan: Plan) -> None:
    tk = t.tasks
    key = and_(tk.c.execution_arn == bindparam("p_arn"), tk.c.task_id == bindparam("p_id"))
    if plan.tasks_inserted:
        conn.execute(tk.insert(), [as_row(task) for task in plan.tasks_inserted.values()])
    if plan.task_status:
        conn.execute(
            update(tk).where(key).values(status=bindparam("p_status")),
            [{"p_arn": a, "p_id": i, "p_status": s} for (a, i), s in plan.task_status.items()],
        )
    if plan.tasks_deleted:
        conn.execute(delete(tk).where(key), [{"p_arn": a, "p_id": i} for a, i in plan.tasks_deleted])


def _finish(conn: Connection, t: Tables, arns: list[str]) -> None:
    """A finished execution owes nothing: no timers, no signals, no open tasks (tokens stay, closed)."""
    tk = t.tasks
    conn.execute(delete(t.timers).where(t.timers.c.execution_arn.in_(arns)))
    conn.execute(delete(t.signals).where(t.signals.c.execution_arn.in_(arns)))
    conn.execute(delete(tk).where(tk.c.execution_arn.in_(arns), tk.c.token.is_(None)))
    conn.execute(
        update(tk).where(tk.c.execution_arn.in_(arns), tk.c.status != "CLOSED").values(status="CLOSED")
    )
