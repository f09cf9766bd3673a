"""The SQL store: one implementation for SQLite and PostgreSQL over SQLAlchemy Core.

Reads run on the reader engine, writes on the writer (on PostgreSQL they are the same engine). The write
path lives in :mod:`.commit`, shared work (leases, tasks, signals) in :mod:`.work`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection, Engine, Table, bindparam, delete, exc, func, select, tuple_, update

from stepdance.store import tokens
from stepdance.store.base import SignalFor, Store
from stepdance.store.errors import (
    ActivityAlreadyExists,
    ActivityDoesNotExist,
    ExecutionDoesNotExist,
    StateMachineAlreadyExists,
    StateMachineDoesNotExist,
    StoreError,
    TaskDoesNotExist,
)
from stepdance.store.records import (
    ActivityRecord,
    Change,
    ExecutionRecord,
    Page,
    SignalRecord,
    StateMachineRecord,
    TaskRecord,
    TimerRecord,
)
from stepdance.store.sql import work
from stepdance.store.sql.commit import BatchWriter
from stepdance.store.sql.engine import create_all, drop_all, integrity_error, mapped, reusable
from stepdance.store.sql.schema import Tables


class SqlStore(Store):
    def __init__(self, writer: Engine, tables: Tables, reader: Engine | None = None) -> None:
        self._writer = writer
        self._reader = reader or writer
        self.tables = tables
        self.concurrent_commits = 2 if writer.dialect.name == "postgresql" else 1
        self._batches = BatchWriter(tables, writer.dialect)
        ex = tables.executions
        self._execution_by_arn = select(ex).where(ex.c.arn == bindparam("arn"))
        described = [c for c in ex.c if c.name != "snapshot"]
        self._described_by_arn = select(*described).where(ex.c.arn == bindparam("arn"))
        create_all(writer, tables)

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with mapped(), self._writer.begin() as conn:
            yield conn

    @contextmanager
    def _driver(self) -> Iterator[Any]:
        """A write connection of the driver itself, for the batched write path (:mod:`.commit`)."""
        with mapped():
            pooled = self._writer.raw_connection()
            try:
                yield pooled.driver_connection
            finally:
                if not reusable(pooled.driver_connection):
                    pooled.invalidate()
                pooled.close()

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with mapped(), self._reader.connect() as conn:
            yield conn

    def close(self) -> None:
        self._writer.dispose()
        self._reader.dispose()

    def drop(self) -> None:
        """Drop every table (tests)."""
        drop_all(self._writer, self.tables)

    # ------------------------------------------------------------------ catalog

    def create_state_machine(self, record: StateMachineRecord) -> None:
        try:
            with self._write() as conn:
                conn.execute(self.tables.machines.insert(), asdict(record))
                conn.execute(self.tables.revisions.insert(), asdict(record))
        except StoreError as error:
            if isinstance(error.__cause__, exc.IntegrityError):
                raise StateMachineAlreadyExists(record.arn) from error
            raise

    def get_state_machine(self, arn: str) -> StateMachineRecord:
        return self._machine(self.tables.machines, arn)

    def get_revision(self, arn: str, revision_id: str) -> StateMachineRecord:
        return self._machine(self.tables.revisions, arn, revision_id)

    def _machine(self, table: Table, arn: str, revision_id: str | None = None) -> StateMachineRecord:
        query = select(table).where(table.c.arn == arn)
        if revision_id is not None:
            query = query.where(table.c.revision_id == revision_id)
        with self._read() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise StateMachineDoesNotExist(arn)
        return StateMachineRecord(**row._mapping)

    def update_state_machine(
        self, arn: str, *, definition: str, role_arn: str, revision_id: str, update_date: float
    ) -> StateMachineRecord:
        sm = self.tables.machines
        values = {"definition": definition, "role_arn": role_arn, "revision_id": revision_id}
        with self._write() as conn:
            row = conn.execute(
                update(sm).where(sm.c.arn == arn).values(**values, update_date=update_date).returning(*sm.c)
            ).first()
            if row is None:
                raise StateMachineDoesNotExist(arn)
            record = StateMachineRecord(**row._mapping)
            conn.execute(self.tables.revisions.insert(), asdict(record))
        return record

    def delete_state_machine(self, arn: str) -> None:
        with self._write() as conn:
            conn.execute(delete(self.tables.machines).where(self.tables.machines.c.arn == arn))

    def list_state_machines(self, limit: int, token: str | None = None) -> Page[StateMachineRecord]:
        rows = self._page("sm", self.tables.machines, limit, token)
        return Page([StateMachineRecord(**r._mapping) for r in rows.items], rows.next_token)

    def create_activity(self, record: ActivityRecord) -> None:
        try:
            with self._write() as conn:
                conn.execute(self.tables.activities.insert(), asdict(record))
        except StoreError as error:
            if isinstance(error.__cause__, exc.IntegrityError):
                raise ActivityAlreadyExists(record.arn) from error
            raise

    def get_activity(self, arn: str) -> ActivityRecord:
        act = self.tables.activities
        with self._read() as conn:
            row = conn.execute(select(act).where(act.c.arn == arn)).first()
        if row is None:
            raise ActivityDoesNotExist(arn)
        return ActivityRecord(**row._mapping)

    def delete_activity(self, arn: str) -> None:
        with self._write() as conn:
            conn.execute(delete(self.tables.activities).where(self.tables.activities.c.arn == arn))

    def list_activities(self, limit: int, token: str | None = None) -> Page[ActivityRecord]:
        rows = self._page("act", self.tables.activities, limit, token)
        return Page([ActivityRecord(**r._mapping) for r in rows.items], rows.next_token)

    def _page(self, kind: str, table: Table, limit: int, token: str | None) -> Page[Any]:
        query = select(table).order_by(table.c.arn).limit(limit + 1)
        if token is not None:
            (after,) = tokens.decode(token, kind, 1)
            query = query.where(table.c.arn > after)
        with self._read() as conn:
            rows = list(conn.execute(query))
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(rows, tokens.encode(kind, rows[-1].arn) if more else None)

    # ------------------------------------------------------------------ executions

    def commit(self, changes: Sequence[Change]) -> list[StoreError | None]:
        if not changes:
            return []
        write = self._batches.commit_postgres if self._batches.pg else self._batches.commit_sqlite
        for attempt in range(3):
            try:
                with self._driver() as conn:
                    return write(conn, changes)
            except StoreError as error:
                # Another process inserted one of our new executions after our check (PostgreSQL, where
                # writers run side by side): the next attempt sees it and refuses just that change.
                if attempt == 2 or not integrity_error(error):
                    raise
        raise AssertionError("unreachable")

    def get_execution(self, arn: str) -> ExecutionRecord:
        return self._execution(self._execution_by_arn, arn)

    def describe_execution(self, arn: str) -> ExecutionRecord:
        """The execution without its snapshot, which is neither read nor decoded."""
        return self._execution(self._described_by_arn, arn)

    def _execution(self, query: Any, arn: str) -> ExecutionRecord:
        with self._read() as conn:
            row = conn.execute(query, {"arn": arn}).first()
        if row is None:
            raise ExecutionDoesNotExist(arn)
        return work.execution_record(row)

    def list_executions(
        self, state_machine_arn: str, status: str | None, limit: int, token: str | None = None
    ) -> Page[ExecutionRecord]:
        ex = self.tables.executions
        listed = [c for c in ex.c if c.name not in ("snapshot", "input", "output", "cause", "error")]
        query = select(*listed).where(ex.c.state_machine_arn == state_machine_arn)
        if status is not None:
            query = query.where(ex.c.status == status)
        if token is not None:
            start_date, arn = tokens.decode(token, "ex", 2)
            query = query.where(tuple_(ex.c.start_date, ex.c.arn) < tuple_(start_date, arn))
        query = query.order_by(ex.c.start_date.desc(), ex.c.arn.desc()).limit(limit + 1)
        with self._read() as conn:
            rows = list(conn.execute(query))
        items = [ExecutionRecord(**r._mapping, input="") for r in rows[:limit]]
        more = len(rows) > limit
        return Page(items, tokens.encode("ex", items[-1].start_date, items[-1].arn) if more else None)

    def get_history(
        self, arn: str, limit: int, token: str | None = None, *, reverse: bool = False
    ) -> Page[dict[str, Any]]:
        bound = None if token is None else tokens.decode(token, "ev", 1)[0]
        with self._read() as conn:
            rows = list(conn.execute(self._history_query(arn, bound, limit, reverse)))
            if not rows and token is None:
                self._must_exist(conn, arn)
        events = [
            e
            for row in rows
            for e in (reversed(json.loads(row.events)) if reverse else json.loads(row.events))
        ]
        if bound is not None:
            events = [e for e in events if (e["id"] < bound if reverse else e["id"] > bound)]
        items, more = events[:limit], len(events) > limit
        return Page(items, tokens.encode("ev", items[-1]["id"]) if more else None)

    def _history_query(self, arn: str, bound: int | None, limit: int, reverse: bool) -> Any:
        """The steps holding the page's events past ``bound``, found by the (arn, last event id) key.
        Each step holds one event at least, and each holds one past the bound but (backwards) the one
        holding the bound itself: ``limit + 2`` steps hold the page and tell whether more follow."""
        h = self.tables.history
        query = select(h.c.events).where(h.c.execution_arn == arn).limit(limit + 2)
        if not reverse:
            query = query.order_by(h.c.last_event_id)
            return query if bound is None else query.where(h.c.last_event_id > bound)
        query = query.order_by(h.c.last_event_id.desc())
        if bound is None:
            return query
        holding = (
            select(func.min(h.c.last_event_id))
            .where(h.c.execution_arn == arn, h.c.last_event_id >= bound)
            .scalar_subquery()
        )
        return query.where(h.c.last_event_id <= func.coalesce(holding, bound))

    def _must_exist(self, conn: Connection, arn: str) -> None:
        ex = self.tables.executions
        if conn.execute(select(ex.c.arn).where(ex.c.arn == arn)).first() is None:
            raise ExecutionDoesNotExist(arn)

    def redrive_execution(
        self, arn: str, *, owner: str | None, lease_until: float, now: float, signal: dict[str, Any]
    ) -> ExecutionRecord:
        with self._write() as conn:
            return work.redrive_execution(
                conn, self.tables, arn, owner=owner, lease_until=lease_until, now=now, signal=signal
            )

    # ------------------------------------------------------------------ signals

    def add_signal(self, execution_arn: str, body: dict[str, Any], now: float) -> int:
        with self._write() as conn:
            return work.add_signal(conn, self.tables, execution_arn, body, now)

    def fetch_signals(self, owner: str, limit: int) -> list[SignalRecord]:
        s, ex = self.tables.signals, self.tables.executions
        query = (
            select(s)
            .join(ex, ex.c.arn == s.c.execution_arn)
            .where(ex.c.owner == owner, work.running(self.tables))
            .order_by(s.c.id)
            .limit(limit)
        )
        with self._read() as conn:
            rows = list(conn.execute(query))
        return [SignalRecord(r.id, r.execution_arn, json.loads(r.body), r.created) for r in rows]

    # ------------------------------------------------------------------ timers and tasks

    def timers(self, execution_arns: Sequence[str]) -> list[TimerRecord]:
        tm = self.tables.timers
        with self._read() as conn:
            rows = list(conn.execute(select(tm).where(tm.c.execution_arn.in_(list(execution_arns)))))
        return [TimerRecord(**r._mapping) for r in rows]

    def due_timers(self, before: float, limit: int) -> list[TimerRecord]:
        tm = self.tables.timers
        query = select(tm).where(tm.c.due < before).order_by(tm.c.due).limit(limit)
        with self._read() as conn:
            return [TimerRecord(**r._mapping) for r in conn.execute(query)]

    def open_tasks(self, execution_arns: Sequence[str]) -> list[TaskRecord]:
        tk = self.tables.tasks
        query = select(tk).where(tk.c.execution_arn.in_(list(execution_arns)), tk.c.status != "CLOSED")
        with self._read() as conn:
            return [work.task_record(r) for r in conn.execute(query)]

    def get_task(self, token: str) -> TaskRecord:
        tk = self.tables.tasks
        with self._read() as conn:
            row = conn.execute(select(tk).where(tk.c.token == token)).first()
        if row is None:
            raise TaskDoesNotExist(token)
        return work.task_record(row)

    def claim_activity_task(
        self, activity_arn: str, worker: str, now: float, started: SignalFor
    ) -> TaskRecord | None:
        with self._write() as conn:
            return work.claim_activity_task(conn, self.tables, activity_arn, worker, now, started)

    def signal_task(self, token: str, now: float, signal: SignalFor, *, close: bool) -> TaskRecord:
        with self._write() as conn:
            return work.signal_task(conn, self.tables, token, now, signal, close=close)

    # ------------------------------------------------------------------ leases

    def claim_executions(
        self, owner: str, now: float, lease_until: float, limit: int
    ) -> list[ExecutionRecord]:
        with self._write() as conn:
            return work.claim_executions(conn, self.tables, owner, now, lease_until, limit)

    def renew_leases(self, owner: str, lease_until: float) -> int:
        with self._write() as conn:
            return work.renew_leases(conn, self.tables, owner, lease_until)

    def release_leases(self, owner: str, execution_arns: Sequence[str] | None = None) -> int:
        with self._write() as conn:
            return work.release_leases(conn, self.tables, owner, execution_arns)
