"""The batched write path: one transaction for many executions' changes.

Inside the transaction: lock and read the ``(version, owner)`` of the batch's executions (in arn order,
as lease renewals do, so the two never deadlock), plan (:mod:`stepdance.store.plan`), then write the
plan's rows with one statement per table and kind of operation (:mod:`.batch`; on PostgreSQL they all go
as one statement), then clear what finished executions left, so a batch costs a handful of statements
whatever its size. Everything runs on the driver's connection with statements compiled once.

SQLite reads the rows, then writes (both in-process, under the write lock). PostgreSQL would pay a round
trip for the read before it could write, so it writes what the plan would be if every change passed
(:func:`~stepdance.store.plan.assumed`) in the same pipeline as the read, and commits when the rows it
locked say so: two round trips per batch (the writes, the commit). When they do not (a lost lease, a
stale version, an execution name already taken), it rolls back and plans from what it read.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import String, any_, bindparam, delete, func, literal_column, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect

from stepdance.store.errors import StoreError
from stepdance.store.plan import EXECUTION_COLUMNS, TASK_COLUMNS, UPDATED, Plan, assumed, make_plan
from stepdance.store.records import Change
from stepdance.store.sql.batch import Batch, Writes, with_clauses
from stepdance.store.sql.engine import integrity_error
from stepdance.store.sql.schema import Tables

KEEP_UNLESS_SET = frozenset(UPDATED) - {"version"}
TIMER_KEY = ("execution_arn", "timer_id")
TASK_KEY = ("execution_arn", "task_id")
CLOSED: Any = literal_column("'CLOSED'")  # a literal: these statements run with their list parameter only

Current = dict[str, tuple[int, str | None]]


class BatchWriter:
    """Writes batches of changes for one set of tables on one dialect."""

    def __init__(self, tables: Tables, dialect: Dialect) -> None:
        self.t = tables
        self.pg = dialect.name == "postgresql"
        self.rows = Batch(dialect)
        ex, tk, t = tables.executions, tables.tasks, tables
        current = select(ex.c.arn, ex.c.version, ex.c.owner).where(self._one_of(ex.c.arn))
        current = current.order_by(ex.c.arn)
        self._current = self._sql(current.with_for_update() if self.pg else current, dialect)
        # A finished execution owes nothing: no timers, no signals, no open tasks (tokens stay, closed).
        # The four touch distinct rows, so PostgreSQL runs them as one statement.
        finish = [
            self._sql(statement, dialect)
            for statement in (
                delete(t.timers).where(self._one_of(t.timers.c.execution_arn)),
                delete(t.signals).where(self._one_of(t.signals.c.execution_arn)),
                delete(tk).where(self._one_of(tk.c.execution_arn), tk.c.token.is_(None)),
                update(tk)
                .where(self._one_of(tk.c.execution_arn), tk.c.token.is_not(None), tk.c.status != CLOSED)
                .values(status=CLOSED),
            )
        ]
        self._finish = [with_clauses(finish)] if self.pg else finish

    def _one_of(self, column: Any) -> Any:
        """``column`` is one of a list bound as ``values``, with one statement text whatever the count:
        ``= ANY(array)`` on PostgreSQL, a JSON array on SQLite."""
        if self.pg:
            return column == any_(bindparam("values", type_=postgresql.ARRAY(column.type)))
        values = func.json_each(bindparam("values", type_=String)).table_valued("value")
        return column.in_(select(values.c.value))

    def _sql(self, statement: Any, dialect: Dialect) -> str:
        return str(statement.compile(dialect=dialect))

    def _many(self, cursor: Any, sql: str, values: list[Any]) -> Any:
        """Run a statement whose one parameter is a list (see :meth:`_one_of`)."""
        return cursor.execute(sql, {"values": values} if self.pg else (orjson.dumps(values).decode(),))

    # ------------------------------------------------------------------ SQLite

    def commit_sqlite(self, conn: Any, changes: Sequence[Change]) -> list[StoreError | None]:
        """``conn``: a sqlite3 connection that does not begin transactions itself."""
        cursor = conn.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            arns = sorted({c.execution_arn for c in changes})
            current = {arn: (v, owner) for arn, v, owner in self._many(cursor, self._current, arns)}
            plan = make_plan(changes, current)
            self._write(cursor, plan)
            cursor.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.rollback()
            raise
        return plan.results

    # ------------------------------------------------------------------ PostgreSQL

    def commit_postgres(self, conn: Any, changes: Sequence[Change]) -> list[StoreError | None]:
        """``conn``: a psycopg connection, idle; it is switched to autocommit for the time of the call,
        so that BEGIN goes out in the pipeline with the rest instead of costing a round trip."""
        conn.autocommit = True
        try:
            return self._commit_postgres(conn, changes)
        except BaseException:
            with contextlib.suppress(Exception):
                conn.execute("ROLLBACK")
            raise
        finally:
            # A connection the server dropped mid-pipeline cannot leave autocommit ("in transaction status
            # ACTIVE"): that error would hide the one that says the database went away. Left in
            # autocommit, the pool discards it (store.engine.reusable).
            with contextlib.suppress(Exception):
                conn.autocommit = False

    def _commit_postgres(self, conn: Any, changes: Sequence[Change]) -> list[StoreError | None]:
        arns = sorted({c.execution_arn for c in changes})
        expected = assumed(changes)
        guess = make_plan(changes, {arn: row for arn, row in expected.items() if row is not None})
        try:
            current = self._lock(conn, arns, guess)
        except Exception as error:
            if not integrity_error(error):
                raise
            conn.execute("ROLLBACK")  # an execution to create exists already: plan from what is there
        else:
            if all(current.get(arn) == row for arn, row in expected.items()):
                conn.execute("COMMIT")
                return guess.results
            conn.execute("ROLLBACK")
        current = self._lock(conn, arns, None)
        plan = make_plan(changes, current)
        with conn.pipeline():
            cursor = conn.cursor()
            self._write(cursor, plan)
            cursor.execute("COMMIT")
        return plan.results

    def _lock(self, conn: Any, arns: list[str], plan: Plan | None) -> Current:
        """BEGIN, lock and read the executions of ``arns``, and write ``plan``, in one round trip."""
        with conn.pipeline() as pipeline:
            locked, cursor = conn.cursor(), conn.cursor()
            cursor.execute("BEGIN")
            self._many(locked, self._current, arns)
            if plan is not None:
                self._write(cursor, plan)
            pipeline.sync()
            return {arn: (version, owner) for arn, version, owner in locked.fetchall()}

    # ------------------------------------------------------------------ both

    def _write(self, cursor: Any, plan: Plan) -> None:
        writes = self.rows.writes()
        self._executions(writes, plan)
        self._timers(writes, plan)
        self._tasks(writes, plan)
        writes.delete(self.t.signals, ("id",), [(i,) for i in plan.signals_consumed])
        writes.run(cursor)
        # After the rows above, which it must see (a task added by the change that finished).
        if plan.finished:
            finished = sorted(plan.finished)
            for sql in self._finish:
                self._many(cursor, sql, finished)

    def _executions(self, writes: Writes, plan: Plan) -> None:
        t = self.t
        writes.insert(t.executions, EXECUTION_COLUMNS, plan.inserted_executions())
        writes.update(t.executions, ("arn",), UPDATED, plan.updated_executions(), KEEP_UNLESS_SET)
        writes.insert(t.history, ("execution_arn", "last_event_id", "first_event_id", "events"), plan.events)

    def _timers(self, writes: Writes, plan: Plan) -> None:
        writes.delete(self.t.timers, TIMER_KEY, list(plan.timers_deleted))
        due = [(arn, timer_id, at) for (arn, timer_id), at in plan.timers_set.items()]
        writes.upsert(self.t.timers, TIMER_KEY, (*TIMER_KEY, "due"), due)

    def _tasks(self, writes: Writes, plan: Plan) -> None:
        tasks = self.t.tasks
        writes.insert(tasks, TASK_COLUMNS, plan.inserted_tasks())
        statuses = [(arn, task_id, status) for (arn, task_id), status in plan.task_status.items()]
        writes.update(tasks, TASK_KEY, ("status",), statuses)
        writes.delete(tasks, TASK_KEY, list(plan.tasks_deleted))
